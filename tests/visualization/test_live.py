"""The live loop: what stops it, what it shows and writes; the display
check (both branches forced)."""
import numpy as np
import pytest

from mmvid.visualization import (LabelledWriter, SlidingWindowPredictor,
                                 check_display, run_live)
from mmvid.visualization import live

from .test_sliding_window import FakeModel, frames


def predictor(window=4, stride=2):
    return SlidingWindowPredictor(None, window, stride, top_k=1,
                                  predict=FakeModel())


def lines_for(segment, count):
    return [f'{count}'] if segment is None else [f'{segment.start}']


def test_show_until_q(monkeypatch):
    shown, keys = [], iter([-1, -1, -1, -1, ord('q'), -1])
    monkeypatch.setattr(live.cv2, 'imshow',
                        lambda title, img: shown.append(img))
    monkeypatch.setattr(live.cv2, 'waitKey', lambda delay: next(keys))
    closed = []
    monkeypatch.setattr(live.cv2, 'destroyAllWindows',
                        lambda: closed.append(True))
    big = [np.full((120, 160, 3), i, np.uint8) for i in range(8)]
    result = run_live(iter(big), predictor(), lines_for, show=True)
    assert (result.stop, result.frames, closed) == ('q pressed', 5, [True])
    assert [s.start for s in result.segments] == [0]
    assert len(shown) == 5
    for img, frame in zip(shown, big):  # labelled; the corner only
        assert not np.array_equal(img, frame)
        assert np.array_equal(img[60:], frame[60:])


def test_stops_and_writes(tmp_path):
    seen = []
    result = run_live(iter(frames(9)), predictor(), lines_for,
                      max_frames=7, on_segment=seen.append)
    assert (result.stop, result.frames) == ('max frames', 7)
    assert [s.start for s in result.segments] == [0, 2] == \
        [s.start for s in seen]
    path = str(tmp_path / 'live.mp4')
    writer = LabelledWriter(path, 10.0, target=(32, 24))
    result = run_live(iter(frames(3)), predictor(), lines_for, writer)
    writer.close()
    # shorter than the window: one segment of all the frames at the end
    assert (result.stop, result.frames, writer.frames) == \
        ('end of stream', 3, 3)
    assert [(s.start, s.end) for s in result.segments] == [(0, 3)]
    assert writer.writer.size == (32, 24)

    def interrupted():
        yield from frames(5)
        raise KeyboardInterrupt

    result = run_live(interrupted(), predictor(), lines_for)
    assert (result.stop, result.frames) == ('Ctrl-C', 5)
    assert [s.start for s in result.segments] == [0]


@pytest.mark.parametrize('env,platform,ok', [
    ({}, 'linux', False), ({'DISPLAY': ':0'}, 'linux', True),
    ({'WAYLAND_DISPLAY': 'wayland-0'}, 'linux', True),
    ({}, 'darwin', True), ({}, 'win32', True)])
def test_check_display(env, platform, ok):
    if ok:
        check_display(env, platform)
    else:
        with pytest.raises(RuntimeError, match='no display .* pass '
                           '--no-show'):
            check_display(env, platform)
