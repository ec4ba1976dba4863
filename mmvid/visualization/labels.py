"""Draw a recognizer's best classes on a video frame: one text line per
class (``name: score``) in white on a dark box in the top-left corner,
scaled to the frame so it stays readable from 240p to 4K."""
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT_COLOUR = (255, 255, 255)
BOX_COLOUR = (0, 0, 0)
BOX_OPACITY = 0.6
Box = Tuple[int, int, int, int]


def label_lines(top: Sequence[Tuple[int, Optional[str], float]],
                header: Optional[str] = None) -> List[str]:
    """Text lines of a top-k list (``(index, name, score)``, from
    :func:`~mmvid.apis.top_k_classes`): ``'name: 0.873'``, or ``'class 3:
    0.873'`` without names; ``header`` (e.g. the segment's time) first."""
    lines = [] if header is None else [header]
    for index, name, score in top:
        lines.append(f'{name if name is not None else f"class {index}"}: '
                     f'{score:.3f}')
    return lines


def font_scale(height: int) -> float:
    """The OpenCV font scale for a frame ``height`` pixels high: 0.6 at
    480 lines, proportional, at least 0.4."""
    return max(0.4, 0.6 * height / 480)


def draw_labels(frame: np.ndarray, lines: Sequence[str],
                scale: Optional[float] = None) -> Tuple[np.ndarray, Box]:
    """A copy of ``frame`` with ``lines`` written in its top-left corner.

    The text is white on a black box blended at ``BOX_OPACITY`` (the colours
    are grey, so RGB and BGR frames look the same); the box is clipped to
    the frame. Pixels outside the box are not changed.

    Args:
        frame: ``[H, W, 3]`` uint8 (RGB or BGR).
        lines: Text lines, top first; none: the frame is returned unchanged.
        scale: Font scale; None: :func:`font_scale` of the frame's height.

    Returns:
        ``(labelled frame, (x0, y0, x1, y1))``: the box, ``x1``/``y1``
        exclusive (``(0, 0, 0, 0)`` without lines).
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError('frame must be [H, W, 3] uint8, got shape '
                         f'{frame.shape} {frame.dtype}')
    out = frame.copy()
    if not lines:
        return out, (0, 0, 0, 0)
    height, width = frame.shape[:2]
    scale = font_scale(height) if scale is None else scale
    thickness = max(1, int(round(scale * 2)))
    sizes = [cv2.getTextSize(line, FONT, scale, thickness) for line in lines]
    line_height = max(h + base for (_, h), base in sizes) + thickness + 2
    pad = max(2, line_height // 4)
    x1 = min(width, 2 * pad + max(w for (w, _), _ in sizes))
    y1 = min(height, 2 * pad + line_height * len(lines))
    region = np.ascontiguousarray(out[:y1, :x1])
    region = cv2.addWeighted(region, 1 - BOX_OPACITY,
                             np.full_like(region, BOX_COLOUR), BOX_OPACITY, 0)
    for row, ((_, text_h), _) in enumerate(sizes):
        baseline_y = pad + row * line_height + text_h + 1
        cv2.putText(region, lines[row], (pad, baseline_y), FONT, scale,
                    TEXT_COLOUR, thickness, cv2.LINE_AA)
    out[:y1, :x1] = region  # drawn apart: nothing spills out of the box
    return out, (0, 0, x1, y1)
