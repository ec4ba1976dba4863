"""Find broken videos by decoding every frame of every video.

Corrupt videos crash or hang long training runs; check a dataset once
before training. Problems found (``VideoProblem.kind``):

- ``missing``: no such file;
- ``empty``: a 0-byte file;
- ``unopenable``: the backend cannot open it (not a video, no index, ...);
- ``no_frames``: it opens but has no decodable frame;
- ``truncated``: fewer frames decode than the container reports;
- ``decode_error``: decoding fails at a frame (with decord, whose decoder
  thread runs ahead, at or after the frame named).

The check is relative to the backend: it reports what would break loading
with that backend. decord's loader uses decord's frame count, taken from the
stream, so a file cut cleanly between frames is a shorter, good video to
decord; OpenCV's loader uses the container's frame count
(``CAP_PROP_FRAME_COUNT``), so there every missing frame counts.
"""
import os
import os.path as osp
from typing import List, NamedTuple, Optional, Sequence

import cv2

from mmvid.datasets.transforms.decord_decode import import_decord

from .batch import check_num_workers, run_tasks
from .decoding import check_backend, clean_decoder_message

KINDS = ('missing', 'empty', 'unopenable', 'no_frames', 'truncated',
         'decode_error')


class VideoProblem(NamedTuple):
    """A broken video.

    Attributes:
        path (str): The video.
        kind (str): One of :data:`KINDS`.
        detail (str): What the backend said, counts, the frame index.
    """
    path: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f'{self.path}: {self.kind}: {self.detail}'


def _check_decord(path: str) -> Optional[VideoProblem]:
    decord = import_decord()
    try:
        reader = decord.VideoReader(path, num_threads=1)
    except Exception as e:  # decord raises RuntimeError / DECORDError
        return VideoProblem(path, 'unopenable',
                            f'decord: {clean_decoder_message(e)}')
    total = len(reader)
    if total == 0:
        return VideoProblem(path, 'no_frames', 'decord reports 0 frames')
    for index in range(total):
        try:
            reader.next()
        except StopIteration:
            return VideoProblem(
                path, 'truncated',
                f'decord decoded {index} of the {total} frames it reports')
        except Exception as e:
            # decord's decoder thread runs ahead: the bad packet is at or
            # after frame ``index``
            return VideoProblem(
                path, 'decode_error',
                f'decord failed after decoding {index} of {total} frames: '
                f'{clean_decoder_message(e)}')
    return None


def _check_opencv(path: str) -> Optional[VideoProblem]:
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            return VideoProblem(path, 'unopenable', 'opencv cannot open it')
        reported = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        decoded = 0
        while capture.grab():
            ok, frame = capture.retrieve()
            if not ok or frame is None:
                return VideoProblem(
                    path, 'decode_error',
                    f'opencv failed at frame {decoded} of {reported}')
            decoded += 1
    finally:
        capture.release()
    if decoded == 0:
        return VideoProblem(path, 'no_frames',
                            f'opencv decoded 0 of {reported} frames')
    if decoded < reported:
        return VideoProblem(
            path, 'truncated',
            f'opencv decoded {decoded} of the {reported} frames the '
            'container reports')
    return None


def check_video(path: str, backend: str = 'decord') -> Optional[VideoProblem]:
    """Decode every frame of one video.

    Returns:
        VideoProblem or None: The problem, or None for a good video.
    """
    check_backend(backend)
    if not osp.exists(path):
        return VideoProblem(path, 'missing', 'no such file')
    if osp.isfile(path) and os.path.getsize(path) == 0:
        return VideoProblem(path, 'empty', '0 bytes')
    if backend == 'decord':
        return _check_decord(path)
    return _check_opencv(path)


def _check_task(task: tuple) -> Optional[VideoProblem]:
    return check_video(*task)


def check_videos(paths: Sequence[str],
                 backend: str = 'decord',
                 num_workers: int = 1,
                 progress: bool = True) -> List[VideoProblem]:
    """Decode every frame of every video and return the broken ones.

    Args:
        paths (Sequence[str]): Video files.
        backend (str): 'decord' or 'opencv'.
        num_workers (int): Worker processes.
        progress (bool): Show a progress bar.

    Returns:
        list[VideoProblem]: The broken videos, in the order of ``paths``.
    """
    check_backend(backend)
    check_num_workers(num_workers)
    results = run_tasks(_check_task, [(p, backend) for p in paths],
                        num_workers=num_workers, progress=progress)
    return [r for r in results if r is not None]
