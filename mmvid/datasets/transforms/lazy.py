"""Lazy spatial transforms: record now, apply once with ``Fuse``.

A geometric transform built with ``lazy=True`` leaves ``results['imgs']``
untouched and records what it would do in ``results['lazy']``:

- ``original_shape``: ``(h, w)`` of the frames when the first lazy op ran;
- ``crop_bbox``: float32 ``[x1, y1, x2, y2]``, the region of the ORIGINAL
  frames that the composed crops keep;
- ``flip`` / ``flip_direction``: the pending flip;
- ``interpolation``: the interpolation of the last lazy resize (None: none).

``img_shape`` is updated as if the transforms had run, so later transforms
compute the same boxes in both modes. ``Fuse`` then crops the original
frames once, resizes once to ``img_shape`` and flips, so a lazy pipeline
interpolates once instead of once per resize.

Rules (shared by every lazy-capable transform through the helpers below):

- a non-lazy geometric transform on a sample with pending lazy operations
  raises ``ValueError`` ("Use Fuse after lazy operations");
- a lazy crop or resize after a lazy flip raises ``ValueError`` (the flip
  must be the last lazy operation), as does a second lazy flip.
"""
from typing import Tuple

import cv2
import numpy as np
from mmcv.image.geometric import cv2_interp_codes

from mmvid.registry import TRANSFORMS

from .base import VideoTransform


class LazyModeKeys:
    """A class attribute (``required_keys``/``added_keys``) whose value
    depends on the instance's ``lazy`` flag.

    On the class it reads as the eager keys; on an instance built with
    ``lazy=True`` it reads as the lazy keys.
    """

    def __init__(self, eager: Tuple[str, ...], lazy: Tuple[str, ...]) -> None:
        self.eager = tuple(eager)
        self.lazy = tuple(lazy)

    def __get__(self, obj, owner=None) -> Tuple[str, ...]:
        if obj is not None and getattr(obj, 'lazy', False):
            return self.lazy
        return self.eager


def check_lazy_flag(lazy: bool, transform: str) -> bool:
    """Validate a constructor's ``lazy`` argument."""
    if not isinstance(lazy, bool):
        raise TypeError(f'{transform}: lazy must be True or False, got '
                        f'{lazy!r}')
    return lazy


def init_lazy(results: dict) -> dict:
    """``results['lazy']``, created from ``img_shape`` if absent.

    Returns:
        The lazy state dict (see the module docstring).
    """
    if 'lazy' not in results:
        img_h, img_w = results['img_shape']
        results['lazy'] = dict(
            original_shape=(img_h, img_w),
            crop_bbox=np.array([0, 0, img_w, img_h], dtype=np.float32),
            flip=False,
            flip_direction=None,
            interpolation=None)
    return results['lazy']


def check_not_lazy(results: dict, transform: str) -> None:
    """Raise if the sample has pending lazy operations.

    Called by every non-lazy geometric transform: it would work on the
    original frames while ``img_shape`` already describes the lazily
    transformed ones.
    """
    if 'lazy' in results:
        raise ValueError(
            f'{transform} is not lazy but the sample has pending lazy '
            'operations. Use Fuse after lazy operations: put Fuse() before '
            f'{transform} in the pipeline, or build {transform} with '
            'lazy=True.')


def begin_lazy_geometry(results: dict, transform: str) -> dict:
    """The lazy state for a lazy crop or resize; raises after a lazy flip."""
    state = init_lazy(results)
    if state['flip']:
        raise ValueError(
            f'{transform} (lazy) comes after a lazy Flip; put Flip at last '
            'among the lazy operations (just before Fuse).')
    return state


def lazy_crop(results: dict, bbox: np.ndarray, transform: str) -> None:
    """Record a crop of the current (virtual) frames.

    Args:
        results: The sample; ``img_shape`` must still be the shape before
            the crop.
        bbox: ``[x1, y1, x2, y2]`` in the current frame coordinates.
        transform: Name of the calling transform (for errors).
    """
    state = begin_lazy_geometry(results, transform)
    img_h, img_w = results['img_shape']
    left, top, right, bottom = state['crop_bbox']
    x_scale = (right - left) / img_w
    y_scale = (bottom - top) / img_h
    x1, y1, x2, y2 = bbox
    state['crop_bbox'] = np.array(
        [left + x1 * x_scale, top + y1 * y_scale,
         left + x2 * x_scale, top + y2 * y_scale], dtype=np.float32)


def lazy_resize(results: dict, interpolation: str, transform: str) -> None:
    """Record a resize: only its interpolation (the size is ``img_shape``)."""
    state = begin_lazy_geometry(results, transform)
    state['interpolation'] = interpolation


def lazy_flip(results: dict, flip: bool, direction: str,
              transform: str) -> None:
    """Record a flip decision; a second lazy Flip raises."""
    state = init_lazy(results)
    if state['flip']:
        raise ValueError(f'{transform} (lazy): the sample already has a '
                         'pending lazy flip; use one Flip per pipeline.')
    state['flip'] = flip
    state['flip_direction'] = direction


@TRANSFORMS.register_module()
class Fuse(VideoTransform):
    """Apply the pending lazy operations at once.

    Crops the original frames with ``lazy['crop_bbox']`` rounded to integers,
    resizes every crop once to ``img_shape`` with ``lazy['interpolation']``
    (bilinear when no lazy resize ran), flips if a lazy flip was drawn and
    deletes ``results['lazy']``.

    Required keys: ``imgs`` (list of ``[H0, W0, C]`` original frames),
    ``img_shape``, ``lazy`` (a ValueError says so when it is missing).

    Added keys: ``imgs`` (list of ``[H, W, C]``, ``(H, W) = img_shape``,
    views into one contiguous array); ``lazy`` is deleted.
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = ('imgs', )

    def transform(self, results: dict) -> dict:
        if 'lazy' not in results:
            raise ValueError(
                'Fuse found no lazy operations in the sample (no '
                "results['lazy']): put Fuse after transforms built with "
                'lazy=True, or remove it.')
        state = results.pop('lazy')
        x1, y1, x2, y2 = np.round(state['crop_bbox']).astype(int)
        img_h, img_w = results['img_shape']
        flag = cv2_interp_codes[state['interpolation'] or 'bilinear']
        frames = results['imgs']
        # one resize (and flip) per frame, into one contiguous [T, H, W, C]
        out = np.empty((len(frames), img_h, img_w) + frames[0].shape[2:],
                       dtype=frames[0].dtype)
        flip_code = {'horizontal': 1, 'vertical': 0}.get(
            state['flip_direction']) if state['flip'] else None
        resized = np.empty_like(out[0]) if flip_code is not None else None
        for i, img in enumerate(frames):
            crop = img[y1:y2, x1:x2]
            if flip_code is None:
                cv2.resize(crop, (img_w, img_h), dst=out[i],
                           interpolation=flag)
            else:
                cv2.resize(crop, (img_w, img_h), dst=resized,
                           interpolation=flag)
                cv2.flip(resized, flip_code, dst=out[i])
        results['imgs'] = list(out)
        return results
