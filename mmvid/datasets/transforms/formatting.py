"""The last pipeline steps: lay the frames out for the model
(``FormatShape``) and pack them with the labels (``PackActionInputs``).

Frames stay ``uint8``: normalisation happens on the device, in
``ActionDataPreprocessor``.
"""
from numbers import Integral
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from mmvid.registry import TRANSFORMS
from mmvid.structures import ActionDataSample
from .base import VideoTransform
from .opencv_frames import opencv_takes

INPUT_FORMATS = ('NCTHW', 'NCHW')
DEFAULT_META_KEYS = ('img_shape', 'sample_idx', 'filename', 'frame_dir')


def check_frames(imgs: Union[np.ndarray, Sequence[np.ndarray]],
                 owner: str) -> None:
    """``imgs`` is a non-empty list of ``[H, W, C]`` frames of one shape and
    dtype, or one ``[M, H, W, C]`` array.

    Raises:
        TypeError / ValueError: naming ``owner``, the frame and the shapes.
    """
    if isinstance(imgs, np.ndarray):
        if imgs.ndim != 4:
            raise ValueError(f"{owner}: results['imgs'] must be [M, H, W, C] "
                             f'frames, got an array of shape {imgs.shape}')
        return
    if not isinstance(imgs, (list, tuple)):
        raise TypeError(f"{owner}: results['imgs'] must be a list of "
                        '[H, W, C] arrays or one [M, H, W, C] array, got '
                        f'{type(imgs).__name__}')
    if not imgs:
        raise ValueError(f"{owner}: results['imgs'] is empty")
    first = imgs[0]
    for i, img in enumerate(imgs):
        if not isinstance(img, np.ndarray) or img.ndim != 3:
            raise ValueError(
                f"{owner}: results['imgs'][{i}] must be an [H, W, C] array, "
                f'got {getattr(img, "shape", type(img).__name__)}')
        if img.shape != first.shape or img.dtype != first.dtype:
            raise ValueError(
                f"{owner}: results['imgs'][{i}] is {img.dtype} "
                f'{img.shape}, frame 0 is {first.dtype} {first.shape}; all '
                'frames must have one shape and dtype')


def stack_frames(imgs: Union[np.ndarray, Sequence[np.ndarray]],
                 owner: str) -> np.ndarray:
    """A list of ``[H, W, C]`` frames, or one ``[M, H, W, C]`` array, as one
    ``[M, H, W, C]`` array (same dtype; checked by :func:`check_frames`)."""
    check_frames(imgs, owner)
    return imgs if isinstance(imgs, np.ndarray) else np.stack(imgs)


def frames_to_ncthw(imgs: Sequence[np.ndarray], clip_len: int) -> np.ndarray:
    """``M`` checked ``[H, W, C]`` frames, ``clip_len`` a view, as one
    contiguous ``[M // clip_len, C, clip_len, H, W]`` array in a single
    pass: each frame's channels are split (``cv2.split``, SIMD) straight
    into their places. A contiguous frame (a resized one) is split with
    the result's planes as ``cv2.split``'s output arrays, 3x faster than
    splitting into new planes and copying those; a crop's view (rows
    apart) is split into new planes, as splitting it into given ones is 3x
    slower. Frame ``i`` is time ``i % clip_len`` of view
    ``i // clip_len``. (Stacking the frames, then making the transposed
    stack contiguous, copies everything twice, the second time by a slow
    strided gather: 3x slower for a 32x224² clip.)"""
    height, width, channels = imgs[0].shape
    out = np.empty((len(imgs) // clip_len, channels, clip_len, height, width),
                   dtype=imgs[0].dtype)
    for index, img in enumerate(imgs):
        view, t = divmod(index, clip_len)
        if channels == 1 or not opencv_takes(img):
            out[view, :, t] = img.transpose(2, 0, 1)
            continue
        if not img.flags['C_CONTIGUOUS']:
            # a crop's view: splitting into given planes is 3x slower here
            for channel, plane in enumerate(cv2.split(img)):
                out[view, channel, t] = plane
            continue
        targets = [out[view, channel, t] for channel in range(channels)]
        planes = cv2.split(img, targets)
        for target, plane in zip(targets, planes):
            if plane is not target:  # OpenCV made its own array instead
                target[...] = plane
    return out


def positive_int_key(results: dict, key: str, owner: str) -> int:
    """``results[key]`` checked to be a positive int."""
    value = results[key]
    if isinstance(value, bool) or not isinstance(value, Integral) or \
            value < 1:
        raise ValueError(f"{owner}: results['{key}'] must be a positive int, "
                         f'got {value!r}')
    return int(value)


@TRANSFORMS.register_module()
class FormatShape(VideoTransform):
    """Turn the frames into the model's input layout.

    ``'NCTHW'`` (3D models): ``M = views * clip_len`` frames, stored view
    after view and, within the views, crop-major (all clips of crop 0, then
    crop 1, ...; the order of ``ThreeCrop``/``TenCrop`` after a sampler):

    * ``[M, H, W, C]`` -> ``[crops, num_clips, clip_len, H, W, C]``
      (``crops`` = ``M // (num_clips * clip_len)``);
    * -> ``[crops, num_clips, C, clip_len, H, W]``;
    * -> ``[crops * num_clips, C, clip_len, H, W]``, view
      ``crop * num_clips + clip``.

    Clips added by ``twice_sample`` or dense sample positions count as extra
    "crops" here, as in mmaction2.

    ``'NCHW'`` (2D models): ``[M, H, W, C]`` -> ``[M, C, H, W]``, one view
    per frame.

    ``collapse=True`` needs exactly one view and drops the view axis
    (``[C, T, H, W]`` / ``[C, H, W]``).

    The dtype is kept (uint8 frames stay uint8); the result is contiguous.

    Required keys: ``imgs`` (a list of ``[H, W, C]`` arrays or one
    ``[M, H, W, C]`` array), and ``num_clips``, ``clip_len`` for
    ``'NCTHW'``.

    Added keys: ``imgs`` (np.ndarray, as above), ``input_shape`` (its shape).

    Args:
        input_format: ``'NCTHW'`` or ``'NCHW'``.
        collapse: Drop the view axis of a single-view sample.
    """

    added_keys = ('imgs', 'input_shape')

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in INPUT_FORMATS:
            raise ValueError(f'input_format must be one of {INPUT_FORMATS}, '
                             f'got {input_format!r}')
        if not isinstance(collapse, bool):
            raise TypeError('collapse must be True or False, got '
                            f'{type(collapse).__name__} {collapse!r}')
        self.input_format = input_format
        self.collapse = collapse

    @property
    def required_keys(self) -> Tuple[str, ...]:
        if self.input_format == 'NCTHW':
            return ('imgs', 'num_clips', 'clip_len')
        return ('imgs', )

    def transform(self, results: dict) -> dict:
        owner = f'FormatShape({self.input_format!r})'
        imgs = results['imgs']
        check_frames(imgs, owner)
        if self.input_format == 'NCTHW':
            num_clips = positive_int_key(results, 'num_clips', owner)
            clip_len = positive_int_key(results, 'clip_len', owner)
            group = num_clips * clip_len
            if len(imgs) % group:
                raise ValueError(
                    f'{owner}: {len(imgs)} frames cannot be split into '
                    f'views of num_clips x clip_len = {num_clips} x '
                    f'{clip_len} = {group} frames ({len(imgs)} is not a '
                    f'multiple of {group}); check the sampler and the crops')
            # [crops, num_clips, clip_len, ...] frames: view crop *
            # num_clips + clip = frame // clip_len
            imgs = frames_to_ncthw(imgs, clip_len)
        else:
            imgs = stack_frames(imgs, owner).transpose(0, 3, 1, 2)
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(
                    f'{owner} with collapse=True needs a single view, got '
                    f'{imgs.shape[0]} views (shape {imgs.shape})')
            imgs = imgs[0]
        imgs = np.ascontiguousarray(imgs)
        results['imgs'] = imgs
        results['input_shape'] = imgs.shape
        return results


def to_tensor(key: str, value) -> torch.Tensor:
    """An array (any strides) or a tensor as a tensor; same dtype."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"PackActionInputs: results['{key}'] must be an "
                    f'np.ndarray or a tensor, got {type(value).__name__}; '
                    'put FormatShape before PackActionInputs')


def check_key_names(name: str, keys) -> Tuple[str, ...]:
    """A list/tuple of str as a tuple, else ``TypeError`` naming ``name``."""
    if not isinstance(keys, (list, tuple)) or not all(
            isinstance(k, str) for k in keys):
        raise TypeError(f'{name} must be a list or tuple of str, got {keys!r}')
    return tuple(keys)


@TRANSFORMS.register_module()
class PackActionInputs(VideoTransform):
    """Pack a sample for the model:
    ``dict(inputs=Tensor, data_samples=ActionDataSample)``.

    ``inputs`` is ``torch.from_numpy(results['imgs'])`` (dtype kept: uint8
    ``[views, C, T, H, W]`` after ``FormatShape('NCTHW')``), or, with
    ``collect_keys``, a dict of those keys' tensors.

    ``data_samples`` gets ``gt_label`` from ``results['label']`` when the
    sample has one (an int becomes a LongTensor ``[1]``; a float multi-hot
    array ``[K]`` stays float) and, as metainfo, each of ``meta_keys`` the
    sample has; keys the sample does not have are left out (datasets of
    videos have ``filename``, of rawframes ``frame_dir``). Every other key,
    ``rng`` included, is dropped.

    Required keys: ``imgs`` (np.ndarray), or the ``collect_keys``.

    Added keys: ``inputs``, ``data_samples`` (the only keys of the output).

    Args:
        meta_keys: Keys copied into the data sample's metainfo when present.
        collect_keys: Keys to pack as ``inputs`` (a dict) instead of
            ``imgs``; None for ``imgs``.
    """

    added_keys = ('inputs', 'data_samples')

    def __init__(self,
                 meta_keys: Sequence[str] = DEFAULT_META_KEYS,
                 collect_keys: Optional[Sequence[str]] = None) -> None:
        self.meta_keys = check_key_names('meta_keys', meta_keys)
        if 'rng' in self.meta_keys:
            raise ValueError("meta_keys must not contain 'rng': the sample's "
                             'random generator is not metadata')
        if collect_keys is not None:
            collect_keys = check_key_names('collect_keys', collect_keys)
            if not collect_keys:
                raise ValueError('collect_keys must name at least one key, '
                                 'or be None to pack imgs')
        self.collect_keys = collect_keys

    @property
    def required_keys(self) -> Tuple[str, ...]:
        return self.collect_keys or ('imgs', )

    def transform(self, results: dict) -> dict:
        if self.collect_keys is None:
            inputs = to_tensor('imgs', results['imgs'])
        else:
            inputs = {key: to_tensor(key, results[key])
                      for key in self.collect_keys}
        data_sample = ActionDataSample()
        if 'label' in results:
            data_sample.set_gt_label(results['label'])
        data_sample.set_metainfo(
            {key: results[key] for key in self.meta_keys if key in results})
        return dict(inputs=inputs, data_samples=data_sample)
