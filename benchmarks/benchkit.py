"""What the benchmark scripts share: the options of a timed run,
interleaved timing with medians, the peak extra memory of one call (in this
process or in a fresh subprocess), the aten ops a call runs, the machine
description, ratios and their formatting, and atomic JSON writing.

The scripts import it as a sibling module: ``python benchmarks/<script>.py``
puts ``benchmarks/`` first on ``sys.path``.
"""
import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
from time import perf_counter
from typing import (Any, Callable, Dict, Hashable, List, Mapping, Optional,
                    Sequence, Tuple)

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from mmvid.analysis.machine import (cpu_model, peak_rss_mib, reset_peak_rss,
                                    usable_cores)

MiB = 1024.0**2
# glibc's mmap threshold in a memory subprocess: every large tensor is its
# own mapping, unmapped when freed, so the growth of the peak RSS counts
# every allocation of the measured call (a heap that earlier calls left with
# free blocks would serve them without growing the RSS).
MMAP_THRESHOLD = 128 * 1024


# --------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------
def add_run_options(parser: argparse.ArgumentParser, batch: int,
                    batch_help: str) -> None:
    """Add the options of a timed run on one device: ``--device`` (cpu or
    cuda), ``--batch`` (default ``batch``), ``--repeats`` (3), ``--warmup``
    (1) and ``--threads`` (``torch.set_num_threads``; default: torch's).
    Returns nothing."""
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    parser.add_argument('--batch', type=int, default=batch, help=batch_help)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--threads', type=int, default=None,
        help='torch.set_num_threads (default: leave torch\'s default)')


# --------------------------------------------------------------------------
# time
# --------------------------------------------------------------------------
def interleaved_times(calls: Mapping[Hashable, Callable[[], Any]],
                      repeats: int,
                      warmup: int = 1,
                      device: Optional[torch.device] = None
                      ) -> Dict[Hashable, List[float]]:
    """Time the compared variants alternately.

    ``warmup`` untimed rounds, then ``repeats`` timed rounds; a round calls
    every variant once, in the order of ``calls`` rotated by one more place
    each timed round (two variants: A B, B A, A B, ...), so that drift in
    the machine's speed affects all alike. On a CUDA ``device`` each timed
    call is synchronised before and after.

    Returns:
        ``{variant: [seconds of each timed call, in call order]}``, in the
        order of ``calls``.
    """
    on_cuda = device is not None and torch.device(device).type == 'cuda'
    sync = functools.partial(torch.cuda.synchronize, device) if on_cuda \
        else (lambda: None)
    names = list(calls)
    for _ in range(warmup):
        for name in names:
            calls[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            sync()
            start = perf_counter()
            calls[name]()
            sync()
            times[name].append(perf_counter() - start)
    return times


def medians(times: Mapping[Hashable, Sequence[float]]
            ) -> Dict[Hashable, float]:
    """Returns ``{variant: statistics.median(its times)}``."""
    return {name: statistics.median(values) for name, values in times.items()}


# --------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------
def resident_mib() -> float:
    """Returns this process's resident set size in MiB (``VmRSS`` of
    ``/proc/self/status``)."""
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    raise OSError('no VmRSS in /proc/self/status')


class PeakMemory:
    """Peak extra memory of one call on ``device``, above what was in use
    just before it.

    - cuda: ``torch.cuda.max_memory_allocated()`` after the call (peak
      statistics reset before it) minus ``torch.cuda.memory_allocated()``
      before it.
    - cpu: the kernel's resident-set high-water mark is reset to the current
      RSS right before the call (``5`` written to ``/proc/self/clear_refs``
      by :func:`mmvid.analysis.machine.reset_peak_rss`, Linux >= 4.0); after
      it, ``VmHWM`` minus the ``VmRSS`` before. Being RSS, it counts every
      page the call touched, at 4 KiB granularity. Where ``clear_refs``
      cannot be written, :attr:`available` is False and every peak is None
      (printed ``n/a``).
    """

    def __init__(self, device: torch.device):
        self.device = torch.device(device)
        self.available = self.device.type == 'cuda' or reset_peak_rss()

    def measure(self, fn: Callable[[], Any]) -> Tuple[Any, Optional[int]]:
        """Returns ``(fn(), peak extra bytes)``; the bytes are None where
        not :attr:`available`."""
        if not self.available:
            return fn(), None
        if self.device.type == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated()
            out = fn()
            torch.cuda.synchronize()
            return out, torch.cuda.max_memory_allocated() - before
        reset_peak_rss()
        before = resident_mib()
        out = fn()
        return out, round((peak_rss_mib() - before) * MiB)


def run_worker(argv: Sequence[str], what: str) -> Any:
    """Run ``python *argv`` in a fresh interpreter with glibc's mmap
    threshold pinned at :data:`MMAP_THRESHOLD` (``MALLOC_MMAP_THRESHOLD_``),
    for one memory case measured there with nothing allocated before it.

    Returns:
        The value of the JSON line the worker printed last
        (:func:`report_to_parent`).

    Raises:
        RuntimeError: the worker failed (``what`` names it; the end of its
        stderr follows).
    """
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    proc = subprocess.run([sys.executable, *argv], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'memory worker {what} failed:\n'
                           f'{proc.stderr[-4000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report_to_parent(value: Any) -> None:
    """Print ``value`` as one JSON line, the one :func:`run_worker` reads
    in the parent. Returns nothing."""
    print(json.dumps(value), flush=True)


# --------------------------------------------------------------------------
# kernels
# --------------------------------------------------------------------------
class KernelRecorder(TorchDispatchMode):
    """While active, collects in :attr:`ops` the names of the aten ops run
    (e.g. ``'_scaled_dot_product_flash_attention_for_cpu'``)."""

    def __init__(self):
        super().__init__()
        self.ops = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.add(str(func.overloadpacket.__name__))
        return func(*args, **(kwargs or {}))


# --------------------------------------------------------------------------
# machine
# --------------------------------------------------------------------------
def machine_description(device: torch.device = 'cpu') -> dict:
    """Returns ``{cpu, logical_cores, usable_cores, python, torch,
    torch_threads, device, gpu}``: the CPU model, its logical cores and
    those this process may use, the Python and torch versions, torch's
    thread count, the device type and the GPU name (None off CUDA)."""
    device = torch.device(device)
    return dict(
        cpu=cpu_model(),
        logical_cores=os.cpu_count(),
        usable_cores=usable_cores(),
        python=platform.python_version(),
        torch=torch.__version__,
        torch_threads=torch.get_num_threads(),
        device=device.type,
        gpu=torch.cuda.get_device_name(device)
        if device.type == 'cuda' else None)


def describe_cpu(machine: dict) -> str:
    """Returns ``'<cpu>, <n> logical cores (<m> usable)'`` of a
    :func:`machine_description`."""
    return (f'{machine["cpu"]}, {machine["logical_cores"]} logical cores '
            f'({machine["usable_cores"]} usable)')


# --------------------------------------------------------------------------
# ratios and formats
# --------------------------------------------------------------------------
def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    """Returns ``a / b``; None where either is missing or ``b <= 0``."""
    if a is None or b is None or b <= 0:
        return None
    return a / b


def to_mib(nbytes: Optional[float]) -> Optional[float]:
    """Returns ``nbytes`` in MiB; None where missing."""
    return None if nbytes is None else nbytes / MiB


def fmt_ms(ms: Optional[float]) -> str:
    """Returns milliseconds with one decimal (``'12.3'``), or ``'n/a'``."""
    return 'n/a' if ms is None else f'{ms:.1f}'


def fmt_mib(mib: Optional[float]) -> str:
    """Returns whole MiB (``'135'``), or ``'n/a'``."""
    return 'n/a' if mib is None else f'{mib:.0f}'


def fmt_ratio(value: Optional[float]) -> str:
    """Returns a ratio with two decimals and an ``x`` (``'1.23x'``), or
    ``'n/a'``."""
    return 'n/a' if value is None else f'{value:.2f}x'


# --------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------
def write_json(path: Optional[str], data: Any) -> None:
    """Write ``data`` as indented JSON to ``path`` atomically: into a
    temporary file beside it, then ``os.replace``; a failed write leaves
    ``path`` as it was and no temporary file. With ``path`` None (a script's
    ``--json OUT`` not given) nothing is written. Returns nothing."""
    if path is None:
        return
    temporary = f'{path}.{os.getpid()}.tmp'
    try:
        with open(temporary, 'w') as f:
            json.dump(data, f, indent=2)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
