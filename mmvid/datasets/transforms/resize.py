"""``Resize``: scale every frame to a fixed size or by a factor."""
from typing import Sequence, Tuple, Union

import mmcv
import numpy as np

from mmvid.registry import TRANSFORMS
from .base import VideoTransform
from .lazy import LazyModeKeys, check_lazy_flag, check_not_lazy, lazy_resize

INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')


def _parse_scale(scale: Union[float, Sequence[int]], keep_ratio: bool
                 ) -> Union[float, Tuple[float, float]]:
    """Validate ``scale``; a tuple with a -1 becomes ``(inf, other)``."""
    if isinstance(scale, bool) or not isinstance(scale, (float, tuple, list)):
        raise TypeError('Resize: scale must be a float factor or a (w, h) '
                        f'tuple of ints, got {scale!r}')
    if isinstance(scale, float):
        if not scale > 0:
            raise ValueError(f'Resize: a float scale must be positive, got '
                             f'{scale}')
        if not keep_ratio:
            raise ValueError('Resize: a float scale factor needs '
                             'keep_ratio=True; give a (w, h) tuple to resize '
                             'to a fixed size')
        return scale
    if (len(scale) != 2 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool)
            for v in scale)):
        raise TypeError('Resize: a tuple scale must be two ints (w, h), '
                        f'got {scale!r}')
    if -1 in scale:
        other = max(scale)
        if other <= 0:
            raise ValueError('Resize: scale (-1, n) needs n > 0, got '
                             f'{tuple(scale)}')
        if not keep_ratio:
            raise ValueError(f'Resize: scale {tuple(scale)} (short side '
                             'only) needs keep_ratio=True')
        return (np.inf, float(other))
    if min(scale) <= 0:
        raise ValueError('Resize: scale entries must be positive or one -1, '
                         f'got {tuple(scale)}')
    return (int(scale[0]), int(scale[1]))


@TRANSFORMS.register_module()
class Resize(VideoTransform):
    """Resize every frame.

    - ``keep_ratio=True``: the frame is scaled by
      ``s = min(max(scale) / max(h, w), min(scale) / min(h, w))`` (or by the
      float ``scale``) and the size is ``int(x * s + 0.5)``
      (``mmcv.rescale_size``). ``(-1, 256)`` (or ``(256, -1)``) means
      "short side 256".
    - ``keep_ratio=False``: the frame becomes exactly ``scale = (w, h)``.

    Args:
        scale: A positive float factor, or a ``(w, h)`` tuple of ints where
            one entry may be -1.
        keep_ratio: Keep the aspect ratio (see above).
        interpolation: One of ``'nearest'``, ``'bilinear'``, ``'bicubic'``,
            ``'area'``, ``'lanczos'`` (``mmcv.imresize`` with OpenCV).
        lazy: Only record the resize (``img_shape`` and
            ``lazy['interpolation']``); ``Fuse`` applies it.

    Required keys: ``imgs`` (list of ``[H, W, C]``), ``img_shape``.

    Frames that already have the new size are kept as they are (the same
    values resampling would give).

    Added keys: ``imgs`` (list of ``[new_h, new_w, C]``; not when lazy),
    ``img_shape`` (``(new_h, new_w)``), ``keep_ratio``, ``scale_factor``
    (float32 ``[w_factor, h_factor]``, multiplied into any earlier one),
    ``lazy`` (when lazy).
    """
    required_keys = ('imgs', 'img_shape')
    added_keys = LazyModeKeys(
        eager=('imgs', 'img_shape', 'keep_ratio', 'scale_factor'),
        lazy=('img_shape', 'keep_ratio', 'scale_factor', 'lazy'))

    def __init__(self,
                 scale: Union[float, Tuple[int, int]],
                 keep_ratio: bool = True,
                 interpolation: str = 'bilinear',
                 lazy: bool = False) -> None:
        if not isinstance(keep_ratio, bool):
            raise TypeError('Resize: keep_ratio must be True or False, got '
                            f'{keep_ratio!r}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'Resize: interpolation must be one of '
                             f'{INTERPOLATIONS}, got {interpolation!r}')
        self.scale = _parse_scale(scale, keep_ratio)
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.lazy = check_lazy_flag(lazy, 'Resize')

    def target_size(self, img_shape: Tuple[int, int]) -> Tuple[int, int]:
        """``(new_w, new_h)`` for frames of ``img_shape = (h, w)``."""
        img_h, img_w = img_shape
        if self.keep_ratio:
            return mmcv.rescale_size((img_w, img_h), self.scale)
        return self.scale

    def transform(self, results: dict) -> dict:
        if not self.lazy:
            check_not_lazy(results, 'Resize')
        img_h, img_w = results['img_shape']
        new_w, new_h = self.target_size((img_h, img_w))
        if self.lazy:
            lazy_resize(results, self.interpolation, 'Resize')
        else:
            # a frame already of the size is kept: resampling to the same
            # size is the identity (e.g. short side 256 of Kinetics'
            # "340x256" copies), and it took 15-20 % of a 30-view test sample
            results['imgs'] = [
                img if img.shape[:2] == (new_h, new_w) else mmcv.imresize(
                    img, (new_w, new_h), interpolation=self.interpolation)
                for img in results['imgs']
            ]
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)
        results['scale_factor'] = results.get(
            'scale_factor', np.ones(2, dtype=np.float32)) * factor
        results['keep_ratio'] = self.keep_ratio
        results['img_shape'] = (new_h, new_w)
        return results
