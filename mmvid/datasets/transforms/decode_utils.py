"""Pieces shared by the frame decoders (rawframes, decord, OpenCV, PyAV).

* ``check_int_arg`` validates the decoders' integer constructor arguments;
* ``check_video_file`` turns a missing, non-regular or empty file into a
  ``BadSampleError`` before a decoder library sees it (libraries report these
  cases with vague or multi-line messages);
* ``unique_frame_inds`` validates ``frame_inds`` (any shape, flattened:
  mmaction2 1.x samplers may give ``[N, 1]``) and returns the distinct
  indices (sorted) plus where each entry of ``frame_inds`` comes from, so
  every decoder decodes each frame once even when a looping sampler repeats
  indices;
* ``frames_in_order`` expands the distinct frames back to ``frame_inds``
  order, copying repeats so that in-place transforms never alias;
* ``set_frame_outputs`` writes ``imgs``, ``original_shape`` and
  ``img_shape``;
* ``one_line`` shortens a library's error text for a one-line message;
* ``check_decode_mode`` validates the ``mode`` of ``DecordDecode`` and
  ``PyAVDecode`` (``DECODE_MODES``);
* ``VideoReaderInit`` and ``VideoReaderDecode`` are the bases of the video
  decoders' ``*Init`` / ``*Decode`` transforms (decord, OpenCV, PyAV): the
  open-check-count and take-validate-read-close steps common to all three,
  around the backend's own opening, reading and closing.
"""
import os
import os.path as osp
from abc import abstractmethod
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import BadSampleError
from .arg_checks import check_choice, check_int_arg
from .base import VideoTransform
from .threads import auto_decoder_threads

DECODE_MODES = ('accurate', 'efficient')


def check_video_file(path: str, backend: str) -> None:
    """Raise ``BadSampleError`` if ``path`` is not a non-empty regular file.

    Messages: ``"no such video file: PATH (backend)"``,
    ``"not a regular file: PATH (backend)"``,
    ``"empty video file: PATH (backend)"``.
    """
    if not osp.exists(path):
        raise BadSampleError(f'no such video file: {path} ({backend})')
    if not osp.isfile(path):
        raise BadSampleError(f'not a regular file: {path} ({backend})')
    if os.path.getsize(path) == 0:
        raise BadSampleError(f'empty video file: {path} ({backend})')


def unique_frame_inds(
        frame_inds: Sequence[int],
        source: str,
        backend: str,
        total_frames: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Validate ``frame_inds`` and split it into distinct indices.

    Args:
        frame_inds: ``[T]`` integer frame indices, any order, repeats
            allowed; an array of any other shape (``[T, 1]``,
            ``[num_clips, clip_len]``) is flattened in C order first.
        source: the video file or frame folder, for messages.
        backend: the decoder's name, for messages.
        total_frames: the number of frames of the video; ``None`` skips the
            upper bound check (rawframes: a missing file reports it).

    Returns:
        ``(unique, inverse)``: ``unique`` ``[U]`` int64, sorted ascending;
        ``inverse`` ``[T]`` with ``frame_inds == unique[inverse]``.

    Raises:
        TypeError: ``frame_inds`` is not an integer array.
        ValueError: ``frame_inds`` is empty or holds a negative
            index (a sampler bug, not a bad sample).
        BadSampleError: an index is ``>= total_frames``.
    """
    shape = np.shape(frame_inds)
    # any shape is read in C order: mmaction2 1.x samplers may give
    # [N, 1] or [num_clips, clip_len]
    inds = np.asarray(frame_inds).reshape(-1)
    if inds.size == 0:
        raise ValueError(f'frame_inds must be a non-empty array, got shape '
                         f'{shape} (for {source})')
    if inds.dtype.kind not in 'iu':
        raise TypeError(f'frame_inds must hold integers, got dtype '
                        f'{inds.dtype} (for {source})')
    if inds.min() < 0:
        raise ValueError(f'frame_inds holds the negative index {inds.min()} '
                         f'(for {source})')
    if total_frames is not None and inds.max() >= total_frames:
        raise BadSampleError(
            f'{backend} cannot read frame {inds.max()} of {source}: the '
            f'video has {total_frames} frames')
    unique, inverse = np.unique(inds.astype(np.int64), return_inverse=True)
    return unique, inverse.reshape(-1)


def frames_in_order(unique_frames: Sequence[np.ndarray],
                    inverse: np.ndarray) -> List[np.ndarray]:
    """``[unique_frames[k] for k in inverse]``, copying every repeat.

    The first use of a frame is the decoded array itself; later uses are
    copies, so no two list entries share memory.
    """
    used = set()
    imgs = []
    for k in inverse.tolist():
        frame = unique_frames[k]
        imgs.append(frame.copy() if k in used else frame)
        used.add(k)
    return imgs


def set_frame_outputs(results: dict, imgs: List[np.ndarray]) -> dict:
    """Write ``imgs`` and its ``(h, w)`` as ``original_shape`` and
    ``img_shape``."""
    results['imgs'] = imgs
    height, width = imgs[0].shape[:2]
    results['original_shape'] = (height, width)
    results['img_shape'] = (height, width)
    return results


def one_line(error: BaseException, limit: int = 200) -> str:
    """The first non-empty line of ``error``'s text (its type name if
    empty), cut to ``limit`` characters."""
    lines = [line.strip() for line in str(error).splitlines()]
    text = next((line for line in lines if line), type(error).__name__)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def check_decode_mode(mode: str) -> str:
    """Return ``mode`` if it is one of ``DECODE_MODES``: ``'accurate'``
    (exact frames) or ``'efficient'`` (seek-based, faster, may be inexact).

    Raises:
        ValueError: ``"mode must be one of ('accurate', 'efficient'), got
            MODE"``.
    """
    return check_choice('mode', mode, DECODE_MODES)


class VideoReaderInit(VideoTransform):
    """Base of the video decoders' ``*Init`` transforms: open
    ``results['filename']`` with the backend's reader.

    ``transform`` turns a missing, non-regular or empty file into a
    ``BadSampleError`` (:func:`check_video_file`), opens the file with
    ``_open_reader``, refuses a video with no frames (closing the reader with
    ``_close_reader`` first; message ``"PATH has no decodable frames
    (backend)"``) and writes ``video_reader``, ``total_frames`` (int) and
    ``avg_fps`` (``_avg_fps``).

    Subclasses set ``backend`` (the name in messages) and implement
    ``_open_reader`` and ``_avg_fps``; ``_close_reader`` does nothing unless
    overridden (a reader that frees its resources when dropped).

    Args:
        num_threads: decoding threads of the reader, an int >= 0 (0: the
            library picks) or ``'auto'`` (all usable cores in the main
            process, the cores shared among the workers in a DataLoader
            worker: :func:`~.threads.auto_decoder_threads`); the subclass
            gives :meth:`reader_threads` to the library.
    """
    required_keys = ('filename', )
    added_keys = ('video_reader', 'total_frames', 'avg_fps')
    backend = ''

    def __init__(self, num_threads: Union[int, str] = 1):
        super().__init__()
        if num_threads != 'auto':
            if isinstance(num_threads, str):
                raise TypeError("num_threads must be an int >= 0 or 'auto', "
                                f'got {num_threads!r}')
            num_threads = check_int_arg('num_threads', num_threads)
        self.num_threads = num_threads

    def reader_threads(self) -> int:
        """The decoding threads of the reader opened now: ``num_threads``,
        or for ``'auto'`` :func:`~.threads.auto_decoder_threads`."""
        if self.num_threads == 'auto':
            return auto_decoder_threads()
        return self.num_threads

    def transform(self, results: dict) -> dict:
        path = results['filename']
        check_video_file(path, self.backend)
        reader, total_frames = self._open_reader(path)
        if total_frames <= 0:
            self._close_reader(reader)
            raise BadSampleError(
                f'{path} has no decodable frames ({self.backend})')
        results['video_reader'] = reader
        results['total_frames'] = int(total_frames)
        results['avg_fps'] = self._avg_fps(reader)
        return results

    @abstractmethod
    def _open_reader(self, path: str) -> Tuple[Any, int]:
        """``(the open reader, its frame count)`` of the video ``path`` (an
        existing, non-empty file); ``BadSampleError`` where the library
        cannot open it."""

    @abstractmethod
    def _avg_fps(self, reader: Any) -> float:
        """The frame rate of an open reader."""

    @staticmethod
    def _close_reader(reader: Any) -> None:
        """Free the resources of a reader (nothing by default)."""


class VideoReaderDecode(VideoTransform):
    """Base of the video decoders' ``*Decode`` transforms: read the frames
    ``results['frame_inds']`` from the reader the matching ``*Init`` opened,
    then close it.

    ``transform`` takes ``results['video_reader']`` out of the sample (it is
    set to ``None``; a ``None`` reader raises ``ValueError`` with
    ``missing_reader_message``), validates ``frame_inds`` against
    ``total_frames`` (:func:`unique_frame_inds`), reads each distinct index
    once with ``_read_frames``, closes the reader with ``_close_reader`` even
    when the indices are invalid or reading fails, and writes ``imgs`` in
    ``frame_inds`` order (repeats copied), ``original_shape`` and
    ``img_shape``.

    Subclasses set ``backend`` (the name in messages) and
    ``missing_reader_message`` (formatted with ``path``), and implement
    ``_read_frames``; ``_close_reader`` does nothing unless overridden.
    """
    required_keys = ('filename', 'video_reader', 'frame_inds', 'total_frames')
    added_keys = ('imgs', 'original_shape', 'img_shape', 'video_reader')
    backend = ''
    missing_reader_message = ''

    def transform(self, results: dict) -> dict:
        reader = results['video_reader']
        path = results['filename']
        if reader is None:
            raise ValueError(self.missing_reader_message.format(path=path))
        results['video_reader'] = None
        total_frames = results['total_frames']
        try:
            unique, inverse = unique_frame_inds(results['frame_inds'], path,
                                                self.backend, total_frames)
            frames = self._read_frames(reader, unique, path, total_frames)
        finally:
            self._close_reader(reader)
        return set_frame_outputs(results, frames_in_order(frames, inverse))

    @abstractmethod
    def _read_frames(self, reader: Any, unique: np.ndarray, path: str,
                     total_frames: int) -> List[np.ndarray]:
        """The ``[H, W, 3]`` uint8 RGB frames ``unique`` (sorted, distinct,
        ``< total_frames``) of the video ``path``, in that order;
        ``BadSampleError`` naming the file and the frame where one cannot be
        read."""

    @staticmethod
    def _close_reader(reader: Any) -> None:
        """Free the resources of a reader (nothing by default)."""
