"""Clips of the synthetic action dataset: a scene whose MOTION is the class.

A scene is a textured shape in front of a textured background; the camera
moves, so shape and background move together: the whole frame moves left,
right, up or down, rotates about the shape's centre, or zooms in or out
about it. Motion over the whole frame (not just a small shape) is what lets
a small I3D learn the classes from scratch in a few minutes on a CPU.

Classes (label order): ``move_left, move_right, move_up, move_down,
rotate_cw, rotate_ccw, approach`` (grows), ``recede`` (shrinks). A dataset
with ``num_classes=k`` uses the first k.

Why no single frame tells the class. A clip is drawn in two independent
parts:

- the *appearance* (:func:`sample_appearance`): shape type, stripe texture,
  colours, background texture, per-frame noise, and the shape's state --
  centre, angle, radius -- at the anchor frame ``m = num_frames // 2``;
- the *motion* (:func:`sample_motion`): the class and how far it moves.

The state at frame ``t`` is the anchor state moved by
``u = (t - m) / (num_frames - 1)`` of the motion (:func:`clip_states`); the
background undergoes the same similarity transform about the anchor centre
(:func:`scene_matrix`). At ``t = m`` every class shows the anchor state itself: frame ``m`` is a
function of the appearance alone and is pixel-identical whatever the class.
The anchor ranges are the same for all classes (wide enough margins for the
farthest-moving and the largest-growing class), so every class keeps the
shape fully in view. Opposite classes are mirror images in time: frame
``m + j`` of ``move_left`` has the distribution of frame ``m - j`` of
``move_right`` (up to the one-frame asymmetry of an even clip length).
Only the change across frames tells the class.

The background is random texture drawn on a canvas large enough for every
motion, so no frame shows a border or a seam. What a single frame can still
tell: the view is bounded, so the shape of a
``move_right`` clip starts left of its anchor; a frame at a *known* time
other than the middle is informative (Bayes-optimal 8-way accuracy from the
exact centre and size of frame 0: about 0.65 at 128x96, 32 frames). A
frame at an unknown, uniformly random time reveals at most the motion axis
(about 0.24, chance 0.125), never the direction within an opposite pair
(0.50). Labels are not flip-invariant: a horizontal flip turns
``move_left`` into ``move_right`` and ``rotate_cw`` into ``rotate_ccw``
(a vertical flip swaps up / down and the rotations).
"""
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

CLASS_NAMES = ('move_left', 'move_right', 'move_up', 'move_down',
               'rotate_cw', 'rotate_ccw', 'approach', 'recede')
SHAPES = ('rectangle', 'triangle', 'ellipse', 'ell')

SPRITE_SIZE = 64  # side of the square sprite canvas, px
SPRITE_RADIUS = 30.0  # every shape fits the circle of this radius
RADIUS_RANGE = (0.11, 0.15)  # anchor radius / short image side
SHIFT_RANGE = (0.30, 0.40)  # whole-clip path / image width (height)
TURN_RANGE = (120.0, 200.0)  # whole-clip rotation, degrees
ZOOM_RANGE = (1.8, 2.4)  # whole-clip size ratio
MIN_COLOR_DISTANCE = 150  # L1 distance of shape and background colours
BACKGROUND_LEVELS = (128, 128)  # mean background colour range, per channel
BLOB_SIZE = 1 / 12  # background blobs / short image side
DETAIL_SIGMA = 1 / 64  # background fine-detail blur / short image side


@dataclass(frozen=True)
class Appearance:
    """Everything about a clip except its motion.

    Attributes:
        shape (str): One of :data:`SHAPES`.
        premultiplied (np.ndarray): float32 [S, S, 3] sprite colour (BGR)
            times alpha.
        alpha (np.ndarray): float32 [S, S] in [0, 1].
        background (np.ndarray): float32 [C, C, 3] BGR texture canvas; its
            centre pixel ``((C - 1) / 2, (C - 1) / 2)`` sits at ``center``
            in the anchor frame.
        size (tuple[int, int]): (width, height) of the frames.
        center (tuple[float, float]): (x, y) at the anchor frame, px.
        angle (float): Degrees at the anchor frame (clockwise on screen).
        radius (float): Bounding-circle radius at the anchor frame, px.
        noise (int): Per-frame uniform pixel noise in [-noise, noise].
        noise_seed (int): Seed of the per-frame noise.
    """
    shape: str
    premultiplied: np.ndarray
    alpha: np.ndarray
    background: np.ndarray
    size: Tuple[int, int]
    center: Tuple[float, float]
    angle: float
    radius: float
    noise: int
    noise_seed: int


@dataclass(frozen=True)
class Motion:
    """The class of a clip and how far it moves.

    Attributes:
        label (int): Index into :data:`CLASS_NAMES`.
        amount (float): Whole-clip path in px (move), rotation in degrees
            (rotate) or size ratio > 1 (approach / recede).
    """
    label: int
    amount: float


def anchor_frame(num_frames: int) -> int:
    """The frame at which every class shows the anchor state."""
    return num_frames // 2


def _max_offset(num_frames: int) -> float:
    """The largest ``|t - m| / (num_frames - 1)`` in the clip."""
    m = anchor_frame(num_frames)
    return max(m, num_frames - 1 - m) / (num_frames - 1)


def anchor_margins(size: Tuple[int, int],
                   num_frames: int) -> Tuple[float, float]:
    """(x, y) margins keeping the shape in view for every class.

    Raises:
        ValueError: If the image is too small for the motions.
    """
    width, height = size
    r_max = RADIUS_RANGE[1] * min(width, height)
    u_max = _max_offset(num_frames)
    grown = r_max * ZOOM_RANGE[1]**u_max
    mx = max(r_max + SHIFT_RANGE[1] * width * u_max, grown) + 1
    my = max(r_max + SHIFT_RANGE[1] * height * u_max, grown) + 1
    if mx >= width / 2 or my >= height / 2:
        raise ValueError(
            f'size={tuple(size)} with num_frames={num_frames} is too small '
            'to keep the moving shape in view; use at least 16 px a side '
            'and 4 frames')
    return mx, my


def _distinct_color(rng: np.random.Generator,
                    other: np.ndarray) -> np.ndarray:
    for _ in range(1000):
        color = rng.uniform(0, 255, 3)
        if np.abs(color - other).sum() >= MIN_COLOR_DISTANCE:
            return color
    raise RuntimeError('no colour far enough from the background')


def _shape_mask(rng: np.random.Generator, shape: str) -> np.ndarray:
    """float32 [S, S] anti-aliased mask of a shape inside the circle of
    radius :data:`SPRITE_RADIUS`, drawn 4x larger and shrunk."""
    up = 4
    big = np.zeros((SPRITE_SIZE * up, SPRITE_SIZE * up), np.uint8)
    c = (SPRITE_SIZE - 1) / 2 * up
    r = SPRITE_RADIUS * up
    if shape == 'ellipse':
        ratio = rng.uniform(0.45, 0.7)
        cv2.ellipse(big, (round(c), round(c)), (round(r), round(r * ratio)),
                    0, 0, 360, 255, -1)
    else:
        if shape == 'rectangle':
            aspect = rng.uniform(0.4, 0.7)
            hw = 1 / np.sqrt(1 + aspect**2)
            pts = [(-hw, -hw * aspect), (hw, -hw * aspect),
                   (hw, hw * aspect), (-hw, hw * aspect)]
        elif shape == 'triangle':
            half = np.deg2rad(rng.uniform(130, 150))
            pts = [(np.cos(a), np.sin(a)) for a in
                   (-np.pi / 2, -np.pi / 2 + half, -np.pi / 2 - half)]
        elif shape == 'ell':
            s = 1 / np.sqrt(2)
            pts = [(-s, -s), (-s, s), (s, s), (s, 0.3 * s),
                   (-0.3 * s, 0.3 * s), (-0.3 * s, -s)]
        else:
            raise ValueError(f'shape must be one of {SHAPES}, got {shape!r}')
        poly = np.array([[c + r * x, c + r * y] for x, y in pts])
        cv2.fillPoly(big, [np.round(poly).astype(np.int32)], 255)
    small = cv2.resize(big, (SPRITE_SIZE, SPRITE_SIZE),
                       interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255


def canvas_size(size: Tuple[int, int], num_frames: int) -> int:
    """Side of a background canvas that covers the view in every frame.

    In every frame the shape's centre is in view, so no pixel of the view
    is farther than the image diagonal from it; mapped back to the anchor
    scene, that distance grows by at most the largest zoom-out
    ``ZOOM_RANGE[1] ** u_max``.
    """
    width, height = size
    reach = np.hypot(width, height) * ZOOM_RANGE[1]**_max_offset(num_frames)
    return int(np.ceil(2 * reach)) + 4


def _background(rng: np.random.Generator, color: np.ndarray, short: int,
                side: int) -> np.ndarray:
    """float32 [side, side, 3]: ``color`` plus smooth blobs plus fine
    detail, both scaled to the short image side ``short``."""
    cells = max(2, round(side / max(1.0, BLOB_SIZE * short)))
    coarse = cv2.resize(rng.normal(0, 50, (cells, cells, 3)).astype(
        np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
    detail = cv2.GaussianBlur(
        rng.normal(0, 1, (side, side, 3)).astype(np.float32), (0, 0),
        max(0.5, DETAIL_SIGMA * short))
    detail *= 40 / max(float(detail.std()), 1e-6)
    return np.clip(color + coarse + detail, 0, 255).astype(np.float32)


def sample_appearance(rng: np.random.Generator,
                      size: Tuple[int, int],
                      num_frames: int,
                      noise: int = 6) -> Appearance:
    """Draw a shape, its texture, the background and the anchor state.

    Args:
        rng (np.random.Generator): The only source of randomness.
        size (tuple[int, int]): (width, height) of the frames.
        num_frames (int): Clip length (sets the margins).
        noise (int): Per-frame pixel noise amplitude.

    Returns:
        Appearance: The appearance; the same for every class.
    """
    width, height = size
    mx, my = anchor_margins(size, num_frames)
    shape = SHAPES[rng.integers(len(SHAPES))]
    alpha = _shape_mask(rng, shape)

    bg_color = rng.uniform(*BACKGROUND_LEVELS, 3)
    background = _background(rng, bg_color, min(width, height),
                             canvas_size(size, num_frames))

    color_a = _distinct_color(rng, bg_color)
    color_b = np.clip(color_a + rng.uniform(-100, 100, 3), 0, 255)
    period = rng.uniform(10, 16)
    theta = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:SPRITE_SIZE, 0:SPRITE_SIZE].astype(np.float32)
    wave = 0.5 + 0.5 * np.sin(
        2 * np.pi * (xs * np.cos(theta) + ys * np.sin(theta)) / period)
    sprite = color_a + (color_b - color_a) * wave[..., None]

    return Appearance(
        shape=shape,
        premultiplied=(sprite * alpha[..., None]).astype(np.float32),
        alpha=alpha,
        background=background,
        size=(int(width), int(height)),
        center=(float(rng.uniform(mx, width - mx)),
                float(rng.uniform(my, height - my))),
        angle=float(rng.uniform(0, 360)),
        radius=float(rng.uniform(*RADIUS_RANGE) * min(width, height)),
        noise=int(noise),
        noise_seed=int(rng.integers(2**31)))


def sample_motion(rng: np.random.Generator, label: int,
                  size: Tuple[int, int]) -> Motion:
    """Draw how far a clip of class ``label`` moves (turns, zooms)."""
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(
            f'label must be in [0, {len(CLASS_NAMES)}), got {label!r}')
    name = CLASS_NAMES[label]
    if name in ('move_left', 'move_right'):
        amount = rng.uniform(*SHIFT_RANGE) * size[0]
    elif name in ('move_up', 'move_down'):
        amount = rng.uniform(*SHIFT_RANGE) * size[1]
    elif name.startswith('rotate'):
        amount = rng.uniform(*TURN_RANGE)
    else:
        amount = rng.uniform(*ZOOM_RANGE)
    return Motion(label=label, amount=float(amount))


def clip_states(appearance: Appearance, motion: Motion,
                num_frames: int) -> np.ndarray:
    """The shape's state in every frame.

    Returns:
        np.ndarray: float64 [T, 4]: x, y (px), angle (degrees, clockwise on
        screen), radius (px). Row ``anchor_frame(T)`` is the anchor state.
    """
    if num_frames < 4:
        raise ValueError(f'num_frames must be >= 4, got {num_frames!r}')
    u = (np.arange(num_frames) - anchor_frame(num_frames)) / (num_frames - 1)
    x0, y0 = appearance.center
    states = np.tile([x0, y0, appearance.angle, appearance.radius],
                     (num_frames, 1)).astype(np.float64)
    name = CLASS_NAMES[motion.label]
    step = {'move_left': (0, -1), 'move_right': (0, 1), 'move_up': (1, -1),
            'move_down': (1, 1), 'rotate_cw': (2, 1), 'rotate_ccw': (2, -1)}
    if name in step:
        column, sign = step[name]
        states[:, column] += sign * motion.amount * u
    else:
        sign = 1 if name == 'approach' else -1
        states[:, 3] *= motion.amount**(sign * u)
    return states


def _sprite_to_image(x: float, y: float, angle: float,
                     radius: float) -> np.ndarray:
    """2x3 affine matrix from sprite to image coordinates."""
    k = radius / SPRITE_RADIUS
    a = np.deg2rad(angle)
    rot = k * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    c = (SPRITE_SIZE - 1) / 2
    return np.hstack([rot, (np.array([x, y]) - rot @ [c, c])[:, None]])


def scene_matrix(appearance: Appearance, state: np.ndarray) -> np.ndarray:
    """2x3 affine matrix from background-canvas to image coordinates in a
    frame whose shape state (x, y, angle, radius) is ``state``: the anchor
    scene moved by the same similarity transform as the shape."""
    x0, y0 = appearance.center
    x, y, angle, radius = state
    k = radius / appearance.radius
    a = np.deg2rad(angle - appearance.angle)
    rot = k * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    half = (appearance.background.shape[0] - 1) / 2
    # canvas q -> anchor image q - half + c0 -> frame c + rot (. - c0)
    shift = np.array([x, y]) - rot @ [half, half]
    return np.hstack([rot, shift[:, None]])


def render_clip(appearance: Appearance, motion: Motion,
                num_frames: int) -> np.ndarray:
    """Render a clip.

    Returns:
        np.ndarray: uint8 [T, H, W, 3], BGR (OpenCV order).
    """
    width, height = appearance.size
    noise_rng = np.random.default_rng(appearance.noise_seed)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    warp = dict(dsize=(width, height), flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    for t, state in enumerate(clip_states(appearance, motion, num_frames)):
        x, y, angle, radius = state
        background = cv2.warpAffine(appearance.background,
                                    scene_matrix(appearance, state), **warp)
        premul, alpha = appearance.premultiplied, appearance.alpha
        scale = radius / SPRITE_RADIUS
        if scale < 1:  # low-pass before shrinking to avoid aliasing
            sigma = 0.5 / scale
            premul = cv2.GaussianBlur(premul, (0, 0), sigma)
            alpha = cv2.GaussianBlur(alpha, (0, 0), sigma)
        matrix = _sprite_to_image(x, y, angle, radius)
        premul = cv2.warpAffine(premul, matrix, **warp)
        alpha = cv2.warpAffine(alpha, matrix, **warp)
        frame = background * (1 - alpha[..., None]) + premul
        if appearance.noise:
            frame += noise_rng.integers(
                -appearance.noise, appearance.noise + 1, frame.shape,
                dtype=np.int16)
        frames[t] = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    return frames
