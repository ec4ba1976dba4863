"""Running an exported file: one runner per backend, all with the same
face (clip tensor in, scores tensor out) and the input shape and dtype
the file accepts."""
import functools
import json
import os.path as osp
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from .export import METADATA
from .optional import require
from .scores_model import INPUT_DTYPES

BACKENDS = ('onnxruntime', 'openvino', 'torchscript', 'exported-program')
# the backend that runs each export format (the export check uses it)
FORMAT_BACKEND = {'onnx': 'onnxruntime', 'openvino': 'openvino',
                  'torchscript': 'torchscript',
                  'exported-program': 'exported-program'}
ONNX_TYPES = {'tensor(float)': 'float32', 'tensor(uint8)': 'uint8'}
OPENVINO_TYPES = {'f32': 'float32', 'u8': 'uint8'}


class ExportedRunner:
    """An exported model ready to run on the CPU.

    Attributes:
        path / backend: What runs.
        input_shape: ``[N, C, T, H, W]`` it accepts, None on a free axis.
        input_dtype: ``'float32'`` or ``'uint8'``.
    """

    def __init__(self, path: str, backend: str,
                 call: Callable[[np.ndarray], np.ndarray],
                 input_shape: List[Optional[int]], input_dtype: str) -> None:
        self.path = path
        self.backend = backend
        self.input_shape = list(input_shape)
        self.input_dtype = input_dtype
        self._call = call

    @property
    def batch_size(self) -> Optional[int]:
        """The fixed batch size, or None when any batch runs."""
        return self.input_shape[0]

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ValueError naming the file and the shape it accepts when
        ``x`` does not fit."""
        ok = x.dim() == len(self.input_shape) and all(
            want is None or want == got
            for want, got in zip(self.input_shape, x.shape))
        if not ok:
            shape = ['any' if s is None else s for s in self.input_shape]
            raise ValueError(
                f'{self.path} takes clips of shape {shape} (N C T H W), got '
                f'{list(x.shape)}; export with the shape the test pipeline '
                'gives (--shape) or with --dynamic batch / all')

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T, H, W]`` pixels -> float32 scores ``[N, K]``."""
        self.check_input(x)
        x = x.to(INPUT_DTYPES[self.input_dtype]).contiguous()
        return self._call(x)


def load_exported(path: str, backend: str) -> ExportedRunner:
    """Open ``path`` with ``backend`` (one of :data:`BACKENDS`); the
    runtimes use torch's thread count and fp32.

    Raises:
        FileNotFoundError / ValueError: no such file, an unknown backend.
        ImportError: the backend's library is missing (naming the extra).
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got '
                         f'{backend!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'exported model {path}: no such file')
    return LOADERS[backend](path)


def _tensor(out) -> torch.Tensor:
    return torch.from_numpy(np.asarray(out, dtype=np.float32))


def _onnxruntime(path: str) -> ExportedRunner:
    ort = require('onnxruntime', 'the onnxruntime backend')
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(path, options,
                                   providers=['CPUExecutionProvider'])
    clip = session.get_inputs()[0]
    shape = [d if isinstance(d, int) else None for d in clip.shape]
    if clip.type not in ONNX_TYPES:
        raise ValueError(f'{path}: input type {clip.type}; mmvid exports '
                         f'take {sorted(ONNX_TYPES)}')
    return ExportedRunner(
        path, 'onnxruntime',
        lambda x: _tensor(session.run(None, {clip.name: x.numpy()})[0]),
        shape, ONNX_TYPES[clip.type])


@functools.lru_cache(maxsize=None)
def openvino_core():
    """The process's one ``openvino.Core``: every OpenVINO file is read and
    compiled by it. A second ``Core`` in the same process (a test session
    that runs several files, a benchmark beside the tool's check) can
    leave memory corrupted, and the process dies of a segmentation fault
    later, in torch code (seen with openvino 2026.4)."""
    return require('openvino', 'the openvino backend').Core()


def _openvino(path: str) -> ExportedRunner:
    require('openvino', 'the openvino backend')  # each time: a clear error
    core = openvino_core()
    model = core.read_model(path)
    port = model.inputs[0]
    shape = [d.get_length() if d.is_static else None
             for d in port.get_partial_shape()]
    kind = port.get_element_type().get_type_name()
    if kind not in OPENVINO_TYPES:
        raise ValueError(f'{path}: input type {kind}; mmvid exports take '
                         f'{sorted(OPENVINO_TYPES)}')
    # f32 inference: without the hint a CPU with bf16 computes in bf16
    compiled = core.compile_model(model, 'CPU', {
        'INFERENCE_PRECISION_HINT': 'f32',
        'INFERENCE_NUM_THREADS': torch.get_num_threads()})
    output = compiled.output(0)
    return ExportedRunner(
        path, 'openvino', lambda x: _tensor(compiled(x.numpy())[output]),
        shape, OPENVINO_TYPES[kind])


def _metadata(extra: Dict[str, str], path: str) -> dict:
    """The shape and dtype mmvid stored beside a TorchScript / torch.export
    model; a file from elsewhere gets free axes and float32."""
    meta = json.loads(extra[METADATA]) if extra.get(METADATA) else {}
    return dict(input_shape=meta.get('input_shape', [None] * 5),
                input_dtype=meta.get('input_dtype', 'float32'))


def _torchscript(path: str) -> ExportedRunner:
    extra = {METADATA: ''}
    module = torch.jit.load(path, map_location='cpu', _extra_files=extra)
    module.eval()

    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(x).float()
    return ExportedRunner(path, 'torchscript', call,
                          **_metadata(extra, path))


def _exported_program(path: str) -> ExportedRunner:
    extra = {METADATA: ''}
    module = torch.export.load(path, extra_files=extra).module()

    def call(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return module(x).float()
    return ExportedRunner(path, 'exported-program', call,
                          **_metadata(extra, path))


LOADERS = {
    'onnxruntime': _onnxruntime,
    'openvino': _openvino,
    'torchscript': _torchscript,
    'exported-program': _exported_program,
}
