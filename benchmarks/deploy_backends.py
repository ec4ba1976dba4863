"""I3D R50 in mmvid, eager and compiled, against the same model exported
by ``mmvid.deployment`` (``tools/deployment/export.py``) to ONNX, OpenVINO,
TorchScript and a torch.export program, each run by its backend: ratios
against mmvid's fp32 NCDHW eager, all measured in one process,
interleaved.

Rows (model only: normalisation + backbone + head on one view of raw
uint8 pixels, ``3 x --frames x --size²``, as ``test_step`` computes it up
to the logits; random weights with random BN statistics, eval, no_grad):

- ``mmvid fp32 NCDHW eager``: the baseline (mmaction2's layout and
  precision);
- ``mmvid --fast`` (eager): :func:`~mmvid.apis.fast_path.best_fast_path`;
- ``mmvid --compile`` (fp32, channels_last_3d, frozen weights: exact);
- ``mmvid --fast --compile``: the previous one with bf16 autocast inside
  the compiled call where the CPU has native bf16;
- ``onnx (onnxruntime)``: the fp32 ONNX export (normalisation included;
  float pixels in, fixed shape) on ONNX Runtime's CPU execution provider;
- ``openvino (openvino)``: the OpenVINO IR (.xml/.bin) in f32 and, where
  the CPU has bf16, ``openvino (openvino) bf16``: the same file with the
  bf16 ``INFERENCE_PRECISION_HINT`` and the latency hint;
- ``torchscript (torchscript)``, ``exported-program (exported-program)``:
  the traced module and the ``torch.export`` program, run by torch.

ONNX, ONNX Runtime and OpenVINO are optional (``pip install
'mmvid[deploy]'``): the rows of a missing one say so. Every backend uses
the torch thread count. Every row's logits are compared with the
baseline's (cosine, top-1).

Example::

    python benchmarks/deploy_backends.py                  # I3D R50, 32x224
    python benchmarks/deploy_backends.py --frames 8 --size 112 --repeats 3
"""
import functools
import os
import sys
import tempfile
from typing import Callable, Dict, Tuple

import numpy as np
import torch

from mmvid.analysis.machine import cpu_name
from mmvid.deployment import (FORMAT_BACKEND, FORMATS, ScoresModel,
                              export_model, load_exported, require)
from mmvid.deployment.backends import openvino_core
from mmvid.deployment.check import compare_scores
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


def openvino_bf16(path: str, x: torch.Tensor) -> Callable[[], np.ndarray]:
    """The OpenVINO file compiled with the bf16 precision hint (the
    library's runner computes in f32)."""
    require('openvino', 'the openvino bf16 row')
    compiled = openvino_core().compile_model(path, 'CPU', {
        'INFERENCE_PRECISION_HINT': 'bf16', 'PERFORMANCE_HINT': 'LATENCY',
        'INFERENCE_NUM_THREADS': torch.get_num_threads()})
    return lambda: compiled(x.numpy())[0]


def exported_calls(model: torch.nn.Module, x: torch.Tensor, folder: str,
                   bf16: bool) -> Tuple[Dict[str, Callable], list]:
    """The baseline model exported by :mod:`mmvid.deployment` to every
    format at ``x``'s shape and run by its backend (and OpenVINO bf16 where
    the CPU has it), and a note on each format whose library is missing."""
    scores = ScoresModel(model).eval()
    calls, notes = {}, []
    for fmt, files in FORMATS.items():
        path = os.path.join(folder, 'i3d' + files[0])
        try:
            export_model(scores, tuple(x.shape), path, fmt, dynamic='none')
            runner = load_exported(path, FORMAT_BACKEND[fmt])
        except ImportError as err:
            notes.append(f'{fmt}: {err}')
            continue
        calls[f'{fmt} ({runner.backend})'] = functools.partial(runner, x)
        if fmt == 'openvino' and bf16:
            calls['openvino (openvino) bf16'] = openvino_bf16(path, x)
    return calls, notes


def agreement(out, ref: torch.Tensor) -> dict:
    check = compare_scores(torch.as_tensor(np.asarray(out)), ref)
    return dict(cosine=check.cosine, top1_agree=check.top1_same)


def run(args) -> dict:
    native = native_bf16('cpu')
    variants = mmvid_variants(args.config, native)
    gen = torch.Generator().manual_seed(1)
    clip = torch.randint(0, 256, (3, args.frames, args.size, args.size),
                         generator=gen, dtype=torch.uint8)
    calls = {name: logits_call(model, None if fast.compile else fast.amp,
                               clip)
             for name, (model, fast) in variants.items()}
    x = clip[None].float()  # [1, 3, T, H, W] raw pixels
    with tempfile.TemporaryDirectory() as tmp:
        extra, notes = exported_calls(variants['mmvid fp32 NCDHW eager'][0],
                                      x, tmp, native)
        calls.update(extra)
        return measure(calls, args.repeats, notes)


def measure(calls: Dict[str, Callable], repeats: int, notes: list) -> dict:
    outputs = {name: torch.as_tensor(np.asarray(call())).float()
               for name, call in calls.items()}  # compiles
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
