"""Video decoding with PyAV (optional): ``PyAVInit`` opens the file,
``PyAVDecode`` reads the sampled frames.

PyAV (``pip install av``) is imported when a transform is built; without it
this module still imports and building ``PyAVInit`` raises an
``ImportError`` saying what to install.

Threads: ``PyAVInit``'s decoder uses slice threading with ``num_threads``
threads. Frame threading has been reported to hang partly decoded streams
in some set-ups (PyAV issues 1849 and 1962, loaders that stop before the
end), so it is used only where it pays and threads are spare:
``DecordDecode``'s PyAV route in a process with more cores than loader
workers, for large frames or high bit rates, and never while PyAV routes
FFmpeg's log through Python (:func:`~.exact_seek.set_frame_threads`);
a DataLoader worker on a machine with as many cores as workers decodes
with one thread.
"""
from fractions import Fraction
from typing import Any, Iterable, List, Optional, Tuple

import numpy as np

from mmvid.registry import TRANSFORMS
from ..errors import BadSampleError
from .decode_utils import (VideoReaderDecode, VideoReaderInit,
                           check_decode_mode, one_line)
from .exact_seek import count_from_start, decode_exact

BACKEND = 'PyAV'


def import_av() -> Any:
    try:
        import av
    except ImportError as error:
        raise ImportError(
            "PyAVInit / PyAVDecode and DecordDecode(decoder='pyav') need "
            "PyAV: pip install av (or pip install 'mmvid[pyav]')") from error
    return av


def open_container(av: Any, path: str, num_threads: int) -> Any:
    """The open container, its first video stream set to slice threading
    with ``num_threads`` threads."""
    try:
        container = av.open(path)
    except Exception as error:  # av.FFmpegError, OSError, ValueError
        raise BadSampleError(f'PyAV could not open {path} as a video: '
                             f'{one_line(error)}') from error
    if not container.streams.video:
        container.close()
        raise BadSampleError(f'{path} has no video stream ({BACKEND})')
    stream = container.streams.video[0]
    if stream.codec_context is None:  # e.g. a corrupt codec header
        container.close()
        raise BadSampleError(
            f'{path} has no decodable video stream (PyAV found no codec)')
    stream.thread_type = 'SLICE'
    stream.codec_context.thread_count = num_threads
    return container


def _close(container: Any) -> None:
    """Close a PyAV container."""
    container.close()


def _count_packets(container: Any, path: str) -> int:
    """Frames of a container whose header has no frame count (Matroska,
    WebM): its non-empty video packets, read without decoding."""
    stream = container.streams.video[0]
    try:
        return sum(1 for packet in container.demux(stream) if packet.size)
    except Exception as error:
        raise BadSampleError(f'PyAV could not read the packets of {path}: '
                             f'{one_line(error)}') from error


@TRANSFORMS.register_module()
class PyAVInit(VideoReaderInit):
    """Open ``results['filename']`` with ``av.open``.

    Required keys: ``filename``.

    Added keys: ``video_reader`` (the open ``av`` container),
    ``total_frames`` (int > 0: the stream's frame count, or its packet count
    where the container has none), ``avg_fps`` (float).

    Args:
        num_threads: slice-threading threads of the decoder (0: FFmpeg
            picks, one per core).

    Raises:
        ImportError: (at construction) PyAV is not installed.
        BadSampleError: the file is missing or empty, PyAV cannot open it
            (not a video, truncated), it has no video stream or no frames.
    """
    backend = BACKEND

    def __init__(self, num_threads: int = 1):
        super().__init__(num_threads)
        import_av()

    def _open_reader(self, path: str) -> Tuple[Any, int]:
        av = import_av()
        container = open_container(av, path, self.reader_threads())
        total_frames = container.streams.video[0].frames
        if total_frames <= 0:
            total_frames = _count_packets(container, path)
            container.close()
            container = open_container(av, path, self.reader_threads())
        return container, total_frames

    def _avg_fps(self, container: Any) -> float:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return float(rate) if rate else 0.0

    _close_reader = staticmethod(_close)


@TRANSFORMS.register_module()
class PyAVDecode(VideoReaderDecode):
    """Decode the frames ``results['frame_inds']`` of an open PyAV
    container, then close it.

    ``'accurate'`` decodes from the key frame before the first index,
    skipping the non-reference frames that are not wanted
    (:func:`~.exact_seek.decode_exact`), converts (to RGB) only the needed
    frames, each distinct index once, and stops after the largest index;
    repeated indices get copies.

    Required keys: ``filename``, ``video_reader``, ``frame_inds``,
    ``total_frames``.

    Added keys: ``imgs`` (list of ``[H, W, 3]`` uint8 RGB, one per
    ``frame_inds`` entry, in order), ``original_shape`` and ``img_shape``
    (``(H, W)``), ``video_reader`` (closed, set to ``None``).

    Args:
        mode: ``'accurate'``: exact frames for every video (frame ``i`` is
            the packet with the ``i``-th smallest timestamp; counted from
            the first frame where timestamps are missing).
            ``'efficient'`` first seeks to the key frame at or before the
            smallest index and numbers the frames from that key frame's
            timestamp (``pts * time_base * fps``): exact for
            constant-frame-rate videos, approximate for variable frame
            rates; it decodes from the start where a frame has no
            timestamp or the seek overshoots.

    Raises:
        BadSampleError: an index is ``>= total_frames``, a frame fails to
            decode, or the stream ends before a needed frame (truncated
            file); the message names the file, the frame and PyAV.
    """
    backend = BACKEND
    missing_reader_message = (
        'video_reader of {path} is None (already closed): put a PyAVInit '
        'before every PyAVDecode')
    _close_reader = staticmethod(_close)

    def __init__(self, mode: str = 'accurate'):
        super().__init__()
        self.mode = check_decode_mode(mode)

    def _read_frames(self, container: Any, unique: np.ndarray, path: str,
                     total_frames: int) -> List[np.ndarray]:
        if self.mode == 'accurate':
            return decode_exact(container, unique, path, BACKEND,
                                total_frames)
        stream = container.streams.video[0]
        first = int(unique[0])
        if first > 0:
            start = self._seek(container, stream, first,
                               iter(container.decode(stream)), path)
            if start is not None:
                return count_from_start(start[1], unique, path, BACKEND,
                                        total_frames, first_index=start[0])
            container.seek(0)
        return count_from_start(container.decode(stream), unique, path,
                                BACKEND, total_frames)

    @staticmethod
    def _seek(container: Any, stream: Any, index: int, frames_iter: Iterable,
              path: str) -> Optional[tuple]:
        """Seek to the key frame at or before ``index``; return
        ``(its index, an iterator starting with it)``, or ``None`` where
        its index is unknown or past ``index``."""
        rate = stream.average_rate or stream.guessed_rate
        if not rate or not stream.time_base:
            return None
        start_pts = stream.start_time or 0
        target_pts = start_pts + int(Fraction(index) / rate / stream.time_base)
        try:
            container.seek(target_pts, stream=stream, backward=True,
                           any_frame=False)
            frame = next(frames_iter, None)
        except Exception as error:
            raise BadSampleError(
                f'PyAV could not seek to frame {index} of {path}: '
                f'{one_line(error)}') from error
        if frame is None or frame.pts is None:
            return None
        first = round((frame.pts - start_pts) * stream.time_base * rate)
        if first > index or first < 0:
            return None

        def chained():
            yield frame
            yield from frames_iter

        return first, chained()
