"""Per-process thread limits for decoding in data-loader workers.

``W`` loader workers that each run OpenCV's default thread pool (one thread
per core) oversubscribe the CPU, and thread pools or OpenCL contexts
inherited through ``fork`` are a known source of loader hangs. The loader's
``worker_init_fn`` calls ``limit_decoder_threads`` once per worker. Nothing
here runs at import time.

The readers' own decoding threads are per reader (``DecordInit(
num_threads='auto')``, ``PyAVInit(num_threads=1)``, ``OpenCVInit(
num_threads=1)``); ``'auto'`` asks :func:`auto_decoder_threads` when the
reader opens. PyTorch already runs each worker with
``torch.set_num_threads(1)``.
"""
import os

import cv2

from .arg_checks import check_int_arg


def limit_decoder_threads(num_threads: int = 1) -> None:
    """Limit this process's OpenCV threading for image decoding/processing.

    Sets OpenCV's thread pool to ``num_threads`` (``cv2.setNumThreads``;
    0 makes OpenCV run sequentially) and turns OpenCV's OpenCL off, so a
    forked worker never initialises or reuses an OpenCL context.

    Args:
        num_threads: OpenCV threads, >= 0.

    Raises:
        TypeError: ``num_threads`` is not an int.
        ValueError: ``num_threads`` < 0.
    """
    num_threads = check_int_arg('num_threads', num_threads)
    cv2.setNumThreads(num_threads)
    cv2.ocl.setUseOpenCL(False)


# More decoding threads than this stop paying for one reader (FFmpeg's frame
# threads wait on each other at every seek).
MAX_AUTO_THREADS = 8


def usable_cores() -> int:
    """Logical cores this process may run on (its CPU affinity; at least
    1). ``mmvid.analysis.machine`` reports the same figure."""
    if hasattr(os, 'sched_getaffinity'):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def auto_decoder_threads() -> int:
    """Decoding threads for a reader opened now with ``num_threads='auto'``:
    in a DataLoader worker the usable cores shared among the loader's
    workers (at least 1: ``W`` workers on ``W`` cores decode with one
    thread each, as before), in the main process (no workers, the demo,
    tools) all usable cores, at most ``MAX_AUTO_THREADS``. Measured on 2
    cores, one process: the I3D train pipeline on 720p H.264 1.34x faster
    with 2 threads than with 1 (``docs/benchmark.md``)."""
    import torch.utils.data
    cores = usable_cores()
    worker = torch.utils.data.get_worker_info()
    if worker is not None:
        return max(1, cores // worker.num_workers)
    return min(cores, MAX_AUTO_THREADS)
