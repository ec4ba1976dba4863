"""Photometric transforms: ``Normalize`` and ``ColorJitter``."""
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np

from mmvid.registry import TRANSFORMS
from .base import VideoTransform, sample_rng


@TRANSFORMS.register_module()
class Normalize(VideoTransform):
    """Stack the frames to float32 and normalise: ``(x - mean) / std``.

    mmvid normally normalises in the model's data preprocessor (on the
    device, after batching); use this transform only for pipelines that must
    output normalised float frames.

    Args:
        mean: Per-channel mean, in the OUTPUT channel order.
        std: Per-channel standard deviation (non-zero).
        to_bgr: Swap RGB -> BGR before normalising.

    Required keys: ``imgs`` (M frames ``[H, W, C]``).

    Added keys: ``imgs`` (float32 ``[M, H, W, C]``), ``img_norm_cfg``
    (``dict(mean, std, to_bgr)``).
    """
    required_keys = ('imgs', )
    added_keys = ('imgs', 'img_norm_cfg')

    def __init__(self,
                 mean: Sequence[float],
                 std: Sequence[float],
                 to_bgr: bool = False) -> None:
        for name, value in (('mean', mean), ('std', std)):
            if (not isinstance(value, (tuple, list, np.ndarray))
                    or len(value) == 0 or not all(
                        isinstance(v, (int, float, np.number))
                        for v in value)):
                raise TypeError(f'Normalize: {name} must be a sequence of '
                                f'numbers (one per channel), got {value!r}')
        if len(mean) != len(std):
            raise ValueError(f'Normalize: mean and std need the same length, '
                             f'got {len(mean)} and {len(std)}')
        if any(s == 0 for s in std):
            raise ValueError(f'Normalize: std must be non-zero, got {std!r}')
        if not isinstance(to_bgr, bool):
            raise TypeError(f'Normalize: to_bgr must be True or False, got '
                            f'{to_bgr!r}')
        if to_bgr and len(mean) != 3:
            raise ValueError('Normalize: to_bgr needs 3 channels, got mean '
                             f'of length {len(mean)}')
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        self.to_bgr = to_bgr

    def transform(self, results: dict) -> dict:
        if results.get('modality', 'RGB') != 'RGB':
            raise ValueError('Normalize supports RGB frames only, got '
                             f"modality {results['modality']!r}")
        frames = results['imgs']
        shape = frames[0].shape
        for i, img in enumerate(frames):
            if img.shape != shape or img.ndim != 3:
                raise ValueError(f'Normalize: frame {i} has shape '
                                 f'{img.shape}, expected [H, W, C] like '
                                 f'frame 0 {shape}')
        if shape[2] != len(self.mean):
            raise ValueError(f'Normalize: frames have {shape[2]} channels '
                             f'but mean/std have {len(self.mean)}')
        imgs = np.empty((len(frames), ) + shape, dtype=np.float32)
        for i, img in enumerate(frames):
            imgs[i] = img
            mmcv.imnormalize_(imgs[i], self.mean, self.std, self.to_bgr)
        results['imgs'] = imgs
        results['img_norm_cfg'] = dict(
            mean=self.mean, std=self.std, to_bgr=self.to_bgr)
        return results


Range = Optional[Tuple[float, float]]


def _factor_range(value: Union[float, Sequence[float]], name: str,
                  center: float, bound: Tuple[float, float]) -> Range:
    """torchvision's convention: a number ``v`` means
    ``[center - v, center + v]`` (clipped to ``bound``); a pair is used as
    given. A range that is just ``center`` disables the op (None)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f'ColorJitter: {name} must be non-negative, got '
                             f'{value}')
        if center == 0 and value > bound[1]:
            raise ValueError(f'ColorJitter: {name} must be at most '
                             f'{bound[1]}, got {value}')
        lo, hi = max(center - value, bound[0]), center + value
    elif (isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            for v in value)):
        lo, hi = float(value[0]), float(value[1])
        if not bound[0] <= lo <= hi <= bound[1]:
            raise ValueError(f'ColorJitter: {name} range must satisfy '
                             f'{bound[0]} <= min <= max <= {bound[1]}, got '
                             f'{tuple(value)}')
    else:
        raise TypeError(f'ColorJitter: {name} must be a number or a (min, '
                        f'max) pair, got {value!r}')
    if lo == hi == center:
        return None
    return float(lo), float(hi)


def _grey(imgs: np.ndarray) -> np.ndarray:
    """``[T, H, W, 3]`` uint8 RGB -> ``[T, H, W, 1]`` uint8 luma
    ``0.2989 R + 0.587 G + 0.114 B`` (truncated)."""
    rgb = imgs.astype(np.float32)
    luma = 0.2989 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    return luma.astype(np.uint8)[..., None]


def _blend(imgs: np.ndarray, other: Union[np.ndarray, float],
           ratio: float) -> np.ndarray:
    """``ratio * imgs + (1 - ratio) * other`` in float32, clipped to
    ``[0, 255]`` and truncated to uint8."""
    out = ratio * imgs.astype(np.float32) + (1.0 - ratio) * np.asarray(
        other, dtype=np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def adjust_brightness(imgs: np.ndarray, factor: float) -> np.ndarray:
    """Blend with black: ``x * factor``."""
    return _blend(imgs, 0.0, factor)


def adjust_contrast(imgs: np.ndarray, factor: float) -> np.ndarray:
    """Blend each frame with the mean of its grey image."""
    mean = _grey(imgs).astype(np.float32).mean(axis=(1, 2, 3), keepdims=True)
    return _blend(imgs, mean, factor)


def adjust_saturation(imgs: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the grey image."""
    return _blend(imgs, _grey(imgs), factor)


def adjust_hue(imgs: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue by ``shift`` turns (``[-0.5, 0.5]``) in HSV space;
    back to uint8 as ``floor(x * 255.999)`` (torchvision's float -> uint8)."""
    t, h, w, c = imgs.shape
    rgb = imgs.reshape(t * h, w, c).astype(np.float32) / 255
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)  # hue in degrees [0, 360)
    hsv[..., 0] = np.mod(hsv[..., 0] + shift * 360.0, 360.0)
    rgb = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    out = np.floor(np.clip(rgb, 0, 1) * 255.999).astype(np.uint8)
    return out.reshape(t, h, w, c)


@TRANSFORMS.register_module()
class ColorJitter(VideoTransform):
    """Random brightness, contrast, saturation and hue, as torchvision's
    ``ColorJitter`` on uint8 RGB tensors, with ONE draw per sample applied
    to every frame of the clip.

    Per sample: a random order of the four ops, then factors
    ``b, c, s ~ U(range)`` and a hue shift ``h ~ U(range)``
    (:meth:`get_params`). The ops (each returns uint8; float32 maths,
    clipped to ``[0, 255]`` and truncated):

    - brightness: ``x * b``;
    - contrast: ``c * x + (1 - c) * mean(grey(frame))``, the mean per frame;
    - saturation: ``s * x + (1 - s) * grey(x)``;
    - hue: the HSV hue rotated by ``h`` turns.

    ``grey = 0.2989 R + 0.587 G + 0.114 B`` truncated to uint8.

    Args:
        brightness: ``v >= 0`` for ``[max(0, 1 - v), 1 + v]``, or a
            ``(min, max)`` range; 0 disables it.
        contrast: As ``brightness``.
        saturation: As ``brightness``.
        hue: ``0 <= v <= 0.5`` for ``[-v, v]`` or a range within
            ``[-0.5, 0.5]``; 0 disables it.

    Required keys: ``imgs`` (list of uint8 RGB ``[H, W, 3]``).

    Added keys: ``imgs`` (list of uint8 ``[H, W, 3]``).
    """
    required_keys = ('imgs', )
    added_keys = ('imgs', )

    def __init__(self,
                 brightness: Union[float, Tuple[float, float]] = 0.5,
                 contrast: Union[float, Tuple[float, float]] = 0.5,
                 saturation: Union[float, Tuple[float, float]] = 0.5,
                 hue: Union[float, Tuple[float, float]] = 0.1) -> None:
        positive = (0.0, float('inf'))
        self.brightness = _factor_range(brightness, 'brightness', 1.0,
                                        positive)
        self.contrast = _factor_range(contrast, 'contrast', 1.0, positive)
        self.saturation = _factor_range(saturation, 'saturation', 1.0,
                                        positive)
        self.hue = _factor_range(hue, 'hue', 0.0, (-0.5, 0.5))

    def get_params(self, rng: np.random.Generator
                   ) -> Tuple[List[int], Optional[float], Optional[float],
                              Optional[float], Optional[float]]:
        """Draw ``(order, b, c, s, h)`` (None for a disabled op).

        ``order`` is a permutation of ``[0, 1, 2, 3]`` (brightness,
        contrast, saturation, hue), drawn first; then each enabled factor
        in that fixed order. ``transform`` draws exactly this from the
        sample's generator, so the same seed gives the same parameters.
        """
        order = rng.permutation(4).tolist()
        factors = [
            None if rng_range is None else float(rng.uniform(*rng_range))
            for rng_range in (self.brightness, self.contrast,
                              self.saturation, self.hue)
        ]
        return (order, *factors)

    @staticmethod
    def apply(imgs: np.ndarray, params: tuple) -> np.ndarray:
        """Apply parameters from :meth:`get_params` to ``[T, H, W, 3]``
        uint8 RGB frames."""
        order, *factors = params
        ops = (adjust_brightness, adjust_contrast, adjust_saturation,
               adjust_hue)
        for index in order:
            if factors[index] is not None:
                imgs = ops[index](imgs, factors[index])
        return imgs

    def transform(self, results: dict) -> dict:
        frames = results['imgs']
        for i, img in enumerate(frames):
            if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
                raise ValueError(
                    f'ColorJitter needs uint8 RGB frames [H, W, 3]; frame {i} '
                    f'is {img.dtype} {img.shape}')
        imgs = np.stack(frames)
        out = self.apply(imgs, self.get_params(sample_rng(results)))
        results['imgs'] = list(out)
        return results
