"""Recognize a long video or a live stream window by window.

A window is ``window`` consecutive frames; one starts every ``stride``
frames (frames ``[s, s + window)`` for ``s = 0, stride, 2 * stride, ...``
while the window fits), so a video of ``T >= window`` frames has
``(T - window) // stride + 1`` segments. Each window goes through the
config's test pipeline as in-memory frames (:mod:`mmvid.apis.frame_array`:
its sampler, crops and view averaging), so a window of the whole video
scores as :func:`~mmvid.apis.inference_recognizer` scores the file.

:class:`SlidingWindowPredictor` takes the frames one at a time and keeps
only the last ``window`` (a ring buffer): a video file and a camera give the
same segments for the same frames.
"""
import collections
from dataclasses import dataclass
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
import torch

from mmvid.apis import inference_recognizer, top_k_classes

TopK = List[Tuple[int, Optional[str], float]]


@dataclass(frozen=True)
class Segment:
    """The prediction of one window.

    Attributes:
        start: First frame (0-based).
        end: One past the last frame.
        top: ``(class index, name, score)`` of the best classes, best first.
        scores: The scores of all classes ``[K]``.
    """
    start: int
    end: int
    top: TopK
    scores: Tuple[float, ...]

    def to_dict(self, fps: float) -> dict:
        """The JSON record: frames, seconds (``frame / fps``) and the top
        classes (``label``, ``index``, ``score``)."""
        return dict(start_frame=self.start, end_frame=self.end,
                    start_sec=round(self.start / fps, 6),
                    end_sec=round(self.end / fps, 6),
                    top_k=[dict(label=name, index=index, score=score)
                           for index, name, score in self.top])


def check_window(window: int, stride: int) -> None:
    """Raise ``ValueError`` unless ``window`` and ``stride`` are ints
    >= 1 (the message names the flag)."""
    for flag, value in (('--window', window), ('--stride', stride)):
        if isinstance(value, bool) or not isinstance(value, int) \
                or value < 1:
            raise ValueError(f'{flag} must be an int >= 1, got {value!r}')


def window_starts(total_frames: int, window: int, stride: int) -> List[int]:
    """First frames of the windows of a ``total_frames`` video; ``[0]``
    (one window of the whole video) where it is shorter than ``window``."""
    check_window(window, stride)
    if total_frames < window:
        return [0] if total_frames > 0 else []
    return list(range(0, total_frames - window + 1, stride))


def segment_at(segments: Sequence[Segment], frame: int) -> Optional[Segment]:
    """The segment a frame shows: of those holding ``frame``, the one whose
    centre is nearest (the earlier on a tie); else the nearest segment
    (frames after the last full window); None without segments."""
    if not segments:
        return None

    def distance(seg: Segment) -> Tuple[float, float, int]:
        outside = max(seg.start - frame, frame - (seg.end - 1), 0)
        return (outside, abs((seg.start + seg.end - 1) / 2 - frame),
                seg.start)

    return min(segments, key=distance)


class SlidingWindowPredictor:
    """Predict every ``stride`` frames on the last ``window`` frames.

    Args:
        model: A recognizer from :func:`~mmvid.apis.init_recognizer`.
        window: Frames per window (>= 1).
        stride: Frames between window starts (>= 1).
        top_k: Classes kept per segment.
        class_names: One name per class, or None.
        predict: ``frames [T, H, W, 3] -> ActionDataSample``; default
            :func:`~mmvid.apis.inference_recognizer` with ``model``.
    """

    def __init__(self, model: torch.nn.Module, window: int, stride: int,
                 top_k: int = 5, class_names: Optional[Sequence[str]] = None,
                 predict: Optional[Callable] = None):
        check_window(window, stride)
        if isinstance(top_k, bool) or not isinstance(top_k, int) \
                or top_k < 1:
            raise ValueError(f'--top-k must be an int >= 1, got {top_k!r}')
        self.window = window
        self.stride = stride
        self.top_k = top_k
        self.class_names = class_names
        self.predict = predict or (
            lambda frames: inference_recognizer(model, frames))
        self.buffer = collections.deque(maxlen=window)
        self.frames_seen = 0
        self.segments: List[Segment] = []

    def _segment(self, start: int) -> Segment:
        result = self.predict(np.stack(self.buffer))
        scores = result.pred_score
        scores = scores.mean(0) if scores.dim() == 2 else scores
        segment = Segment(
            start, self.frames_seen,
            top_k_classes(result, self.top_k, self.class_names),
            tuple(scores.detach().float().cpu().tolist()))
        self.segments.append(segment)
        return segment

    def push(self, frame: np.ndarray) -> Optional[Segment]:
        """Add the next ``[H, W, 3]`` RGB frame; the new segment where it
        completes a window, else None."""
        self.buffer.append(frame)
        self.frames_seen += 1
        start = self.frames_seen - self.window
        if start >= 0 and start % self.stride == 0:
            return self._segment(start)
        return None

    def finish(self) -> Optional[Segment]:
        """At the end of the stream: where no window was full (a stream
        shorter than ``window``), one segment of all its frames; else
        None."""
        if self.segments or not self.buffer:
            return None
        return self._segment(0)
