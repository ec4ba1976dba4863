"""The timeline PNG: its size, which classes get curves, the top-1 band."""
import sys

import numpy as np
import pytest
from PIL import Image

from mmvid.visualization import Segment, plot_timeline
from mmvid.visualization.timeline import curve_classes, top1_runs


def segment(start, end, scores):
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    return Segment(start, end, [(i, None, scores[i]) for i in order[:2]],
                   tuple(scores))


SEGMENTS = [segment(0, 16, [0.6, 0.3, 0.05, 0.05, 0.0]),
            segment(8, 24, [0.2, 0.7, 0.05, 0.04, 0.01]),
            segment(16, 32, [0.5, 0.2, 0.1, 0.2, 0.0])]


def test_curve_classes_and_band():
    # 0 and 1 are top-1 somewhere; 3 (peak 0.2) beats 2 (0.1) for the third
    assert curve_classes(SEGMENTS) == [0, 1, 3]
    assert curve_classes(SEGMENTS, at_least=1) == [0, 1]
    assert curve_classes(SEGMENTS, at_least=9) == [0, 1, 2, 3, 4]
    assert top1_runs(SEGMENTS, 40) == [(0, 12, 0), (12, 20, 1), (20, 40, 0)]


def test_timeline_png(tmp_path):
    path = tmp_path / 'timeline.png'
    plot_timeline(SEGMENTS, 40, 25.0, str(path), ['a', 'b', 'c', 'd', 'e'],
                  title='test')
    image = np.asarray(Image.open(path).convert('RGB'))
    assert image.shape == (400, 1000, 3)
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 10  # drawn
    small = tmp_path / 'small.png'
    plot_timeline(SEGMENTS[:1], 16, 8.0, str(small), size=(600, 300))
    assert Image.open(small).size == (600, 300)


def test_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'matplotlib.figure', None)
    with pytest.raises(ImportError, match='the timeline needs matplotlib: '
                       'pip install matplotlib'):
        plot_timeline(SEGMENTS, 40, 25.0, str(tmp_path / 'x.png'))
    assert not (tmp_path / 'x.png').exists()
