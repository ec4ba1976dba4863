"""Write a video with text drawn on every frame: :class:`LabelledWriter`
resizes each RGB frame to the output size, draws its lines
(:func:`~.labels.draw_labels`) and encodes it; :func:`write_labelled_video`
does so for every frame of a video file."""
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import cv2

from .labels import draw_labels
from .video_io import (DEFAULT_FOURCC, VideoWriter, capture_fps, iter_frames,
                       open_capture, output_size)


class LabelledWriter:
    """Encode frames with their text lines into ``path``.

    The encoder opens at the first frame: the output is ``target`` (see
    :func:`~.video_io.output_size`) or that frame's size.

    Args:
        path: Output video file.
        fps: Frames per second of the output.
        target: ``(width, height)``, one side -1 to keep the aspect ratio,
            or None for the input size.
        fourcc: Codec code of :class:`~.video_io.VideoWriter`.
    """

    def __init__(self, path: str, fps: float,
                 target: Optional[Tuple[int, int]] = None,
                 fourcc: str = DEFAULT_FOURCC):
        self.path = path
        self.fps = fps
        self.target = target
        self.fourcc = fourcc
        self.writer: Optional[VideoWriter] = None

    def labelled(self, frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
        """The RGB frame at the output size with ``lines`` drawn."""
        size = output_size((frame.shape[1], frame.shape[0]), self.target)
        if size != (frame.shape[1], frame.shape[0]):
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        return draw_labels(frame, lines)[0]

    def write(self, frame: np.ndarray, lines: Sequence[str]) -> np.ndarray:
        """Encode the labelled ``frame``; return it (RGB)."""
        out = self.labelled(frame, lines)
        if self.writer is None:
            self.writer = VideoWriter(self.path, self.fps,
                                      (out.shape[1], out.shape[0]),
                                      self.fourcc)
        self.writer.write(out)
        return out

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return 0 if self.writer is None else self.writer.frames

    def close(self) -> None:
        """Finish the file (nothing was opened without frames)."""
        if self.writer is not None:
            self.writer.close()


def write_labelled_video(video: str, path: str,
                         lines_at: Callable[[int], List[str]],
                         target: Optional[Tuple[int, int]] = None,
                         fourcc: str = DEFAULT_FOURCC) -> int:
    """Copy every frame of ``video`` into ``path`` (the same frame rate)
    with the lines ``lines_at(frame index)`` drawn on it.

    Returns:
        The number of frames written.

    Raises:
        RuntimeError: the video has no frame OpenCV can read.
    """
    capture = open_capture(video)
    writer = LabelledWriter(path, capture_fps(capture), target, fourcc)
    try:
        for index, frame in enumerate(iter_frames(capture)):
            writer.write(frame, lines_at(index))
    finally:
        writer.close()
        capture.release()
    if writer.frames == 0:
        raise RuntimeError(f'OpenCV read no frame of {video}')
    return writer.frames
