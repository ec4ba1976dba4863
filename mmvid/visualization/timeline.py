"""The timeline of a sliding-window run as a PNG: a band coloured by the
top-1 class each frame shows (:func:`~.sliding_window.segment_at`, as in
the labelled video) above the score curves of the classes that are top-1
somewhere (at least the best 3, at most 10), against time in seconds,
with a legend of class names."""
from typing import Any, List, Optional, Sequence

from .sliding_window import Segment, segment_at

MAX_CURVES = 10
MIN_CURVES = 3
DEFAULT_SIZE = (1000, 400)  # pixels
DPI = 100


def figure_class() -> Any:
    """matplotlib's ``Figure`` (no pyplot, no global backend); matplotlib
    is imported here only, it is not a requirement of mmvid.

    Raises:
        ImportError: ``"the timeline needs matplotlib: pip install
            matplotlib"``.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError('the timeline needs matplotlib: pip install '
                          'matplotlib') from error
    return Figure


def class_name(index: int, names: Optional[Sequence[str]]) -> str:
    """``names[index]``, or ``'class INDEX'`` without names."""
    return names[index] if names is not None else f'class {index}'


def top1_runs(segments: Sequence[Segment], total_frames: int) -> List[tuple]:
    """``(first frame, end frame, class index)`` runs of the top-1 class
    each frame of ``[0, total_frames)`` shows."""
    runs = []
    for frame in range(total_frames):
        label = segment_at(segments, frame).top[0][0]
        if runs and runs[-1][2] == label:
            runs[-1] = (runs[-1][0], frame + 1, label)
        else:
            runs.append((frame, frame + 1, label))
    return runs


def curve_classes(segments: Sequence[Segment],
                  at_least: int = MIN_CURVES) -> List[int]:
    """The classes drawn as curves, ascending: every class that is top-1
    in a segment, then the others by their highest score until there are
    ``at_least``; ``MAX_CURVES`` at most (the highest scores kept)."""
    num_classes = len(segments[0].scores)
    peak = {i: max(seg.scores[i] for seg in segments)
            for i in range(num_classes)}
    top1 = {seg.top[0][0] for seg in segments}
    order = sorted(range(num_classes),
                   key=lambda i: (i not in top1, -peak[i], i))
    count = min(MAX_CURVES, max(len(top1), at_least), num_classes)
    return sorted(order[:count])


def plot_timeline(segments: Sequence[Segment], total_frames: int,
                  fps: float, path: str,
                  class_names: Optional[Sequence[str]] = None,
                  size: Sequence[int] = DEFAULT_SIZE,
                  title: Optional[str] = None) -> None:
    """Draw the timeline of ``segments`` into the PNG ``path``.

    Args:
        segments: The run's segments (at least one).
        total_frames: Frames of the video (the band's length).
        fps: Frames per second (x axis in seconds).
        path: Output PNG (exactly ``size`` pixels).
        class_names: One name per class, or None.
        size: ``(width, height)`` in pixels.
        title: Figure title.
    """
    if not segments:
        raise ValueError('no segments to plot')
    shown = curve_classes(segments)
    colours = {index: f'C{n % 10}' for n, index in enumerate(shown)}
    fig = figure_class()(figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI)
    band, curves = fig.subplots(
        2, 1, sharex=True, gridspec_kw=dict(height_ratios=(1, 4)))
    for first, end, label in top1_runs(segments, total_frames):
        band.axvspan(first / fps, end / fps,
                     color=colours.get(label, 'lightgrey'), lw=0)
    band.set_yticks([])
    band.set_ylabel('top-1')
    centres = [(seg.start + seg.end) / 2 / fps for seg in segments]
    for index in shown:
        curves.plot(centres, [seg.scores[index] for seg in segments],
                    color=colours[index], marker='o', markersize=3,
                    label=class_name(index, class_names))
    curves.set_xlim(0, total_frames / fps)
    curves.set_xlabel('time (s)')
    curves.set_ylabel('score')
    curves.grid(alpha=0.3)
    curves.legend(loc='upper left', bbox_to_anchor=(1.01, 1), fontsize=8,
                  title='class', title_fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.78, bottom=0.13, top=0.9,
                        hspace=0.08)
    fig.savefig(path, dpi=DPI, format='png')
