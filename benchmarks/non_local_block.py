"""Benchmark NonLocal3d ``attention='matmul'`` (baseline) against ``'sdpa'``.

Sizes are the I3D-R50 non-local blocks for a 32x224^2 clip (T=4 after the
stem and temporal pooling), as in the I3D NL configs: ``sub_sample=True``,
``use_scale=False``, ``norm_cfg=BN3d``, ``reduction=2``::

    layer2: x = [B, 512, 4, 28, 28]  P = 3136, P' = 784, C' = 256
    layer3: x = [B, 1024, 4, 14, 14] P = 784,  P' = 196, C' = 512

For each shape and mode, both forms are built in this process with the same
state dict and timed interleaved (matmul, sdpa, sdpa, matmul, ... after
``--warmup`` calls of each), float32, with the allocator left as it is:

- ``eval``: ``model.eval()``, forward under ``torch.no_grad()``.
- ``train``: ``model.train()``, forward + backward of a random output
  gradient w.r.t. the input and all parameters.

Times are medians over ``--repeats`` calls (on CUDA, synchronised).

Memory ("MiB") is the peak extra memory of one more call of each kind (after
one warm-up call of it), above what was allocated/resident just before the
call. It includes the call's output and, for ``train``, the input and
parameter gradients (the same for both forms), so it is the transient
working set of the call, not of the model.

- cuda: ``torch.cuda.max_memory_allocated()`` after the call (peak stats
  reset before it) minus ``torch.cuda.memory_allocated()`` before it, in
  this process.
- cpu: growth of the resident-set high-water mark, measured in a fresh
  subprocess per shape and mode (``--memory-worker``). Right before the call
  the kernel's high-water mark is reset to the current RSS (write ``5`` to
  ``/proc/self/clear_refs``, Linux >= 4.0); after it, ``VmHWM`` minus the
  ``VmRSS`` before is read from ``/proc/self/status``. The subprocess runs
  with glibc's mmap threshold pinned to 128 KiB (``MALLOC_MMAP_THRESHOLD_``)
  so every large tensor is its own mapping, unmapped when freed; a heap that
  earlier calls (e.g. the timing runs) left with free blocks would serve
  allocations without growing RSS and make a call look cheaper than it is.
  Being RSS, it also counts oneDNN/OpenMP scratch pages, at 4 KiB page
  granularity. Where ``clear_refs`` cannot be written, memory is ``n/a``.

The ``rel.diff`` column is ``|y_sdpa - y_matmul| / |y_matmul - x|`` of the
eval outputs (conv_out's BN is randomly initialised, so ``y - x`` is the
block's contribution). The ``sdpa path`` column names what the sdpa form
ran: the SDPA kernel seen in the dispatched aten ops, or for dot_product
whether ``q (k^T v) / P'`` was cheaper (``reassociated``) or not
(``explicit``, the same computation as matmul); ``gaussian`` on CPU is
``explicit`` too (its key and value widths differ, which the fused CPU kernel
does not take).

The whole NL I3D R50 (inference and a training step) is measured by
``non_local_e2e.py``.

Example::

    python benchmarks/non_local_block.py --device cpu --threads 2
"""
import argparse
import functools
import os
import platform
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

from mmvid.models.common.non_local import NonLocal3d, reassociate_is_cheaper

from benchkit import (KernelRecorder, PeakMemory, add_run_options, fmt_mib,
                      fmt_ms, fmt_ratio, interleaved_times,
                      machine_description, medians, ratio, report_to_parent,
                      run_worker, to_mib)

SHAPES = {
    'layer2': (512, 4, 28, 28),
    'layer3': (1024, 4, 14, 14),
}
MODES = ('embedded_gaussian', 'gaussian', 'dot_product')
FORMS = ('matmul', 'sdpa')
PHASES = ('eval', 'train')

Case = Tuple[str, str]  # (shape, mode)
Figures = Dict[Tuple[str, str], Optional[float]]  # (phase, form) -> value


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    add_run_options(parser, batch=8,
                    batch_help='batch of the block input (default 8)')
    parser.add_argument(
        '--modes', nargs='+', default=list(MODES),
        choices=list(MODES) + ['concatenation'])
    parser.add_argument(
        '--shapes', nargs='+', default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument(
        '--memory-worker', nargs=2, metavar=('SHAPE', 'MODE'),
        help=argparse.SUPPRESS)  # internal: one CPU memory case
    return parser.parse_args(argv)


def sdpa_path(model: NonLocal3d, x: torch.Tensor, mode: str) -> str:
    """What the sdpa form runs for this input (see module docstring)."""
    if mode == 'dot_product':
        n, c, t, h, w = x.shape
        num_q = t * h * w
        num_k = num_q // 4 if model.sub_sample else num_q
        cheaper = reassociate_is_cheaper(num_q, num_k, model.inter_channels,
                                         model.inter_channels)
        return 'reassociated' if cheaper else 'explicit'
    if mode == 'concatenation':
        return 'explicit'
    keys_width = model.in_channels if mode == 'gaussian' else \
        model.inter_channels
    if not model.fused_sdpa_applies(x.new_empty(1, keys_width),
                                    x.new_empty(1, model.inter_channels)):
        return 'explicit'  # e.g. gaussian on CPU: C key vs C' value width
    rec = KernelRecorder()
    model.eval()
    with torch.no_grad(), rec:
        model(x)
    for op in sorted(rec.ops):
        if op.startswith('_scaled_dot_product') or op.startswith('_efficient'):
            return op.replace('_scaled_dot_product_', '').replace(
                '_attention', '')
    return 'math (unfused)'  # SDPA's math kernel decomposes into aten ops


def block_inputs(shape_name: str, batch: int, device: torch.device
                 ) -> Tuple[int, torch.Tensor, torch.Tensor]:
    """``(channels, x, grad_out)`` of one shape, from a fixed seed."""
    channels, t, h, w = SHAPES[shape_name]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, t, h, w, generator=gen)
    grad_out = torch.randn(x.shape, generator=gen)
    return channels, x.to(device), grad_out.to(device)


def build_pair(channels: int, mode: str,
               device: torch.device) -> Dict[str, NonLocal3d]:
    """Both forms of one block, with the same state dict."""
    torch.manual_seed(0)
    kwargs = dict(
        sub_sample=True,
        use_scale=False,
        norm_cfg=dict(type='BN3d', requires_grad=True),
        mode=mode,
        zeros_init=False)
    models = {f: NonLocal3d(channels, attention=f, **kwargs) for f in FORMS}
    with torch.no_grad():  # non-trivial conv_out so outputs can be compared
        models['matmul'].conv_out.bn.weight.normal_(1.0, 0.1)
    models['sdpa'].load_state_dict(models['matmul'].state_dict())
    return {f: m.to(device) for f, m in models.items()}


def make_calls(x: torch.Tensor, grad_out: torch.Tensor
               ) -> Dict[str, Callable[[NonLocal3d], torch.Tensor]]:
    """One call of each phase (see the module docstring), given a block."""

    def eval_call(m):
        m.eval()
        with torch.no_grad():
            return m(x)

    def train_call(m):
        m.train()
        m.zero_grad(set_to_none=True)
        xg = x.detach().requires_grad_(True)
        out = m(xg)
        out.backward(grad_out)
        m.zero_grad(set_to_none=True)
        return out.detach()

    return dict(eval=eval_call, train=train_call)


def time_case(models: Dict[str, NonLocal3d], x: torch.Tensor,
              grad_out: torch.Tensor, args: argparse.Namespace,
              device: torch.device) -> Figures:
    """Median seconds per (phase, form), interleaving the two forms."""
    result = {}
    for phase, call in make_calls(x, grad_out).items():
        times = interleaved_times(
            {f: functools.partial(call, models[f]) for f in FORMS},
            args.repeats, args.warmup, device)
        for form, seconds in medians(times).items():
            result[phase, form] = seconds
    return result


def memory_case(models: Dict[str, NonLocal3d], x: torch.Tensor,
                grad_out: torch.Tensor, memory: PeakMemory) -> Figures:
    """Peak extra bytes per (phase, form) of one call after one warm-up."""
    result = {}
    for phase, call in make_calls(x, grad_out).items():
        for f in FORMS:
            call(models[f])
            out, peak = memory.measure(lambda: call(models[f]))
            del out
            result[phase, f] = peak
    return result


def memory_in_subprocess(shape_name: str, mode: str,
                         args: argparse.Namespace) -> Figures:
    """CPU: :func:`memory_case` in a fresh process with a pinned mmap
    threshold.

    A fresh process, because a heap that earlier (timing) calls left with
    free blocks serves later allocations without growing RSS.
    """
    argv = [os.path.abspath(__file__), '--memory-worker', shape_name, mode,
            '--batch', str(args.batch)]
    if args.threads is not None:
        argv += ['--threads', str(args.threads)]
    peaks = run_worker(argv, f'{shape_name} {mode}')
    return {(p, f): v for p, f, v in peaks}


def memory_worker(args: argparse.Namespace) -> None:
    """Subprocess entry: one (shape, mode) memory case, JSON on stdout."""
    shape_name, mode = args.memory_worker
    device = torch.device('cpu')
    channels, x, grad_out = block_inputs(shape_name, args.batch, device)
    models = build_pair(channels, mode, device)
    peaks = memory_case(models, x, grad_out, PeakMemory(device))
    report_to_parent([[p, f, v] for (p, f), v in peaks.items()])


def relative_difference(models: Dict[str, NonLocal3d],
                        x: torch.Tensor) -> float:
    """|y_sdpa - y_matmul| / |y_matmul - x| in eval mode."""
    with torch.no_grad():
        ys = {f: models[f].eval()(x) for f in FORMS}
    return ((ys['sdpa'] - ys['matmul']).norm() /
            (ys['matmul'] - x).norm()).item()


def print_table(args: argparse.Namespace, device: torch.device,
                memory_available: bool, timings: Dict[Case, Figures],
                peaks: Dict[Case, Figures], paths: Dict[Case, str],
                diffs: Dict[Case, float], total: float) -> None:
    """The report: settings, one row per (shape, mode, phase), total."""
    machine = machine_description(device)
    dev_name = machine['gpu'] or platform.processor() or platform.machine()
    print(f'NonLocal3d attention benchmark: torch {machine["torch"]}, '
          f'device {args.device} ({dev_name}), '
          f'threads {machine["torch_threads"]}, batch {args.batch}, '
          f'float32, warmup {args.warmup}, median of {args.repeats}')
    print('sub_sample=True, use_scale=False, BN3d; eval = no_grad forward, '
          'train = forward+backward; memory = peak extra MiB of one call'
          + ('' if memory_available else ' (n/a: clear_refs not writable)'))
    header = (f'{"shape":<7} {"mode":<18} {"phase":<5} {"matmul ms":>10} '
              f'{"sdpa ms":>9} {"speed-up":>8} {"matmul MiB":>10} '
              f'{"sdpa MiB":>9} {"mem ratio":>9}  {"sdpa path":<15} '
              f'{"rel.diff":>8}')
    print(header)
    print('-' * len(header))
    for case in timings:
        shape_name, mode = case
        for phase in PHASES:
            tm, ts = (timings[case][phase, f] for f in FORMS)
            mm, ms = (peaks[case][phase, f] for f in FORMS)
            rel = f'{diffs[case]:.1e}' if phase == 'eval' else ''
            print(f'{shape_name:<7} {mode:<18} {phase:<5} '
                  f'{fmt_ms(tm * 1e3):>10} {fmt_ms(ts * 1e3):>9} '
                  f'{fmt_ratio(ratio(tm, ts)):>8} {fmt_mib(to_mib(mm)):>10} '
                  f'{fmt_mib(to_mib(ms)):>9} {fmt_ratio(ratio(mm, ms)):>9}  '
                  f'{paths[case]:<15} {rel:>8}')
    print(f'total {total:.0f} s; speed-up and mem ratio are matmul / sdpa '
          '(> 1: sdpa is faster / smaller)')


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: CUDA is not available')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.memory_worker:
        return memory_worker(args)
    start = time.perf_counter()
    # Pass 1: timings, with the allocator as it is by default.
    timings, paths, diffs = {}, {}, {}
    for shape_name in args.shapes:
        channels, x, grad_out = block_inputs(shape_name, args.batch, device)
        for mode in args.modes:
            print(f'timing {shape_name} {mode}', file=sys.stderr, flush=True)
            models = build_pair(channels, mode, device)
            paths[shape_name, mode] = sdpa_path(models['sdpa'], x, mode)
            diffs[shape_name, mode] = relative_difference(models, x)
            timings[shape_name, mode] = time_case(models, x, grad_out, args,
                                                  device)
            del models
    # Pass 2: memory (CPU: one fresh subprocess per case).
    memory = PeakMemory(device)
    peaks = {}
    for shape_name in args.shapes:
        channels, x, grad_out = block_inputs(shape_name, args.batch, device)
        for mode in args.modes:
            print(f'memory {shape_name} {mode}', file=sys.stderr, flush=True)
            if device.type == 'cpu' and memory.available:
                peaks[shape_name, mode] = memory_in_subprocess(
                    shape_name, mode, args)
                continue
            models = build_pair(channels, mode, device)
            peaks[shape_name, mode] = memory_case(models, x, grad_out, memory)
            del models
    print_table(args, device, memory.available, timings, peaks, paths, diffs,
                time.perf_counter() - start)


if __name__ == '__main__':
    main()
