"""``Flip``: flip all frames of a sample, or none."""
from typing import Dict, Optional

import cv2
import mmcv
import numpy as np

from mmvid.registry import TRANSFORMS
from .base import VideoTransform, sample_rng
from .lazy import LazyModeKeys, check_lazy_flag, check_not_lazy, lazy_flip
from .opencv_frames import opencv_takes

DIRECTIONS = ('horizontal', 'vertical')


def flip_frame(img: np.ndarray, direction: str) -> np.ndarray:
    """A flipped contiguous copy of an ``[H, W(, C)]`` frame: ``cv2.flip``
    (one SIMD pass; 15x faster than copying numpy's reversed view), numpy
    for what OpenCV would change (:func:`opencv_takes`: e.g. int64, bool,
    more than 4 channels)."""
    if not opencv_takes(img):
        return np.ascontiguousarray(mmcv.imflip(img, direction))
    out = cv2.flip(img, 1 if direction == 'horizontal' else 0)
    return out.reshape(img.shape)  # cv2 drops a trailing channel axis of 1


class _RequiredKeys:
    """``('imgs', 'img_shape')``, plus ``'label'`` on a Flip with a
    ``flip_label_map``."""

    def __get__(self, obj, owner=None):
        keys = ('imgs', 'img_shape')
        if obj is not None and getattr(obj, 'flip_label_map',
                                       None) is not None:
            keys += ('label', )
        return keys


@TRANSFORMS.register_module()
class Flip(VideoTransform):
    """Flip every frame with probability ``flip_ratio`` (one draw per
    sample: ``rng.random() < flip_ratio``).

    Args:
        flip_ratio: Probability of flipping, in ``[0, 1]``.
        direction: ``'horizontal'`` (mirror left-right) or ``'vertical'``.
        flip_label_map: ``{label: label_when_flipped}`` for classes whose
            meaning flips (e.g. "swipe left" <-> "swipe right"); labels not
            in the map stay. Needs int labels.
        lazy: Record the decision for ``Fuse`` (must be the last lazy op).

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``, and
    ``label`` (an int) when ``flip_label_map`` is given.

    Added keys: ``imgs`` (not when lazy), ``flip`` (bool),
    ``flip_direction``, ``lazy`` (when lazy); ``label`` is overwritten when
    the sample is flipped and its label is in ``flip_label_map``.
    """
    required_keys = _RequiredKeys()
    added_keys = LazyModeKeys(eager=('imgs', 'flip', 'flip_direction'),
                              lazy=('flip', 'flip_direction', 'lazy'))

    def __init__(self,
                 flip_ratio: float = 0.5,
                 direction: str = 'horizontal',
                 flip_label_map: Optional[Dict[int, int]] = None,
                 lazy: bool = False) -> None:
        if (isinstance(flip_ratio, bool)
                or not isinstance(flip_ratio, (int, float))
                or not 0 <= flip_ratio <= 1):
            raise ValueError('Flip: flip_ratio must be a number in [0, 1], '
                             f'got {flip_ratio!r}')
        if direction not in DIRECTIONS:
            raise ValueError(f'Flip: direction must be one of {DIRECTIONS}, '
                             f'got {direction!r}')
        if flip_label_map is not None:
            if not isinstance(flip_label_map, dict) or not all(
                    isinstance(k, int) and isinstance(v, int)
                    for k, v in flip_label_map.items()):
                raise TypeError(
                    'Flip: flip_label_map must be a dict of int labels to '
                    f'int labels, got {flip_label_map!r}')
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map
        self.lazy = check_lazy_flag(lazy, 'Flip')

    def transform(self, results: dict) -> dict:
        if results.get('modality', 'RGB') != 'RGB':
            raise ValueError('Flip supports RGB frames only, got modality '
                             f"{results['modality']!r}")
        if not self.lazy:
            check_not_lazy(results, 'Flip')
        if self.flip_label_map is not None:
            label = results['label']
            if (isinstance(label, (bool, np.bool_))
                    or not isinstance(label, (int, np.integer))):
                raise TypeError('Flip: flip_label_map needs an int label, '
                                f'got label {label!r}')
        flip = bool(sample_rng(results).random() < self.flip_ratio)
        if self.lazy:
            lazy_flip(results, flip, self.direction, 'Flip')
        elif flip:
            results['imgs'] = [flip_frame(img, self.direction)
                               for img in results['imgs']]
        else:
            results['imgs'] = list(results['imgs'])
        if flip and self.flip_label_map is not None:
            label = int(results['label'])
            results['label'] = self.flip_label_map.get(label, label)
        results['flip'] = flip
        results['flip_direction'] = self.direction
        return results
