"""The live loop of a camera (or any frame source): feed each frame to a
:class:`~.sliding_window.SlidingWindowPredictor`, draw the latest
segment's classes on it, show it in a window and/or encode it, until the
stream ends, ``max_frames`` frames, ``q`` / Esc in the window or Ctrl-C.

A prediction runs in the loop: while it runs no frame is read, so a camera
drops the frames of that time (its driver keeps only the newest).
"""
import os
import sys
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Mapping, Optional, Sequence

import cv2
import numpy as np

from .labelled_video import LabelledWriter
from .labels import draw_labels
from .sliding_window import Segment, SlidingWindowPredictor

WINDOW_TITLE = 'mmvid demo (q: quit)'
QUIT_KEYS = (ord('q'), 27)


def check_display(environ: Mapping[str, str] = os.environ,
                  platform: str = sys.platform) -> None:
    """Raise ``RuntimeError`` where a window cannot open: on Linux without
    ``DISPLAY`` / ``WAYLAND_DISPLAY`` (OpenCV's Qt would abort the
    process)."""
    if platform.startswith('linux') and not (
            environ.get('DISPLAY') or environ.get('WAYLAND_DISPLAY')):
        raise RuntimeError('cannot show the video: no display (DISPLAY is '
                           'not set); pass --no-show, with --out-file to '
                           'keep the labelled video')


@dataclass
class LiveResult:
    """What a live run did: its segments, the frames read and why it
    stopped (``'end of stream'``, ``'max frames'``, ``'q pressed'`` or
    ``'Ctrl-C'``)."""
    segments: List[Segment] = field(default_factory=list)
    frames: int = 0
    stop: str = 'end of stream'


def run_live(frames: Iterable[np.ndarray], predictor: SlidingWindowPredictor,
             lines_for: Callable[[Optional[Segment], int], Sequence[str]],
             writer: Optional[LabelledWriter] = None, show: bool = False,
             max_frames: Optional[int] = None,
             on_segment: Optional[Callable[[Segment], None]] = None
             ) -> LiveResult:
    """Run the loop over ``frames`` (``[H, W, 3]`` uint8 RGB).

    Args:
        frames: The frame source (e.g. :func:`~.video_io.iter_frames`).
        predictor: Makes a segment every ``stride`` frames.
        lines_for: ``(latest segment or None, frames read) -> lines`` drawn
            on the frame.
        writer: Encodes the labelled frames, or None.
        show: Show the labelled frames with ``cv2.imshow``.
        max_frames: Stop after this many frames (None: no limit).
        on_segment: Called with each new segment (e.g. to print it).
    """
    result = LiveResult()
    latest = None
    try:
        for frame in frames:
            result.frames += 1
            segment = predictor.push(frame)
            if segment is not None:
                latest = segment
                if on_segment is not None:
                    on_segment(segment)
            lines = lines_for(latest, result.frames)
            if writer is not None:
                shown = writer.write(frame, lines)
            elif show:
                shown = draw_labels(frame, lines)[0]
            if show:
                cv2.imshow(WINDOW_TITLE, cv2.cvtColor(shown,
                                                      cv2.COLOR_RGB2BGR))
                if cv2.waitKey(1) & 0xFF in QUIT_KEYS:
                    result.stop = 'q pressed'
                    break
            if max_frames is not None and result.frames >= max_frames:
                result.stop = 'max frames'
                break
    except KeyboardInterrupt:
        result.stop = 'Ctrl-C'
    finally:
        if show:
            cv2.destroyAllWindows()
    segment = predictor.finish()
    if segment is not None and on_segment is not None:
        on_segment(segment)
    result.segments = list(predictor.segments)
    return result
