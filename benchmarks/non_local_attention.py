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

Example::

    python benchmarks/non_local_attention.py --device cpu --threads 2

End to end (``--end-to-end``)
-----------------------------

The whole NL embedded-gaussian I3D R50 (``--config``, default
``i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb.py`` in
``configs/recognition/i3d/``: five ``NonLocal3d`` blocks, after
``layer2.{1,3}`` and ``layer3.{1,3,5}``), built by ``init_recognizer``
(every ``pretrained`` off, random init) in one process. ``attention`` is
switched between ``'matmul'`` and ``'sdpa'`` on every ``NonLocal3d`` of that
one model, so both forms run the same weights.
The blocks' ``conv_out`` BN weight is drawn from N(1, 0.1) (the config's
``zeros_init`` makes each block the identity, which would make the agreement
check below vacuous; the cost of a call does not depend on it).

- ``inference``: ``model.test_step`` (data preprocessor, forward, softmax
  over classes) of one ``3 x --frames x --size x --size`` uint8 view, eval
  mode, under ``torch.no_grad()``.
- ``train``: ``model.train_step`` with the config's optimizer wrapper (SGD,
  momentum 0.9, weight decay 1e-4, gradient clipping at norm 40) on a batch
  of ``--batch`` (default 2) such views with labels: preprocessing, forward,
  cross-entropy loss, backward, clipping and the SGD step.

Times: ``--warmup`` calls of each form, then ``--repeats`` calls of each,
alternating (matmul, sdpa, sdpa, matmul, ...); medians, synchronised on
CUDA. Memory: peak extra memory of one more call of each (phase, form) after
one warm-up call of it (so SGD's momentum buffers exist already; the
gradients, freed by ``zero_grad`` after each step, are counted). On CPU it
is the growth of the resident-set high-water mark over the call, measured in
a fresh subprocess per (phase, form) as for the layer-level figures above;
on CUDA ``torch.cuda.max_memory_allocated()`` in this process. Ratios are
matmul / sdpa of the figures printed.

Agreement: from the same weights, the relative error ``|a_sdpa -
a_matmul| / |a_matmul|`` of the eval logits (one view) must be below 1e-4.
The training-mode logits, loss and gradient vector (same dropout mask) of a
randomly initialised network normalised by train-mode BN over a batch of 2
are ill-conditioned in float32: moving every input value by one ulp changes
the matmul form's training logits by ~2e-4 and its gradients by ~1e-1 at the
default size. Each training quantity is therefore printed with that float32
floor (the matmul form on the input moved by one ulp in random directions,
at least float32's machine epsilon: on some CPUs the nudge changes nothing)
and must be below ``max(1e-4, 3 x floor)``. Otherwise the script exits with
status 1. The aten ops run by the eval forward show which attention kernel
each form used (an SDPA kernel should appear for ``sdpa`` only).

Example::

    python benchmarks/non_local_attention.py --end-to-end --json e2e.json
    python benchmarks/non_local_attention.py --end-to-end --size 112  # less
"""
import argparse
import gc
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import torch
from mmengine.config import DictAction
from torch.utils._python_dispatch import TorchDispatchMode

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from mmvid.models.common.non_local import (NonLocal3d,  # noqa: E402
                                           reassociate_is_cheaper)
from mmvid.analysis.machine import cpu_model, usable_cores  # noqa: E402

SHAPES = {
    'layer2': (512, 4, 28, 28),
    'layer3': (1024, 4, 14, 14),
}
MODES = ('embedded_gaussian', 'gaussian', 'dot_product')
FORMS = ('matmul', 'sdpa')
MiB = 1024.0**2


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument(
        '--batch', type=int, default=None,
        help='layer-level: batch of the block input (default 8); '
        '--end-to-end: training batch (default 2)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--modes', nargs='+', default=list(MODES),
        choices=list(MODES) + ['concatenation'])
    parser.add_argument(
        '--shapes', nargs='+', default=list(SHAPES), choices=list(SHAPES))
    parser.add_argument(
        '--threads', type=int, default=None,
        help='torch.set_num_threads (default: leave torch\'s default)')
    parser.add_argument(
        '--memory-worker', nargs=2, metavar=('SHAPE', 'MODE'),
        help=argparse.SUPPRESS)  # internal: one CPU memory case
    e2e = parser.add_argument_group(
        'end to end', 'the whole NL I3D R50 instead of single blocks')
    e2e.add_argument(
        '--end-to-end', action='store_true',
        help='time and memory of inference and one training step of the NL '
        'embedded-gaussian I3D R50, sdpa vs matmul (see the docstring)')
    e2e.add_argument('--config', default=E2E_CONFIG,
                     help='recognizer config; a relative path not found '
                     'from the current directory is taken from the '
                     'repository root (default: the NL embedded-gaussian '
                     'I3D R50)')
    e2e.add_argument('--frames', type=int, default=32)
    e2e.add_argument(
        '--size', type=int, default=224,
        help='crop height and width (below 64, layer4 of R50 is 1x1 and '
        'train-mode BN over 2 values per channel is ill-conditioned)')
    e2e.add_argument(
        '--memory', default='auto',
        choices=['auto', 'subprocess', 'inprocess', 'none'],
        help='auto: a fresh subprocess per case on CPU, in-process on CUDA; '
        'inprocess on CPU undercounts (heap reuse), for tests only')
    e2e.add_argument('--json', metavar='OUT',
                     help='also write the results to this JSON file')
    e2e.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default=None,
        help='overrides merged into the config, e.g. a smaller model')
    e2e.add_argument('--e2e-memory-worker', metavar='JSON',
                     help=argparse.SUPPRESS)  # internal: one CPU memory case
    args = parser.parse_args()
    if args.json and not args.end_to_end:
        parser.error('--json is only written with --end-to-end')
    if args.batch is None:
        args.batch = 2 if args.end_to_end else 8
    return args


class PeakMemory:
    """Peak extra memory of one call, see the module docstring."""

    def __init__(self, device: torch.device):
        self.device = device
        self.available = True
        if device.type == 'cpu':
            try:
                self._reset_hwm()
                self._status('VmHWM')
            except OSError:
                self.available = False

    @staticmethod
    def _status(key):
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) * 1024
        raise OSError(f'{key} not in /proc/self/status')

    @staticmethod
    def _reset_hwm():
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')

    def measure(self, fn):
        """Returns (result of fn(), peak extra bytes or None)."""
        if not self.available:
            return fn(), None
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            out = fn()
            torch.cuda.synchronize()
            return out, torch.cuda.max_memory_allocated() - before
        self._reset_hwm()
        before = self._status('VmRSS')
        out = fn()
        return out, self._status('VmHWM') - before


class KernelRecorder(TorchDispatchMode):
    """Names of the aten ops run."""

    def __init__(self):
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(str(func.overloadpacket.__name__))
        return func(*args, **(kwargs or {}))


def sdpa_path(model, x, mode):
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


def build_pair(channels, mode, device):
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


def make_calls(x, grad_out):
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

    return (('eval', eval_call), ('train', train_call))


def time_case(models, x, grad_out, args, sync):
    """Median seconds per (phase, form), interleaving the two forms."""
    result = {}
    for phase, call in make_calls(x, grad_out):
        for _ in range(args.warmup):
            for f in FORMS:
                call(models[f])
        times = {f: [] for f in FORMS}
        for r in range(args.repeats):
            for f in (FORMS if r % 2 == 0 else FORMS[::-1]):
                sync()
                t0 = time.perf_counter()
                call(models[f])
                sync()
                times[f].append(time.perf_counter() - t0)
        for f in FORMS:
            result[phase, f] = statistics.median(times[f])
    return result


def memory_case(models, x, grad_out, memory):
    """Peak extra bytes per (phase, form) of one call after one warm-up."""
    result = {}
    for phase, call in make_calls(x, grad_out):
        for f in FORMS:
            call(models[f])
            out, peak = memory.measure(lambda: call(models[f]))
            del out
            result[phase, f] = peak
    return result


def memory_in_subprocess(shape_name, mode, args):
    """CPU: ``memory_case`` in a fresh process with a pinned mmap threshold.

    A fresh process, because a heap that earlier (timing) calls left with
    free blocks serves later allocations without growing RSS.
    """
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--memory-worker', shape_name, mode,
        '--batch',
        str(args.batch)
    ]
    if args.threads is not None:
        cmd += ['--threads', str(args.threads)]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(128 * 1024))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f'memory worker {shape_name} {mode} failed:\n{proc.stderr}')
    peaks = json.loads(proc.stdout.strip().splitlines()[-1])
    return {(p, f): v for p, f, v in peaks}


def memory_worker(args, inputs):
    shape_name, mode = args.memory_worker
    memory = PeakMemory(torch.device('cpu'))
    channels, x, grad_out = inputs(shape_name)
    models = build_pair(channels, mode, torch.device('cpu'))
    peaks = memory_case(models, x, grad_out, memory)
    print(json.dumps([[p, f, v] for (p, f), v in peaks.items()]))


def relative_difference(models, x):
    """|y_sdpa - y_matmul| / |y_matmul - x| in eval mode."""
    with torch.no_grad():
        ys = {f: models[f].eval()(x) for f in FORMS}
    return ((ys['sdpa'] - ys['matmul']).norm() /
            (ys['matmul'] - x).norm()).item()


def fmt_mem(v):
    return 'n/a' if v is None else f'{v / MiB:.0f}'


def fmt_ratio(a, b):
    if a is None or b is None or b <= 0:
        return 'n/a'
    return f'{a / b:.2f}x'


def main():
    args = parse_args()
    if args.e2e_memory_worker:
        return e2e_memory_worker(args.e2e_memory_worker)
    if args.end_to_end:
        return e2e_main(args)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        sys.exit('--device cuda: CUDA is not available')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)

    def inputs(shape_name):
        channels, t, h, w = SHAPES[shape_name]
        gen = torch.Generator().manual_seed(0)
        x = torch.randn(args.batch, channels, t, h, w, generator=gen)
        grad_out = torch.randn(x.shape, generator=gen)
        return channels, x.to(device), grad_out.to(device)

    if args.memory_worker:
        return memory_worker(args, inputs)
    cases = [(s, m) for s in args.shapes for m in args.modes]
    start = time.perf_counter()
    # Pass 1: timings, with the allocator as it is by default.
    timings, paths, diffs = {}, {}, {}
    for shape_name in args.shapes:
        channels, x, grad_out = inputs(shape_name)
        for mode in args.modes:
            print(f'timing {shape_name} {mode}', file=sys.stderr, flush=True)
            models = build_pair(channels, mode, device)
            paths[shape_name, mode] = sdpa_path(models['sdpa'], x, mode)
            diffs[shape_name, mode] = relative_difference(models, x)
            timings[shape_name, mode] = time_case(models, x, grad_out, args,
                                                  sync)
            del models
    # Pass 2: memory (CPU: one fresh subprocess per case).
    memory = PeakMemory(device)
    peaks = {}
    for shape_name in args.shapes:
        channels, x, grad_out = inputs(shape_name)
        for mode in args.modes:
            print(f'memory {shape_name} {mode}', file=sys.stderr, flush=True)
            if device.type == 'cpu' and memory.available:
                peaks[shape_name, mode] = memory_in_subprocess(
                    shape_name, mode, args)
                continue
            models = build_pair(channels, mode, device)
            peaks[shape_name, mode] = memory_case(models, x, grad_out, memory)
            del models
    total = time.perf_counter() - start

    dev_name = (torch.cuda.get_device_name(device) if device.type == 'cuda'
                else platform.processor() or platform.machine())
    print(f'NonLocal3d attention benchmark: torch {torch.__version__}, '
          f'device {args.device} ({dev_name}), '
          f'threads {torch.get_num_threads()}, batch {args.batch}, '
          f'float32, warmup {args.warmup}, median of {args.repeats}')
    print('sub_sample=True, use_scale=False, BN3d; eval = no_grad forward, '
          'train = forward+backward; memory = peak extra MiB of one call'
          + ('' if memory.available else ' (n/a: clear_refs not writable)'))
    header = (f'{"shape":<7} {"mode":<18} {"phase":<5} {"matmul ms":>10} '
              f'{"sdpa ms":>9} {"speed-up":>8} {"matmul MiB":>10} '
              f'{"sdpa MiB":>9} {"mem ratio":>9}  {"sdpa path":<15} '
              f'{"rel.diff":>8}')
    print(header)
    print('-' * len(header))
    for case in cases:
        shape_name, mode = case
        for phase in ('eval', 'train'):
            tm, ts = (timings[case][phase, f] for f in FORMS)
            mm, ms = (peaks[case][phase, f] for f in FORMS)
            rel = f'{diffs[case]:.1e}' if phase == 'eval' else ''
            print(f'{shape_name:<7} {mode:<18} {phase:<5} '
                  f'{tm * 1e3:>10.1f} {ts * 1e3:>9.1f} '
                  f'{fmt_ratio(tm, ts):>8} {fmt_mem(mm):>10} '
                  f'{fmt_mem(ms):>9} {fmt_ratio(mm, ms):>9}  '
                  f'{paths[case]:<15} {rel:>8}')
    print(f'total {total:.0f} s; speed-up and mem ratio are matmul / sdpa '
          '(> 1: sdpa is faster / smaller)')


# --------------------------------------------------------------------------
# --end-to-end: the whole NL embedded-gaussian I3D R50
# --------------------------------------------------------------------------
E2E_CONFIG = os.path.join(
    'configs', 'recognition', 'i3d',
    'i3d_nl_embedded_gaussian_r50_32x2x1_100e_kinetics400_rgb.py')
PHASES = ('inference', 'train')
TOLERANCE = 1e-4  # relative error the two forms must agree to
FLOOR_FACTOR = 3  # training outputs: or to this many times their fp32 floor
# The least float32 floor: float32's machine epsilon. Two float32 results
# cannot be told apart more finely than that, and the one-ulp nudge does not
# always move the outputs: on some CPUs' kernels it measured exactly 0 (seen
# on an Intel Sapphire Rapids), which is no floor to compare against.
MIN_FLOOR = torch.finfo(torch.float32).eps
MMAP_THRESHOLD = 128 * 1024  # glibc mmap threshold of the CPU memory worker


@dataclass
class E2ESettings:
    """What :func:`run_end_to_end` builds and runs (see the docstring)."""
    config: str = E2E_CONFIG  # relative: to the cwd, else to the repo root
    cfg_options: Optional[dict] = None
    device: str = 'cpu'
    frames: int = 32
    size: int = 224
    batch: int = 2  # training batch; inference is always one view
    warmup: int = 1
    repeats: int = 3
    threads: Optional[int] = None
    memory: str = 'auto'  # 'auto' | 'subprocess' | 'inprocess' | 'none'

    def config_path(self) -> str:
        if os.path.isabs(self.config) or os.path.exists(self.config):
            return self.config
        return os.path.join(REPO, self.config)


def default_attention() -> str:
    """``NonLocal3d``'s default ``attention`` (what configs get)."""
    return inspect.signature(NonLocal3d).parameters['attention'].default


def machine_description(device: torch.device) -> dict:
    """CPU name, logical cores, torch version and threads (+ GPU name)."""
    info = dict(cpu=cpu_model(), logical_cores=os.cpu_count(),
                usable_cores=usable_cores(),
                torch=torch.__version__, torch_threads=torch.get_num_threads(),
                device=device.type, gpu=None)
    if device.type == 'cuda':
        info['gpu'] = torch.cuda.get_device_name(device)
    return info


def set_attention(blocks, form: str) -> None:
    """``attention = form`` on every ``NonLocal3d``."""
    for block in blocks:
        block.attention = form


def build_e2e(settings: E2ESettings):
    """The recognizer (random init, eval), its NonLocal3d blocks, the
    config's optimizer wrapper, the attention the blocks were built with,
    and the inputs (one inference view, one training batch)."""
    from mmengine.optim import build_optim_wrapper

    from mmvid.apis.inference import init_recognizer, load_config
    from mmvid.structures import ActionDataSample
    from mmvid.utils import register_all_modules

    register_all_modules()
    cfg = load_config(settings.config_path(), settings.cfg_options)
    torch.manual_seed(0)
    model = init_recognizer(cfg, None, device=settings.device)
    blocks = [m for m in model.modules() if isinstance(m, NonLocal3d)]
    if not blocks:
        raise ValueError(f'{settings.config} builds no NonLocal3d block')
    built_as = sorted({b.attention for b in blocks})
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():  # non-identity blocks, see the docstring
        for block in blocks:
            if block.conv_out.with_norm:
                weight = block.conv_out.norm.weight
                new = 1.0 + 0.1 * torch.randn(weight.shape, generator=gen)
            else:
                weight = block.conv_out.conv.weight
                fan_in = weight[0].numel()
                new = torch.randn(weight.shape, generator=gen) * fan_in**-0.5
            weight.copy_(new.to(weight.device))
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)

    shape = (1, 3, settings.frames, settings.size, settings.size)

    def view():
        return torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)

    num_classes = model.cls_head.num_classes
    labels = torch.randint(0, num_classes, (settings.batch, ), generator=gen)
    batches = dict(
        inference=dict(inputs=[view()], data_samples=[ActionDataSample()]),
        train=dict(
            inputs=[view() for _ in range(settings.batch)],
            data_samples=[
                ActionDataSample().set_gt_label(int(label))
                for label in labels
            ]))
    return model, blocks, optim_wrapper, built_as, batches


def e2e_calls(model, optim_wrapper, batches) -> dict:
    """One call of each phase (see the docstring)."""

    def inference():
        model.eval()
        with torch.no_grad():
            return model.test_step(batches['inference'])

    def train():
        model.train()
        return model.train_step(batches['train'], optim_wrapper)

    return dict(inference=inference, train=train)


def weight_layout(model) -> str:
    """``'channels_last_3d'`` or ``'contiguous'``: the layout of the first
    5-D weight (a recognizer may convert its backbone)."""
    for param in model.parameters():
        if param.dim() == 5:
            if param.is_contiguous(memory_format=torch.channels_last_3d) \
                    and not param.is_contiguous():
                return 'channels_last_3d'
            return 'contiguous'
    return 'contiguous'


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``|a - b| / |b|`` in float64."""
    a, b = a.detach().double(), b.detach().double()
    return ((a - b).norm() / b.norm()).item()


def attention_kernels(ops) -> list:
    """The SDPA kernels among recorded aten op names."""
    return sorted(op for op in ops
                  if op.startswith(('_scaled_dot_product', '_efficient_att',
                                    '_flash_att', '_cudnn_att')))


def one_ulp_away(x: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """``x`` with every value moved to a neighbouring float (random side)."""
    gen = torch.Generator().manual_seed(seed)
    up = torch.rand(x.shape, generator=gen).to(x.device) < 0.5
    inf = torch.tensor(float('inf'), dtype=x.dtype, device=x.device)
    return torch.where(up, torch.nextafter(x, inf), torch.nextafter(x, -inf))


def e2e_agreement(model, blocks, batches) -> dict:
    """Both forms from the same weights: eval logits of the inference view;
    training-mode logits (same dropout mask), loss and gradients of the
    training batch, with their float32 floor; and the SDPA kernels each
    form's eval forward ran. Restores the weights and BN statistics.

    See the module docstring for what must hold.
    """
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    data_eval = model.data_preprocessor(batches['inference'], False)
    data_train = model.data_preprocessor(batches['train'], True)
    kernels, eval_logits = {}, {}
    model.eval()
    for form in FORMS:  # eval first: training forwards update BN statistics
        set_attention(blocks, form)
        rec = KernelRecorder()
        with torch.no_grad(), rec:
            feats = model.extract_feat(data_eval['inputs'])
        with torch.no_grad():
            eval_logits[form] = model.cls_head(feats)
        kernels[form] = attention_kernels(rec.ops)

    captured = []

    def train_outputs(form, inputs):
        set_attention(blocks, form)
        model.load_state_dict(saved)
        model.train()
        model.zero_grad(set_to_none=True)
        captured.clear()
        torch.manual_seed(0)  # the same dropout mask
        loss, _ = model.parse_losses(
            model(inputs, data_train['data_samples'], mode='loss'))
        loss.backward()
        grads = torch.cat([
            p.grad.detach().flatten() for p in model.parameters()
            if p.grad is not None
        ])
        model.zero_grad(set_to_none=True)
        return dict(train_logits=captured[0], train_loss=loss.detach(),
                    train_gradients=grads)

    hook = model.cls_head.register_forward_hook(
        lambda module, args, out: captured.append(out.detach()))
    try:
        train = {f: train_outputs(f, data_train['inputs']) for f in FORMS}
        nudged = train_outputs('matmul', one_ulp_away(data_train['inputs']))
    finally:
        hook.remove()
    model.load_state_dict(saved)
    model.eval()
    errors = dict(eval_logits=relative_error(eval_logits['sdpa'],
                                             eval_logits['matmul']))
    measured, floor, limits = {}, {}, dict(eval_logits=TOLERANCE)
    for name in train['matmul']:
        errors[name] = relative_error(train['sdpa'][name],
                                      train['matmul'][name])
        measured[name] = relative_error(nudged[name], train['matmul'][name])
        floor[name] = max(measured[name], MIN_FLOOR)
        limits[name] = max(TOLERANCE, FLOOR_FACTOR * floor[name])
    return dict(
        relative_errors=errors,
        measured_floor=measured,
        float32_floor=floor,
        min_floor=MIN_FLOOR,
        limits=limits,
        tolerance=TOLERANCE,
        floor_factor=FLOOR_FACTOR,
        agree=all(errors[k] < limits[k] for k in errors),
        attention_kernels=kernels,
        kernels_as_expected=(not kernels['matmul'] and bool(kernels['sdpa'])))


def e2e_times(model, blocks, optim_wrapper, batches, settings, sync) -> dict:
    """Per phase and form, the seconds of every timed call (alternating)."""
    calls = e2e_calls(model, optim_wrapper, batches)
    times = {}
    for phase in PHASES:
        call = calls[phase]
        for _ in range(settings.warmup):
            for form in FORMS:
                set_attention(blocks, form)
                call()
        times[phase] = {form: [] for form in FORMS}
        for r in range(settings.repeats):
            for form in (FORMS if r % 2 == 0 else FORMS[::-1]):
                set_attention(blocks, form)
                sync()
                start = time.perf_counter()
                call()
                sync()
                times[phase][form].append(time.perf_counter() - start)
    return times


def e2e_memory_case(model, blocks, optim_wrapper, batches, phase, form,
                    memory: PeakMemory) -> Optional[int]:
    """Peak extra bytes of one call after one warm-up call of it."""
    set_attention(blocks, form)
    call = e2e_calls(model, optim_wrapper, batches)[phase]
    call()
    gc.collect()
    if memory.device.type == 'cuda':
        torch.cuda.empty_cache()
    out, peak = memory.measure(call)
    del out
    return peak


def e2e_memory_worker(spec: str) -> None:
    """Subprocess entry: one (phase, form) memory case, JSON on stdout."""
    spec = json.loads(spec)
    phase, form = spec.pop('phase'), spec.pop('form')
    settings = E2ESettings(**spec)
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    memory = PeakMemory(torch.device(settings.device))
    model, blocks, optim_wrapper, _, batches = build_e2e(settings)
    peak = e2e_memory_case(model, blocks, optim_wrapper, batches, phase, form,
                           memory)
    print(json.dumps(dict(peak=peak)))


def e2e_memory_in_subprocess(settings: E2ESettings, phase: str,
                             form: str) -> Optional[int]:
    """CPU: :func:`e2e_memory_case` in a fresh process with glibc's mmap
    threshold pinned (see the layer-level memory notes)."""
    spec = dict(asdict(settings), phase=phase, form=form)
    cmd = [
        sys.executable,
        os.path.abspath(__file__), '--e2e-memory-worker',
        json.dumps(spec)
    ]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'memory worker {phase} {form} failed:\n'
                           f'{proc.stderr[-4000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])['peak']


def ratio(a, b) -> Optional[float]:
    """``a / b``, None where either is missing or ``b <= 0``."""
    if a is None or b is None or b <= 0:
        return None
    return a / b


def run_end_to_end(settings: E2ESettings,
                   log: Callable[[str], None] = lambda msg: print(
                       msg, file=sys.stderr, flush=True)) -> dict:
    """Measure both attention forms on the whole recognizer.

    Returns a JSON-ready dict: ``machine``, ``settings``, ``model`` (the
    blocks and the attention they were built with), per phase ``ms``
    (median per form), ``ratio`` (matmul / sdpa of ``ms``), ``memory_mib``
    and ``memory_ratio``, the raw ``times_ms``, and ``agreement``.
    """
    device = torch.device(settings.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available')
    for name in ('frames', 'size', 'batch', 'repeats'):
        if getattr(settings, name) < 1:
            raise ValueError(f'{name} must be >= 1')
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    sync = torch.cuda.synchronize if device.type == 'cuda' else (lambda: None)
    start = time.perf_counter()

    log('building the model')
    model, blocks, optim_wrapper, built_as, batches = build_e2e(settings)
    model_info = dict(
        config=settings.config,
        nonlocal_blocks=len(blocks),
        nonlocal_names=[n for n, m in model.named_modules()
                        if isinstance(m, NonLocal3d)],
        built_with_attention=built_as,
        default_attention=default_attention(),
        memory_format=weight_layout(model),
        parameters=sum(p.numel() for p in model.parameters()))
    log('checking that the two forms agree')
    agreement = e2e_agreement(model, blocks, batches)
    log('timing')
    times = e2e_times(model, blocks, optim_wrapper, batches, settings, sync)

    memory = PeakMemory(device)
    mode = settings.memory
    if mode == 'auto':
        mode = 'subprocess' if device.type == 'cpu' else 'inprocess'
    if mode == 'subprocess' and device.type != 'cpu':
        mode = 'inprocess'  # CUDA statistics are per process and exact
    if not memory.available:
        mode = 'none'
    peaks = {p: {f: None for f in FORMS} for p in PHASES}
    if mode == 'inprocess':
        for phase in PHASES:
            for form in FORMS:
                log(f'memory {phase} {form}')
                peaks[phase][form] = e2e_memory_case(
                    model, blocks, optim_wrapper, batches, phase, form, memory)
    del model, blocks, optim_wrapper, batches
    gc.collect()
    if mode == 'subprocess':
        for phase in PHASES:
            for form in FORMS:
                log(f'memory {phase} {form} (subprocess)')
                peaks[phase][form] = e2e_memory_in_subprocess(
                    settings, phase, form)

    memory_kind = dict(
        subprocess='CPU: growth of peak RSS over one call, fresh subprocess '
        f'per case, MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD}',
        inprocess=('CUDA: max_memory_allocated over one call minus '
                   'memory_allocated before it' if device.type == 'cuda' else
                   'CPU: growth of peak RSS over one call, in this process '
                   '(undercounts: heap reuse)'),
        none='not measured')[mode]
    result = dict(
        machine=machine_description(device),
        settings=asdict(settings),
        dtype='float32',
        model=model_info,
        memory_kind=memory_kind,
        agreement=agreement)
    for phase in PHASES:
        ms = {f: statistics.median(times[phase][f]) * 1e3 for f in FORMS}
        mib = {f: None if peaks[phase][f] is None else peaks[phase][f] / MiB
               for f in FORMS}
        result[phase] = dict(
            ms=ms,
            ratio=ratio(ms['matmul'], ms['sdpa']),
            memory_mib=mib,
            memory_ratio=ratio(mib['matmul'], mib['sdpa']),
            times_ms={f: [t * 1e3 for t in times[phase][f]] for f in FORMS})
    result['total_s'] = time.perf_counter() - start
    return result


def fmt_ms(v: float) -> str:
    return f'{v:.1f}'


def fmt_ratio_value(v: Optional[float]) -> str:
    return 'n/a' if v is None else f'{v:.2f}x'


def fmt_mib(v: Optional[float]) -> str:
    return 'n/a' if v is None else f'{v:.0f}'


def format_end_to_end(result: dict) -> str:
    """The printed report of :func:`run_end_to_end`'s result."""
    m, st, mod = result['machine'], result['settings'], result['model']
    agr = result['agreement']
    dev = m['device'] + (f' ({m["gpu"]})' if m['gpu'] else '')
    names = ', '.join(n.replace('backbone.', '')
                      for n in mod['nonlocal_names'])
    view = f'3x{st["frames"]}x{st["size"]}x{st["size"]}'
    lines = [
        'NonLocal3d end-to-end benchmark: attention=\'matmul\' (baseline) '
        'vs \'sdpa\'',
        f'machine: {m["cpu"]}, {m["logical_cores"]} logical cores '
        f'({m["usable_cores"]} usable), torch {m["torch"]}, '
        f'{m["torch_threads"]} threads, device {dev}',
        f'model: {mod["config"]}' + (
            f' with {st["cfg_options"]}' if st['cfg_options'] else '') +
        f'; random init, {mod["parameters"] / 1e6:.1f} M parameters, '
        f'{result["dtype"]}, weights {mod["memory_format"]}',
        f'non-local blocks: {mod["nonlocal_blocks"]} '
        f'({names}), built with attention='
        f'{"/".join(mod["built_with_attention"])}; '
        f'NonLocal3d default: {mod["default_attention"]}',
        f'inference: test_step of 1 view {view}, eval, no_grad; '
        f'train: train_step (forward, loss, backward, clip, SGD) of batch '
        f'{st["batch"]} x {view}',
        f'warmup {st["warmup"]} per form, median of {st["repeats"]} '
        'alternating calls per form',
        f'memory: peak extra MiB of one call ({result["memory_kind"]})',
    ]
    header = (f'{"phase":<10} {"matmul ms":>10} {"sdpa ms":>10} '
              f'{"matmul/sdpa":>11} {"matmul MiB":>10} {"sdpa MiB":>9} '
              f'{"matmul/sdpa":>11}')
    lines += [header, '-' * len(header)]
    for phase in PHASES:
        r = result[phase]
        lines.append(
            f'{phase:<10} {fmt_ms(r["ms"]["matmul"]):>10} '
            f'{fmt_ms(r["ms"]["sdpa"]):>10} {fmt_ratio_value(r["ratio"]):>11} '
            f'{fmt_mib(r["memory_mib"]["matmul"]):>10} '
            f'{fmt_mib(r["memory_mib"]["sdpa"]):>9} '
            f'{fmt_ratio_value(r["memory_ratio"]):>11}')
    err, floor, lim = (agr[k] for k in ('relative_errors', 'float32_floor',
                                        'limits'))
    lines.append(
        'agreement, relative error sdpa vs matmul: eval logits '
        f'{err["eval_logits"]:.1e} (< {lim["eval_logits"]:.0e}); training, '
        'with the float32 floor (matmul, input moved by one ulp) and limit '
        f'max({agr["tolerance"]:.0e}, {agr["floor_factor"]} x floor):')
    lines.append('  ' + '; '.join(
        f'{name.replace("train_", "")} {err[name]:.1e} (floor '
        f'{floor[name]:.1e}, < {lim[name]:.1e})' for name in floor) +
        f' -> {"ok" if agr["agree"] else "FAILED"}')
    kernels = agr['attention_kernels']
    lines.append(
        'attention kernels seen: matmul: '
        f'{", ".join(kernels["matmul"]) or "none (explicit matmul/softmax)"}'
        f'; sdpa: {", ".join(kernels["sdpa"]) or "none (math fallback)"}'
        + ('' if agr['kernels_as_expected'] else '  <- UNEXPECTED'))
    lines.append(f'total {result["total_s"]:.0f} s; ratios are matmul / sdpa '
                 '(> 1: sdpa is faster / smaller)')
    return '\n'.join(lines)


def e2e_main(args) -> None:
    settings = E2ESettings(
        config=args.config,
        cfg_options=args.cfg_options,
        device=args.device,
        frames=args.frames,
        size=args.size,
        batch=args.batch,
        warmup=args.warmup,
        repeats=args.repeats,
        threads=args.threads,
        memory=args.memory)
    result = run_end_to_end(settings)
    print(format_end_to_end(result))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    if not result['agreement']['agree']:
        sys.exit('the two attention forms disagree beyond '
                 f'{TOLERANCE:.0e} (see above)')


if __name__ == '__main__':
    main()
