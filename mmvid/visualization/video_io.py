"""Frames in and out with OpenCV: a capture source (a camera index or a
video file), its frames as RGB, and an ``.mp4`` writer of RGB frames.

OpenCV's own FFmpeg encodes MPEG-4 part 2 (``'mp4v'``) everywhere; H.264
(``'avc1'``) only where its build has an H.264 encoder (the pip wheels have
none), so ``'mp4v'`` is the default and an encoder that cannot open is an
error naming the fourcc.
"""
import os.path as osp
from typing import Iterator, Optional, Tuple, Union

import cv2
import numpy as np

DEFAULT_FOURCC = 'mp4v'
DEFAULT_FPS = 30.0
Source = Union[int, str]


def parse_source(text: Union[int, str]) -> Source:
    """``--camera``'s value: a camera index (``'0'`` -> 0) or a video file
    / stream URL (kept as text)."""
    if isinstance(text, int):
        return text
    return int(text) if text.strip().isdigit() else text


def open_capture(source: Source) -> cv2.VideoCapture:
    """An open ``cv2.VideoCapture`` of a camera index or a video file.

    Raises:
        FileNotFoundError: ``source`` is a path that does not exist.
        RuntimeError: OpenCV cannot open it (message names the source).
    """
    if isinstance(source, str) and '://' not in source \
            and not osp.exists(source):
        raise FileNotFoundError(f'no video file {source}')
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        what = f'camera {source}' if isinstance(source, int) else source
        raise RuntimeError(f'OpenCV cannot open {what}')
    return capture


def capture_fps(capture: cv2.VideoCapture,
                default: float = DEFAULT_FPS) -> float:
    """The frame rate the capture reports, ``default`` where it reports
    none (some cameras say 0)."""
    fps = capture.get(cv2.CAP_PROP_FPS)
    return float(fps) if fps and np.isfinite(fps) and fps > 0 else default


def iter_frames(capture: cv2.VideoCapture,
                max_frames: Optional[int] = None) -> Iterator[np.ndarray]:
    """The capture's frames as ``[H, W, 3]`` uint8 RGB, until the stream
    ends or ``max_frames`` were read."""
    count = 0
    while max_frames is None or count < max_frames:
        ok, bgr = capture.read()
        if not ok:
            return
        count += 1
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def output_size(size: Tuple[int, int],
                target: Optional[Tuple[int, int]]) -> Tuple[int, int]:
    """The ``(width, height)`` of the output of a ``size`` ``(width,
    height)`` input: ``target``, one side -1 keeping the aspect ratio
    (rounded to even, as encoders want), or ``size`` for None.

    Raises:
        ValueError: ``target`` is not two positive ints, or one -1.
    """
    if target is None:
        return tuple(size)
    width, height = target
    if not (width > 0 or width == -1) or not (height > 0 or height == -1) \
            or width == height == -1:
        raise ValueError('--target-resolution must be W H, both > 0 or one '
                         f'-1 to keep the aspect ratio, got {width} {height}')
    if width == -1:
        width = max(2, int(round(size[0] * height / size[1] / 2)) * 2)
    elif height == -1:
        height = max(2, int(round(size[1] * width / size[0] / 2)) * 2)
    return int(width), int(height)


class VideoWriter:
    """Write ``[H, W, 3]`` uint8 RGB frames to a video file with
    ``cv2.VideoWriter``, each resized to ``size`` where it differs.

    Args:
        path: The file; its extension picks the container (``.mp4``).
        fps: Frames per second.
        size: ``(width, height)`` of the video.
        fourcc: Four-character codec code (``'mp4v'``, ``'avc1'``, ...).

    Raises:
        RuntimeError: OpenCV cannot open an encoder ``fourcc`` for
            ``path``.
    """

    def __init__(self, path: str, fps: float, size: Tuple[int, int],
                 fourcc: str = DEFAULT_FOURCC):
        if len(fourcc) != 4:
            raise ValueError(f'fourcc must be 4 characters, got {fourcc!r}')
        self.path = path
        self.size = (int(size[0]), int(size[1]))
        self.frames = 0
        self._writer = cv2.VideoWriter(
            path, cv2.VideoWriter_fourcc(*fourcc), float(fps), self.size)
        if not self._writer.isOpened():
            raise RuntimeError(
                f'OpenCV cannot encode {fourcc!r} into {path}; use '
                f"--fourcc {DEFAULT_FOURCC} (its FFmpeg build may lack the "
                'encoder)')

    def write(self, frame: np.ndarray) -> None:
        """Append one RGB frame."""
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size,
                               interpolation=cv2.INTER_AREA)
        self._writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        """Finish the file."""
        self._writer.release()

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
