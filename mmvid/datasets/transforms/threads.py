"""Per-process thread limits for decoding in data-loader workers.

``W`` loader workers that each run OpenCV's default thread pool (one thread
per core) oversubscribe the CPU, and thread pools or OpenCL contexts
inherited through ``fork`` are a known source of loader hangs. The loader's
``worker_init_fn`` calls ``limit_decoder_threads`` once per worker. Nothing
here runs at import time.

Not covered here, because they are per reader: decord's and PyAV's decoding
threads (``DecordInit(num_threads=1)``, ``PyAVInit(num_threads=1)``) and
the FFmpeg threads of OpenCV's video reader (``OpenCVInit(num_threads=1)``).
PyTorch already runs each worker with ``torch.set_num_threads(1)``.
"""
import cv2

from .decode_utils import check_int_arg


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
