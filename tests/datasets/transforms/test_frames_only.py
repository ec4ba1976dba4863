"""Frames on their own (mmaction2 1.x style): a sample holding only
``imgs`` runs through the geometric transforms, ``FormatShape('NCTHW')``
and ``PackActionInputs``; ``img_shape``, ``num_clips`` and ``clip_len`` are
inferred from the frames (``base.infer_frame_keys``) and only when missing.
"""
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmvid.datasets.transforms import (CenterCrop, ColorJitter, Flip,
                                       FormatShape, MultiScaleCrop,
                                       PackActionInputs, RandomResizedCrop,
                                       Resize, TenCrop, ThreeCrop)
from mmvid.datasets.transforms.base import infer_frame_keys

H, W, T = 240, 320, 8


def frames(n=T, h=H, w=W):
    """Only ``imgs``: ``n`` random ``h x w x 3`` uint8 frames."""
    rng = np.random.default_rng(7)
    return dict(imgs=[rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
                      for _ in range(n)])


TRAIN = [Resize(scale=(-1, 256)), RandomResizedCrop(),
         Resize(scale=(224, 224), keep_ratio=False), Flip(flip_ratio=0.5),
         ColorJitter()]
MULTI_SCALE = [Resize(scale=(-1, 256)),
               MultiScaleCrop(224, scales=(1, 0.875, 0.75)),
               Resize(scale=(224, 224), keep_ratio=False), Flip(flip_ratio=1)]


@pytest.mark.parametrize('steps, views, side', [
    (TRAIN, 1, 224),
    (MULTI_SCALE, 1, 224),
    ([Resize(scale=(-1, 256)), CenterCrop(224)], 1, 224),
    ([Resize(scale=(-1, 256)), ThreeCrop(256)], 3, 256),
    ([Resize(scale=(-1, 256)), TenCrop(224)], 10, 224),
], ids=['train', 'multi_scale', 'center', 'three', 'ten'])
def test_pipeline_of_1x_transforms_on_frames_only(steps, views, side):
    pipeline = Compose(steps + [FormatShape('NCTHW'), PackActionInputs()])
    np.random.seed(0)
    packed = pipeline(frames())
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8
    assert tuple(inputs.shape) == (views, 3, T, side, side)
    assert packed['data_samples'].img_shape == (side, side)


def test_centre_crop_of_frames_only_equals_the_explicit_sample():
    """The inferred keys give the same tensor as a sample that states
    them; the frames are one clip of all of them."""
    steps = [Resize(scale=(-1, 256)), CenterCrop(224), FormatShape('NCTHW')]
    inferred = Compose(steps)(frames())
    explicit = frames()
    explicit.update(img_shape=(H, W), num_clips=1, clip_len=T)
    explicit = Compose(steps)(explicit)
    # 240x320 -> short side 256: 256x341, centre 224 crop
    assert inferred['img_shape'] == (224, 224)
    assert (inferred['num_clips'], inferred['clip_len']) == (1, T)
    np.testing.assert_array_equal(inferred['imgs'], explicit['imgs'])
    # the crop is the centre of the resized frame: x 58..282, y 16..240
    assert inferred['crop_bbox'].tolist() == [58, 16, 282, 240]


def test_format_shape_alone_takes_the_frames_as_one_clip():
    out = FormatShape('NCTHW')(frames(n=5, h=4, w=6))
    assert out['imgs'].shape == (1, 3, 5, 4, 6)
    assert (out['num_clips'], out['clip_len']) == (1, 5)


@pytest.mark.parametrize('stacked', [False, True])
def test_infer_frame_keys_reads_the_first_frame(stacked):
    results = frames(n=3, h=5, w=7)
    if stacked:
        results['imgs'] = np.stack(results['imgs'])
    infer_frame_keys(results)
    assert results['img_shape'] == (5, 7)
    assert (results['num_clips'], results['clip_len']) == (1, 3)
    assert all(type(v) is int for v in results['img_shape'])


def test_present_keys_are_kept():
    results = frames(n=4)
    results.update(img_shape=(10, 20), num_clips=2, clip_len=2)
    infer_frame_keys(results)
    assert results['img_shape'] == (10, 20)
    assert (results['num_clips'], results['clip_len']) == (2, 2)
    # one of num_clips / clip_len alone: the other is not guessed
    results = frames(n=4)
    results['clip_len'] = 2
    with pytest.raises(KeyError, match=r"FormatShape needs \['num_clips'\]"):
        FormatShape('NCTHW')(results)
    assert 'num_clips' not in results and results['img_shape'] == (H, W)


@pytest.mark.parametrize('imgs', [None, [], 'frames'])
def test_nothing_is_inferred_without_frames(imgs):
    results = {} if imgs is None else dict(imgs=imgs)
    infer_frame_keys(results)
    assert set(results) <= {'imgs'}
    if imgs is None:
        with pytest.raises(KeyError,
                           match=r"CenterCrop needs \['imgs', 'img_shape'\]"):
            CenterCrop(2)(results)


def test_transforms_not_needing_the_keys_infer_nothing():
    results = ColorJitter()(frames(n=2))
    assert not {'img_shape', 'num_clips', 'clip_len'} & set(results)
    results = FormatShape('NCHW')(frames(n=2, h=4, w=6))
    assert results['imgs'].shape == (2, 3, 4, 6)
    assert not {'img_shape', 'num_clips', 'clip_len'} & set(results)
