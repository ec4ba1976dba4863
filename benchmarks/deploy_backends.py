"""I3D R50 in mmvid, eager and compiled, against the same model exported to
ONNX and run by ONNX Runtime and OpenVINO: ratios against mmvid's fp32
NCDHW eager, all measured in one process, interleaved.

Rows (model only: normalisation + backbone + head on one view of raw
uint8 pixels, ``3 x --frames x --size²``, as ``test_step`` computes it up
to the logits; random weights with random BN statistics, eval, no_grad):

- ``mmvid fp32 NCDHW eager``: the baseline (mmaction2's layout and
  precision);
- ``mmvid --fast`` (eager): :func:`~mmvid.apis.fast_path.best_fast_path`;
- ``mmvid --compile`` (fp32, channels_last_3d, frozen weights: exact);
- ``mmvid --fast --compile``: the previous one with bf16 autocast inside
  the compiled call where the CPU has native bf16;
- ``onnxruntime``: the fp32 ONNX export (normalisation included; float
  pixels in) on the CPU execution provider;
- ``openvino f32`` and, where the CPU has bf16, ``openvino bf16``: the
  same ONNX file compiled by OpenVINO with that ``INFERENCE_PRECISION_HINT``
  and the latency hint.

ONNX Runtime and OpenVINO are optional: rows of a runtime that is not
installed say so (``pip install onnx onnxscript onnxruntime openvino`` in a
separate venv beside mmvid; they are no dependency of mmvid or its tests).
Every backend uses the torch thread count. Every row's logits are compared
with the baseline's (cosine, top-1).

Example::

    python benchmarks/deploy_backends.py                  # I3D R50, 32x224
    python benchmarks/deploy_backends.py --frames 8 --size 112 --repeats 3
"""
import importlib.util
import os
import sys
import tempfile
from typing import Callable, Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from mmvid.analysis.machine import cpu_name
from mmvid.apis.fast_path import (FastPath, apply_fast_path, best_fast_path,
                                  native_bf16)
from mmvid.utils import register_all_modules

from benchkit import (interleaved_times, machine_description, medians,
                      ratio, write_json)
from fast_path_speedup import (build, logits_call, randomize_bn_,
                               table, view_parser)

def mmvid_variants(config: str, native: bool
                   ) -> Dict[str, Tuple[torch.nn.Module, FastPath]]:
    """The mmvid rows: ``{name: (model, its fast path)}``, one set of
    weights."""
    base = build(config, 'contiguous', torch.device('cpu')).eval()
    randomize_bn_(base)
    state = base.state_dict()
    variants = {'mmvid fp32 NCDHW eager': (base, FastPath())}
    for name, fast in (
            ('mmvid --fast (eager)', best_fast_path('cpu')),
            ('mmvid --compile (fp32)', FastPath(channels_last=True,
                                                compile=True)),
            ('mmvid --fast --compile',
             FastPath('bf16' if native else None, True, False, True))):
        model = build(config, 'channels_last_3d', torch.device('cpu'),
                      state)
        apply_fast_path(model, fast, log=print)
        variants[name] = (model, fast)
    return variants


class Exported(torch.nn.Module):
    """What is exported: raw pixels ``[1, 3, T, H, W]`` (float, 0-255) ->
    the preprocessor's normalisation -> backbone -> head logits, so that
    the runtimes do the same work as mmvid's rows."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        pre = model.data_preprocessor
        self.register_buffer('mean', pre.mean.clone())  # [C, 1, 1, 1]
        self.register_buffer('std', pre.std.clone())
        self.backbone, self.head = model.backbone, model.cls_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone((x - self.mean) / self.std))


def export_onnx(model: torch.nn.Module, x: torch.Tensor, path: str) -> None:
    """The fp32 NCDHW eager model, normalisation included, to ONNX."""
    net = Exported(model).eval()
    try:
        torch.onnx.export(net, (x, ), path, input_names=['clip'],
                          output_names=['logits'], dynamo=True,
                          verbose=False)
    except ImportError:  # no onnxscript: the TorchScript exporter
        torch.onnx.export(net, (x, ), path, input_names=['clip'],
                          output_names=['logits'], dynamo=False,
                          opset_version=17)


def runtime_calls(path: str, x: np.ndarray, threads: int, bf16: bool
                  ) -> Tuple[Dict[str, Callable[[], np.ndarray]], list]:
    """Calls of the installed runtimes on the ONNX file, and the notes on
    the missing ones."""
    calls, notes = {}, []
    if importlib.util.find_spec('onnxruntime'):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        session = ort.InferenceSession(path, options,
                                       providers=['CPUExecutionProvider'])
        name = session.get_inputs()[0].name
        calls[f'onnxruntime {ort.__version__}'] = \
            lambda: session.run(None, {name: x})[0]
    else:
        notes.append('onnxruntime: not installed (pip install onnxruntime)')
    if importlib.util.find_spec('openvino'):
        import openvino as ov
        core = ov.Core()
        for hint in ('f32', 'bf16') if bf16 else ('f32', ):
            compiled = core.compile_model(path, 'CPU', {
                'INFERENCE_PRECISION_HINT': hint,
                'PERFORMANCE_HINT': 'LATENCY',
                'INFERENCE_NUM_THREADS': threads})
            calls[f'openvino {ov.__version__.split("-")[0]} {hint}'] = \
                (lambda c=compiled: c(x)[0])
    else:
        notes.append('openvino: not installed (pip install openvino)')
    return calls, notes


def agreement(out, ref: torch.Tensor) -> dict:
    out = torch.as_tensor(np.asarray(out) if not isinstance(
        out, torch.Tensor) else out).float()
    return dict(cosine=F.cosine_similarity(out.flatten(1),
                                           ref.flatten(1)).min().item(),
                top1_agree=bool((out.argmax(1) == ref.argmax(1)).all()))


def run(args) -> dict:
    native = native_bf16('cpu')
    variants = mmvid_variants(args.config, native)
    gen = torch.Generator().manual_seed(1)
    clip = torch.randint(0, 256, (3, args.frames, args.size, args.size),
                         generator=gen, dtype=torch.uint8)
    calls = {name: logits_call(model, None if fast.compile else fast.amp,
                               clip)
             for name, (model, fast) in variants.items()}
    notes = []
    if importlib.util.find_spec('onnx'):
        x = clip[None].float()  # [1, 3, T, H, W] raw pixels
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'i3d.onnx')
            export_onnx(variants['mmvid fp32 NCDHW eager'][0], x, path)
            extra, notes = runtime_calls(path, x.numpy(),
                                         torch.get_num_threads(), native)
            calls.update(extra)
            return measure(calls, args.repeats, notes)
    notes.append('ONNX export: onnx is not installed (pip install onnx '
                 'onnxscript); no runtime rows')
    return measure(calls, args.repeats, notes)


def measure(calls: Dict[str, Callable], repeats: int, notes: list) -> dict:
    outputs = {name: call() for name, call in calls.items()}  # compiles
    seconds = medians(interleaved_times(calls, repeats))
    base = 'mmvid fp32 NCDHW eager'
    ref = outputs[base].float()
    rows = {name: dict(seconds=seconds[name],
                       speedup=ratio(seconds[base], seconds[name]),
                       **agreement(outputs[name], ref))
            for name in calls}
    return dict(rows=rows, notes=notes)


def main(argv=None) -> int:
    args = view_parser(__doc__, repeats=7).parse_args(argv)
    register_all_modules()
    machine = machine_description('cpu')
    print(f'cpu: {cpu_name()}, {machine["torch_threads"]} threads; native '
          f'bf16: {"yes" if native_bf16("cpu") else "no"}; torch '
          f'{machine["torch"]}')
    print(f'model: {args.config} (random weights); one view 1x3x'
          f'{args.frames}x{args.size}x{args.size}; median of {args.repeats} '
          'after a warm-up call (which compiles)')
    result = run(args)
    for note in result['notes']:
        print(note)
    print('\n'.join(table('normalisation + backbone + head, one view (vs '
                          'mmvid fp32 NCDHW eager):', result['rows'])))
    write_json(args.json, dict(machine=machine, **result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
