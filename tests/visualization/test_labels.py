"""Labels drawn on a frame: the box holds the text, nothing outside it
changes."""
import numpy as np
import pytest

from mmvid.visualization import draw_labels, label_lines
from mmvid.visualization.labels import BOX_OPACITY, font_scale


def test_label_lines():
    top = [(3, 'jump', 0.87654), (0, 'run', 0.1)]
    assert label_lines(top) == ['jump: 0.877', 'run: 0.100']
    assert label_lines([(2, None, 0.5)], header='1.00-2.00 s') == \
        ['1.00-2.00 s', 'class 2: 0.500']


def test_draw_labels_changes_only_the_box():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    before = frame.copy()
    out, (x0, y0, x1, y1) = draw_labels(frame, ['jump: 0.877', 'run: 0.1'])
    assert np.array_equal(frame, before)  # the input is not touched
    assert (x0, y0) == (0, 0) and 40 < x1 < 320 and 20 < y1 < 240
    outside = np.ones((240, 320), bool)
    outside[:y1, :x1] = False
    assert np.array_equal(out[outside], frame[outside])
    box = out[:y1, :x1].astype(int)
    # the box is the frame darkened to 40 % (<= 102), the text white
    dark = np.round(frame[:y1, :x1] * (1 - BOX_OPACITY)).astype(int)
    text = (box > 150).all(axis=2)
    assert text.sum() > 50
    assert (box == dark).all(axis=2).mean() > 0.5
    assert 0.02 < (~(box == dark).all(axis=2)).mean() < 0.5


def test_draw_labels_small_frames_and_no_lines():
    frame = np.full((24, 32, 3), 100, np.uint8)
    out, box = draw_labels(frame, ['a long class name: 0.999'] * 4)
    assert box == (0, 0, 32, 24)  # clipped to the frame
    assert out.shape == frame.shape
    same, empty = draw_labels(frame, [])
    assert empty == (0, 0, 0, 0) and np.array_equal(same, frame)
    assert font_scale(240) == 0.4 and font_scale(960) == pytest.approx(1.2)
    with pytest.raises(ValueError, match=r'\[H, W, 3\] uint8'):
        draw_labels(np.zeros((4, 4), np.uint8), ['x'])
