"""Window arithmetic, the ring buffer (each window gets exactly its
frames), the segment a frame shows, the JSON record."""
import numpy as np
import pytest
import torch

from mmvid.structures import ActionDataSample
from mmvid.visualization import (Segment, SlidingWindowPredictor,
                                 segment_at, window_starts)


def frames(count):
    """Frame i is filled with the value i."""
    return [np.full((2, 3, 3), i, np.uint8) for i in range(count)]


class FakeModel:
    """Scores ``[first frame, last frame, 0]`` of each window it is given,
    and remembers the windows."""

    def __init__(self):
        self.windows = []

    def __call__(self, window):
        self.windows.append(window[:, 0, 0, 0].tolist())
        first, last = float(window[0, 0, 0, 0]), float(window[-1, 0, 0, 0])
        return ActionDataSample().set_pred_score(
            torch.tensor([first, last, 0.0]))


@pytest.mark.parametrize('total,window,stride,starts', [
    (40, 16, 8, [0, 8, 16, 24]), (40, 16, 16, [0, 16]),
    (41, 16, 5, [0, 5, 10, 15, 20, 25]), (16, 16, 3, [0]),
    (10, 16, 4, [0]), (0, 4, 1, [])])
def test_window_starts_and_the_predictor_agree(total, window, stride, starts):
    assert window_starts(total, window, stride) == starts
    fake = FakeModel()
    predictor = SlidingWindowPredictor(None, window, stride, top_k=2,
                                       class_names=['a', 'b', 'c'],
                                       predict=fake)
    new = [predictor.push(f) for f in frames(total)]
    tail = predictor.finish()
    segments = predictor.segments
    assert [s.start for s in segments] == starts
    assert [s.end for s in segments] == [min(total, s + window)
                                         for s in starts]
    # each window saw exactly its frames, in order
    assert fake.windows == [list(range(s, min(total, s + window)))
                            for s in starts]
    # push returns the segment a frame completes; finish the short one
    assert [s for s in new if s is not None] + \
        ([tail] if tail else []) == segments
    assert (tail is not None) == (0 < total < window)
    for seg in segments:
        assert seg.scores == (seg.start, seg.end - 1, 0.0)
        assert seg.top == [(1, 'b', seg.end - 1), (0, 'a', seg.start)]
    assert len(predictor.buffer) == min(total, window)


def test_predictor_checks():
    with pytest.raises(ValueError, match='--stride must be an int >= 1, '
                       'got 0'):
        SlidingWindowPredictor(None, 4, 0)
    with pytest.raises(ValueError, match='--window must be an int >= 1'):
        SlidingWindowPredictor(None, 0, 1)
    with pytest.raises(ValueError, match='--top-k must be'):
        SlidingWindowPredictor(None, 4, 1, top_k=0)
    with pytest.raises(ValueError, match='--window must be an int'):
        window_starts(10, 2.5, 1)


def seg(start, end, label=0):
    return Segment(start, end, [(label, None, 1.0)], (1.0, ))


def test_segment_at():
    segments = [seg(0, 16), seg(8, 24), seg(16, 32)]
    # frames held by two windows show the one whose centre is nearest
    shown = [segment_at(segments, f).start for f in range(40)]
    assert shown[:12] == [0] * 12  # centre 7.5 vs 15.5: tie at 11.5 -> 0
    assert shown[12:20] == [8] * 8
    assert shown[20:32] == [16] * 12
    assert shown[32:] == [16] * 8  # after the last window: the last one
    assert segment_at([], 3) is None


def test_segment_record():
    segment = Segment(8, 24, [(1, 'b', 0.75), (0, 'a', 0.25)], (0.25, 0.75))
    assert segment.to_dict(25.0) == dict(
        start_frame=8, end_frame=24, start_sec=0.32, end_sec=0.96,
        top_k=[dict(label='b', index=1, score=0.75),
               dict(label='a', index=0, score=0.25)])
