"""Pieces shared by the frame decoders (rawframes, decord, OpenCV, PyAV).

* ``check_int_arg`` validates the decoders' integer constructor arguments;
* ``check_video_file`` turns a missing, non-regular or empty file into a
  ``BadSampleError`` before a decoder library sees it (libraries report these
  cases with vague or multi-line messages);
* ``unique_frame_inds`` validates ``frame_inds`` and returns the distinct
  indices (sorted) plus where each entry of ``frame_inds`` comes from, so
  every decoder decodes each frame once even when a looping sampler repeats
  indices;
* ``frames_in_order`` expands the distinct frames back to ``frame_inds``
  order, copying repeats so that in-place transforms never alias;
* ``set_frame_outputs`` writes ``imgs``, ``original_shape`` and
  ``img_shape``;
* ``one_line`` shortens a library's error text for a one-line message.
"""
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..errors import BadSampleError


def check_int_arg(name: str, value: int, minimum: int = 0) -> int:
    """Return ``value`` if it is an ``int`` (not a bool) >= ``minimum``.

    Raises:
        TypeError: ``value`` is not an int.
        ValueError: ``value`` < ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f'{name} must be an int, got {type(value).__name__} {value!r}')
    if value < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    return int(value)


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
        frame_inds: ``[T]`` integer frame indices, any order, repeats allowed.
        source: the video file or frame folder, for messages.
        backend: the decoder's name, for messages.
        total_frames: the number of frames of the video; ``None`` skips the
            upper bound check (rawframes: a missing file reports it).

    Returns:
        ``(unique, inverse)``: ``unique`` ``[U]`` int64, sorted ascending;
        ``inverse`` ``[T]`` with ``frame_inds == unique[inverse]``.

    Raises:
        TypeError: ``frame_inds`` is not an integer array.
        ValueError: ``frame_inds`` is not 1-D, is empty or holds a negative
            index (a sampler bug, not a bad sample).
        BadSampleError: an index is ``>= total_frames``.
    """
    inds = np.asarray(frame_inds)
    if inds.ndim != 1 or inds.size == 0:
        raise ValueError(f'frame_inds must be a non-empty 1-D array, got '
                         f'shape {inds.shape} (for {source})')
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
