"""Writing a :class:`~mmvid.deployment.scores_model.ScoresModel` to one
of four formats, atomically: every file is written in a hidden folder
beside the target, then renamed into place."""
import json
import os
import os.path as osp
import shutil
import warnings
from typing import Dict, List, Optional, Sequence

import torch

from mmvid.checkpoint.durable import commit_partial
from .optional import require
from .scores_model import INPUT_DTYPES, ScoresModel

# format -> the file names it writes (the first is the one to name)
FORMATS: Dict[str, tuple] = {
    'onnx': ('.onnx', ),
    'openvino': ('.xml', '.bin'),
    'torchscript': ('.pt', ),
    'exported-program': ('.pt2', ),
}
DYNAMIC = ('none', 'batch', 'all')
METADATA = 'mmvid_export.json'  # TorchScript / torch.export extra file


def output_files(path: str, fmt: str) -> List[str]:
    """The files ``fmt`` writes for ``path`` (OpenVINO: ``.xml`` and its
    ``.bin``).

    Raises:
        ValueError: an unknown format, or ``path`` lacks its extension.
    """
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {tuple(FORMATS)}, got '
                         f'{fmt!r}')
    ext = FORMATS[fmt][0]
    if not path.endswith(ext):
        raise ValueError(f'a {fmt} file name ends with {ext}, got {path}')
    stem = path[:-len(ext)]
    return [stem + e for e in FORMATS[fmt]]


def dynamic_dims(dynamic: str) -> Sequence[int]:
    """Axes of ``[N, C, T, H, W]`` left free by ``dynamic``: ``'none'``,
    ``'batch'`` (N) or ``'all'`` (N, T, H, W; channels stay fixed)."""
    if dynamic not in DYNAMIC:
        raise ValueError(f'dynamic must be one of {DYNAMIC}, got '
                         f'{dynamic!r}')
    return {'none': (), 'batch': (0, ), 'all': (0, 2, 3, 4)}[dynamic]


def export_model(model: ScoresModel, shape: Sequence[int], path: str,
                 fmt: str, dynamic: str = 'batch',
                 force: bool = False) -> List[str]:
    """Export ``model`` traced on a random clip of ``shape``.

    Args:
        model: The eval-mode scores model (NCDHW weights export most
            simply: build the recognizer with ``memory_format='contiguous'``).
        shape: ``(N, C, T, H, W)`` of the example clip.
        path: The file to write (``.onnx``, ``.xml``, ``.pt``, ``.pt2``).
        fmt: One of :data:`FORMATS`.
        dynamic: Which axes the exported model accepts at any size
            (:func:`dynamic_dims`); the others must equal ``shape``'s.
        force: Replace existing files.

    Returns:
        The files written.

    Raises:
        FileExistsError: a target exists and ``force`` is False.
        ImportError: the format's library is missing (naming the extra).
    """
    files = output_files(path, fmt)
    shape = tuple(int(s) for s in shape)
    if len(shape) != 5 or min(shape) < 1:
        raise ValueError('shape must be 5 positive sizes N C T H W, got '
                         f'{shape}')
    free = dynamic_dims(dynamic)
    existing = [f for f in files if osp.exists(f)]
    if existing and not force:
        raise FileExistsError(f'{existing[0]} exists; pass --force '
                              '(force=True) to replace it')
    # a free axis traced at size 1 would be specialised to 1: trace at 2
    example = _example([max(2, s) if i == 0 and free else s
                        for i, s in enumerate(shape)], model.input_dtype)
    meta = dict(format=fmt, input_dtype=model.input_dtype,
                input_shape=[None if i in free else s
                             for i, s in enumerate(shape)],
                num_classes=model.num_classes)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = osp.join(folder, f'.{osp.basename(path)}.partial-{os.getpid()}')
    os.makedirs(tmp, exist_ok=True)
    try:
        staged = [osp.join(tmp, osp.basename(f)) for f in files]
        model = model.eval()
        with torch.no_grad():
            WRITERS[fmt](model, example, staged[0], free, meta)
        for src, dst in zip(staged[::-1], files[::-1]):  # .bin before .xml
            commit_partial(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return files


def _example(shape: Sequence[int], input_dtype: str) -> torch.Tensor:
    gen = torch.Generator().manual_seed(0)
    clip = torch.randint(0, 256, tuple(shape), generator=gen,
                         dtype=torch.uint8)
    return clip.to(INPUT_DTYPES[input_dtype])


def _export_dims(free: Sequence[int]) -> Optional[tuple]:
    """``torch.export`` dynamic shapes of the one input (None: static): a
    named batch dimension, and for the clip axes ``Dim.DYNAMIC``, whose
    range ``torch.export`` infers from the network (a size where the
    backbone's last feature map would shrink to 1 position is outside it
    when the traced clip's is larger)."""
    if not free:
        return None
    return ({axis: torch.export.Dim('batch') if axis == 0
             else torch.export.Dim.DYNAMIC for axis in free}, )


def _write_onnx(model, example, path, free, meta) -> None:
    require('onnx', 'ONNX export')
    require('onnxscript', 'ONNX export')
    torch.onnx.export(model, (example, ), path, input_names=['clip'],
                      output_names=['scores'], dynamo=True,
                      dynamic_shapes=_export_dims(free),
                      external_data=False, verbose=False)


def _write_openvino(model, example, path, free, meta) -> None:
    ov = require('openvino', 'OpenVINO export')
    onnx_path = osp.splitext(path)[0] + '.onnx'
    _write_onnx(model, example, onnx_path, free, meta)
    # fp32 weights: the check compares with eager fp32
    ov.save_model(ov.convert_model(onnx_path), path, compress_to_fp16=False)
    os.remove(onnx_path)


def _write_torchscript(model, example, path, free, meta) -> None:
    with warnings.catch_warnings():  # torch.jit is deprecated; still runs
        warnings.simplefilter('ignore')
        traced = torch.jit.trace(model, (example, ))
        torch.jit.save(traced, path,
                       _extra_files={METADATA: json.dumps(meta)})


def _write_exported_program(model, example, path, free, meta) -> None:
    program = torch.export.export(
        model, (example, ), dynamic_shapes=_export_dims(free))
    torch.export.save(program, path, extra_files={METADATA: json.dumps(meta)})


WRITERS = {
    'onnx': _write_onnx,
    'openvino': _write_openvino,
    'torchscript': _write_torchscript,
    'exported-program': _write_exported_program,
}
