"""Crops: random, centre, multi-scale, random-resized, three and ten crops.

Boxes are ``[x1, y1, x2, y2]`` in the coordinates of the frames the crop
sees (``img_shape``); sizes given as pairs are ``(w, h)``.

Single-crop transforms (``RandomCrop``, ``CenterCrop``, ``MultiScaleCrop``,
``RandomResizedCrop``) write ``crop_bbox`` (int64 ``[4]``) and
``crop_quadruple`` (float32 ``[x, y, w, h]``: the crop relative to the
ORIGINAL frame size, composed over successive crops) and support lazy mode.
Multi-view crops (``ThreeCrop``, ``TenCrop``) multiply the frames: output
``imgs`` are crop-major (all frames of view 0, then view 1, ...) and
``crop_bbox`` has one row per output frame.
"""
from abc import abstractmethod
from typing import List, Sequence, Tuple, Union

import mmcv
import numpy as np

from mmvid.registry import TRANSFORMS
from .base import VideoTransform, sample_rng
from .lazy import LazyModeKeys, check_lazy_flag, check_not_lazy, lazy_crop

Box = Tuple[int, int, int, int]

SINGLE_CROP_KEYS = LazyModeKeys(
    eager=('imgs', 'img_shape', 'crop_bbox', 'crop_quadruple'),
    lazy=('img_shape', 'crop_bbox', 'crop_quadruple', 'lazy'))


def _size_pair(size: Union[int, Sequence[int]], name: str,
               transform: str) -> Tuple[int, int]:
    """An int or ``(w, h)`` pair of positive ints -> ``(w, h)``."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            for v in size)):
        raise TypeError(f'{transform}: {name} must be an int or a (w, h) '
                        f'pair of ints, got {size!r}')
    if min(size) <= 0:
        raise ValueError(f'{transform}: {name} must be positive, got {size!r}')
    return int(size[0]), int(size[1])


def _check_fits(crop_w: int, crop_h: int, img_shape: Tuple[int, int],
                transform: str) -> None:
    img_h, img_w = img_shape
    if crop_w > img_w or crop_h > img_h:
        raise ValueError(f'{transform}: crop (w={crop_w}, h={crop_h}) is '
                         f'larger than the frames (w={img_w}, h={img_h})')


def compose_quadruple(results: dict, box: Box) -> np.ndarray:
    """The sample's ``crop_quadruple`` after cropping ``box``.

    Returns:
        float32 ``[x, y, w, h]``: the region kept, relative to the original
        frame (``[0, 0, 1, 1]`` before any crop).
    """
    img_h, img_w = results['img_shape']
    old_x, old_y, old_w, old_h = results.get(
        'crop_quadruple', np.array([0, 0, 1, 1], dtype=np.float32))
    x1, y1, x2, y2 = box
    return np.array([
        old_x + x1 / img_w * old_w, old_y + y1 / img_h * old_h,
        (x2 - x1) / img_w * old_w, (y2 - y1) / img_h * old_h
    ], dtype=np.float32)


def apply_crop(results: dict, box: Box, lazy: bool, transform: str) -> dict:
    """Crop every frame to ``box`` (or record it when ``lazy``) and update
    ``crop_bbox``, ``crop_quadruple`` and ``img_shape``."""
    x1, y1, x2, y2 = (int(v) for v in box)
    quadruple = compose_quadruple(results, (x1, y1, x2, y2))
    if lazy:
        lazy_crop(results, np.array([x1, y1, x2, y2]), transform)
    else:
        results['imgs'] = [img[y1:y2, x1:x2] for img in results['imgs']]
    results['crop_quadruple'] = quadruple
    results['crop_bbox'] = np.array([x1, y1, x2, y2], dtype=np.int64)
    results['img_shape'] = (y2 - y1, x2 - x1)
    return results


def _random_offset(rng: np.random.Generator, img_shape: Tuple[int, int],
                   crop_w: int, crop_h: int) -> Tuple[int, int]:
    """A uniformly random top-left ``(x, y)`` of a ``crop_w x crop_h`` crop
    inside frames of ``img_shape = (H, W)``: ``x = rng.integers(0, W - crop_w
    + 1)`` is drawn first, then ``y`` likewise (the draw order fixes which
    crops a seed gives)."""
    img_h, img_w = img_shape
    x = int(rng.integers(0, img_w - crop_w + 1))
    y = int(rng.integers(0, img_h - crop_h + 1))
    return x, y


def _begin(results: dict, lazy: bool, transform: str) -> Tuple[int, int]:
    if not lazy:
        check_not_lazy(results, transform)
    return results['img_shape']


@TRANSFORMS.register_module()
class RandomCrop(VideoTransform):
    """A ``size x size`` crop at a uniformly random offset (one per sample):
    ``x = rng.integers(0, W - size + 1)``, then ``y`` likewise.

    Args:
        size: Side of the square crop.
        lazy: Record the crop for ``Fuse``.

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of ``[size, size, C]``; not when lazy),
    ``img_shape``, ``crop_bbox``, ``crop_quadruple``, ``lazy`` (when lazy).
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = SINGLE_CROP_KEYS

    def __init__(self, size: int, lazy: bool = False) -> None:
        if (not isinstance(size, (int, np.integer))
                or isinstance(size, bool)):
            raise TypeError(f'RandomCrop: size must be an int, got {size!r}')
        if size <= 0:
            raise ValueError(f'RandomCrop: size must be positive, got {size}')
        self.size = int(size)
        self.lazy = check_lazy_flag(lazy, 'RandomCrop')

    def transform(self, results: dict) -> dict:
        img_h, img_w = _begin(results, self.lazy, 'RandomCrop')
        _check_fits(self.size, self.size, (img_h, img_w), 'RandomCrop')
        x, y = _random_offset(sample_rng(results), (img_h, img_w), self.size,
                              self.size)
        return apply_crop(results, (x, y, x + self.size, y + self.size),
                          self.lazy, 'RandomCrop')


@TRANSFORMS.register_module()
class CenterCrop(VideoTransform):
    """The centred crop: ``left = (W - w) // 2``, ``top = (H - h) // 2``.

    Args:
        crop_size: An int (square) or ``(w, h)``.
        lazy: Record the crop for ``Fuse``.

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of ``[h, w, C]``; not when lazy),
    ``img_shape``, ``crop_bbox``, ``crop_quadruple``, ``lazy`` (when lazy).
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = SINGLE_CROP_KEYS

    def __init__(self, crop_size: Union[int, Tuple[int, int]],
                 lazy: bool = False) -> None:
        self.crop_size = _size_pair(crop_size, 'crop_size', 'CenterCrop')
        self.lazy = check_lazy_flag(lazy, 'CenterCrop')

    def transform(self, results: dict) -> dict:
        img_h, img_w = _begin(results, self.lazy, 'CenterCrop')
        crop_w, crop_h = self.crop_size
        _check_fits(crop_w, crop_h, (img_h, img_w), 'CenterCrop')
        left, top = (img_w - crop_w) // 2, (img_h - crop_h) // 2
        return apply_crop(results, (left, top, left + crop_w, top + crop_h),
                          self.lazy, 'CenterCrop')


def fixed_crop_offsets(img_shape: Tuple[int, int], crop_w: int, crop_h: int,
                       num_fixed_crops: int = 5) -> List[Tuple[int, int]]:
    """The fixed ``(x, y)`` offsets of ``MultiScaleCrop``/``TenCrop``.

    With ``ws = (W - crop_w) // 4`` and ``hs = (H - crop_h) // 4``: the 5
    crops are the corners and the centre ``(0, 0), (4ws, 0), (0, 4hs),
    (4ws, 4hs), (2ws, 2hs)``; 13 crops add centre-left ``(0, 2hs)``,
    centre-right ``(4ws, 2hs)``, upper centre ``(2ws, 0)``, lower centre
    ``(2ws, 4hs)`` and the quarter points ``(ws, hs), (3ws, hs), (ws, 3hs),
    (3ws, 3hs)``.
    """
    img_h, img_w = img_shape
    ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
    offsets = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs),
               (2 * ws, 2 * hs)]
    if num_fixed_crops == 13:
        offsets += [(0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 0),
                    (2 * ws, 4 * hs), (ws, hs), (3 * ws, hs), (ws, 3 * hs),
                    (3 * ws, 3 * hs)]
    return offsets


@TRANSFORMS.register_module()
class MultiScaleCrop(VideoTransform):
    """A crop whose width and height are random fractions of the short side.

    ``crop_sizes = [int(min(H, W) * s) for s in scales]``; the candidate
    ``(w, h)`` are ``(crop_sizes[j], crop_sizes[i])`` with
    ``|i - j| <= max_wh_scale_gap``; one is drawn, and a side that differs
    from ``input_size`` by less than 3 px snaps to it. The offset is uniform
    (``random_crop``) or drawn among :func:`fixed_crop_offsets`. The crop is
    not resized (follow it with ``Resize``).

    Draws from the sample's generator, in order: the candidate index
    ``rng.integers(len(candidates))``, then the offset index
    ``rng.integers(num_fixed_crops)`` (or ``x`` then ``y`` with
    ``rng.integers(0, W - w + 1)`` when ``random_crop``).

    Args:
        input_size: Network input size, an int or ``(w, h)`` (snap target).
        scales: Fractions of the short side, each in ``(0, 1]``.
        max_wh_scale_gap: Largest index gap between the width and height
            scales (0: square crops).
        random_crop: Uniform offsets instead of fixed ones.
        num_fixed_crops: 5 or 13 fixed offsets.
        lazy: Record the crop for ``Fuse``.

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of ``[h, w, C]``; not when lazy),
    ``img_shape``, ``crop_bbox``, ``crop_quadruple``, ``scales``, ``lazy``
    (when lazy).
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = LazyModeKeys(
        eager=SINGLE_CROP_KEYS.eager + ('scales', ),
        lazy=SINGLE_CROP_KEYS.lazy + ('scales', ))

    def __init__(self,
                 input_size: Union[int, Tuple[int, int]],
                 scales: Sequence[float] = (1, ),
                 max_wh_scale_gap: int = 1,
                 random_crop: bool = False,
                 num_fixed_crops: int = 5,
                 lazy: bool = False) -> None:
        name = 'MultiScaleCrop'
        self.input_size = _size_pair(input_size, 'input_size', name)
        if (not isinstance(scales, (tuple, list)) or not scales or not all(
                isinstance(s, (int, float)) and not isinstance(s, bool)
                for s in scales)):
            raise TypeError(f'{name}: scales must be a non-empty tuple of '
                            f'numbers, got {scales!r}')
        if not all(0 < s <= 1 for s in scales):
            raise ValueError(f'{name}: scales must lie in (0, 1], got '
                             f'{scales!r}')
        if (not isinstance(max_wh_scale_gap, int)
                or isinstance(max_wh_scale_gap, bool)
                or max_wh_scale_gap < 0):
            raise ValueError(f'{name}: max_wh_scale_gap must be an int >= 0, '
                             f'got {max_wh_scale_gap!r}')
        if not isinstance(random_crop, bool):
            raise TypeError(f'{name}: random_crop must be True or False, got '
                            f'{random_crop!r}')
        if num_fixed_crops not in (5, 13):
            raise ValueError(f'{name}: num_fixed_crops must be 5 or 13, got '
                             f'{num_fixed_crops!r}')
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops
        self.lazy = check_lazy_flag(lazy, name)

    def candidate_sizes(self, img_shape: Tuple[int, int]
                        ) -> List[Tuple[int, int]]:
        """The ``(w, h)`` crop sizes drawn from, after the 3-px snap."""
        base = min(img_shape)
        sizes = [int(base * s) for s in self.scales]
        in_w, in_h = self.input_size
        candidates = []
        for i, h in enumerate(sizes):
            for j, w in enumerate(sizes):
                if abs(i - j) <= self.max_wh_scale_gap:
                    candidates.append(
                        (in_w if abs(w - in_w) < 3 else w,
                         in_h if abs(h - in_h) < 3 else h))
        return candidates

    def transform(self, results: dict) -> dict:
        name = 'MultiScaleCrop'
        img_h, img_w = _begin(results, self.lazy, name)
        rng = sample_rng(results)
        candidates = self.candidate_sizes((img_h, img_w))
        crop_w, crop_h = candidates[int(rng.integers(len(candidates)))]
        if crop_w > img_w or crop_h > img_h:
            raise ValueError(
                f'{name}: crop (w={crop_w}, h={crop_h}) (snapped to '
                f'input_size={self.input_size}) is larger than the frames '
                f'(w={img_w}, h={img_h}); resize the frames first')
        if self.random_crop:
            x, y = _random_offset(rng, (img_h, img_w), crop_w, crop_h)
        else:
            offsets = fixed_crop_offsets((img_h, img_w), crop_w, crop_h,
                                         self.num_fixed_crops)
            x, y = offsets[int(rng.integers(len(offsets)))]
        results['scales'] = self.scales
        return apply_crop(results, (x, y, x + crop_w, y + crop_h), self.lazy,
                          name)


@TRANSFORMS.register_module()
class RandomResizedCrop(VideoTransform):
    """A crop of random area and aspect ratio (Inception style), not
    resized (follow it with ``Resize``).

    Ten attempts are drawn at once: ``ar = exp(U(log ar_min, log ar_max))``
    (10 draws), then ``area = U(area_range) * H * W`` (10 draws),
    ``w = round(sqrt(area * ar))``, ``h = round(sqrt(area / ar))``. The
    first that fits gets a uniform offset (``x`` then ``y``, as
    ``RandomCrop``); if none fits, the centred ``min(H, W)`` square is used.

    Args:
        area_range: Fraction of the frame area, ``0 < lo <= hi <= 1``.
        aspect_ratio_range: ``w / h`` range, ``0 < lo <= hi``.
        lazy: Record the crop for ``Fuse``.

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of ``[h, w, C]``; not when lazy),
    ``img_shape``, ``crop_bbox``, ``crop_quadruple``, ``lazy`` (when lazy).
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = SINGLE_CROP_KEYS
    max_attempts = 10

    def __init__(self,
                 area_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3 / 4, 4 / 3),
                 lazy: bool = False) -> None:
        name = 'RandomResizedCrop'
        for arg, value in (('area_range', area_range),
                           ('aspect_ratio_range', aspect_ratio_range)):
            if (not isinstance(value, (tuple, list)) or len(value) != 2
                    or not all(isinstance(v, (int, float)) for v in value)):
                raise TypeError(f'{name}: {arg} must be a (min, max) pair of '
                                f'numbers, got {value!r}')
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f'{name}: area_range must satisfy 0 < min <= '
                             f'max <= 1, got {area_range!r}')
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f'{name}: aspect_ratio_range must satisfy 0 < '
                             f'min <= max, got {aspect_ratio_range!r}')
        self.area_range = tuple(area_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.lazy = check_lazy_flag(lazy, name)

    def get_crop_bbox(self, img_shape: Tuple[int, int],
                      rng: np.random.Generator) -> Box:
        """Draw the crop box for frames of ``img_shape = (h, w)``."""
        img_h, img_w = img_shape
        lo, hi = np.log(self.aspect_ratio_range)
        ratios = np.exp(rng.uniform(lo, hi, size=self.max_attempts))
        areas = rng.uniform(*self.area_range,
                            size=self.max_attempts) * img_h * img_w
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
        for crop_w, crop_h in zip(widths.tolist(), heights.tolist()):
            if crop_w <= img_w and crop_h <= img_h:
                x, y = _random_offset(rng, img_shape, crop_w, crop_h)
                return x, y, x + crop_w, y + crop_h
        side = min(img_h, img_w)
        x, y = (img_w - side) // 2, (img_h - side) // 2
        return x, y, x + side, y + side

    def transform(self, results: dict) -> dict:
        img_shape = _begin(results, self.lazy, 'RandomResizedCrop')
        box = self.get_crop_bbox(img_shape, sample_rng(results))
        return apply_crop(results, box, self.lazy, 'RandomResizedCrop')


def _multi_view(results: dict, boxes: List[Box], flips: bool) -> dict:
    """Crop-major views of every frame (each followed by its horizontal
    flip when ``flips``); one ``crop_bbox`` row per output frame."""
    imgs, rows = [], []
    for x1, y1, x2, y2 in boxes:
        views = [img[y1:y2, x1:x2] for img in results['imgs']]
        copies = 2 if flips else 1
        imgs.extend(views)
        if flips:
            imgs.extend(
                np.ascontiguousarray(mmcv.imflip(v, 'horizontal'))
                for v in views)
        rows.extend([(x1, y1, x2, y2)] * (len(views) * copies))
    results['imgs'] = imgs
    results['crop_bbox'] = np.array(rows, dtype=np.int64).reshape(-1, 4)
    x1, y1, x2, y2 = boxes[0]
    results['img_shape'] = (y2 - y1, x2 - x1)
    return results


class MultiViewCrop(VideoTransform):
    """Base of ``ThreeCrop`` and ``TenCrop``: several ``crop_size`` crops of
    every frame (test time; no lazy mode).

    ``transform`` refuses lazy frames and a crop larger than the frames,
    takes the crops at ``view_offsets`` and writes them crop-major (each
    followed by its horizontal flip when ``flips``), with one ``crop_bbox``
    row per output frame. Messages start with the transform's class name.

    Args:
        crop_size: An int (square) or ``(w, h)``.
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = ('imgs', 'img_shape', 'crop_bbox')
    flips = False

    def __init__(self, crop_size: Union[int, Tuple[int, int]]) -> None:
        self.crop_size = _size_pair(crop_size, 'crop_size',
                                    type(self).__name__)

    def transform(self, results: dict) -> dict:
        name = type(self).__name__
        check_not_lazy(results, name)
        img_shape = results['img_shape']
        crop_w, crop_h = self.crop_size
        _check_fits(crop_w, crop_h, img_shape, name)
        boxes = [(x, y, x + crop_w, y + crop_h)
                 for x, y in self.view_offsets(img_shape, crop_w, crop_h)]
        return _multi_view(results, boxes, self.flips)

    @abstractmethod
    def view_offsets(self, img_shape: Tuple[int, int], crop_w: int,
                     crop_h: int) -> List[Tuple[int, int]]:
        """The ``(x, y)`` offsets of the crops, in output order."""


@TRANSFORMS.register_module()
class ThreeCrop(MultiViewCrop):
    """Three crops along the long side (test time; no lazy mode).

    One side of the crop must equal the frame's. If ``h == H``:
    ``step = (W - w) // 2`` and the crops are left ``x = 0``, right
    ``x = 2 * step``, middle ``x = step`` (in that order); otherwise the same
    along y with ``w == W``.

    Args:
        crop_size: An int (square) or ``(w, h)``.

    Required keys: ``imgs`` (list of M ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of 3M ``[h, w, C]``, crop-major),
    ``img_shape``, ``crop_bbox`` (int64 ``[3M, 4]``, one row per frame).
    """

    def view_offsets(self, img_shape: Tuple[int, int], crop_w: int,
                     crop_h: int) -> List[Tuple[int, int]]:
        img_h, img_w = img_shape
        if crop_h == img_h:
            step = (img_w - crop_w) // 2
            return [(0, 0), (2 * step, 0), (step, 0)]
        if crop_w == img_w:
            step = (img_h - crop_h) // 2
            return [(0, 0), (0, 2 * step), (0, step)]
        raise ValueError(
            f'ThreeCrop: crop (w={crop_w}, h={crop_h}) must span the '
            f'whole width or height of the frames (w={img_w}, '
            f'h={img_h}); resize the short side to the crop size first')


@TRANSFORMS.register_module()
class TenCrop(MultiViewCrop):
    """Five crops (the 4 corners and the centre, as the 5 fixed crops of
    ``MultiScaleCrop``), each followed by its horizontal flip (test time; no
    lazy mode).

    Args:
        crop_size: An int (square) or ``(w, h)``.

    Required keys: ``imgs`` (list of M ``[H, W, C]``), ``img_shape``.

    Added keys: ``imgs`` (list of 10M ``[h, w, C]``: crop 0, crop 0 flipped,
    crop 1, ...), ``img_shape``, ``crop_bbox`` (int64 ``[10M, 4]``).
    """
    flips = True

    def view_offsets(self, img_shape: Tuple[int, int], crop_w: int,
                     crop_h: int) -> List[Tuple[int, int]]:
        return fixed_crop_offsets(img_shape, crop_w, crop_h)
