"""Lazy mode: the recorded state, Fuse, the I3D lazy train / val pipelines
against their eager versions, and the errors of misordered pipelines."""
import cv2
import numpy as np
import pytest

from mmvid.datasets.transforms.crop import (CenterCrop, MultiScaleCrop,
                                            RandomCrop, RandomResizedCrop,
                                            TenCrop, ThreeCrop)
from mmvid.datasets.transforms.flip import Flip
from mmvid.datasets.transforms.lazy import Fuse
from mmvid.datasets.transforms.resize import Resize
from mmvid.registry import TRANSFORMS


def smooth_frames(h, w, n=2):
    """Gradients and a low-frequency wave: interpolation barely changes
    them, so one resize and two resizes give nearly the same pixels."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = []
    for t in range(n):
        r = 255 * x / (w - 1)
        g = 255 * y / (h - 1)
        b = 127 + 100 * np.sin(2 * np.pi * (x / w + t / 7)) * np.cos(
            2 * np.pi * y / h)
        frames.append(np.rint(np.stack([r, g, b], -1)).astype(np.uint8))
    return frames


def sample(h, w, seed=0, n=2):
    return dict(imgs=smooth_frames(h, w, n), img_shape=(h, w),
                rng=np.random.default_rng(seed))


def run(transforms, results):
    for transform in transforms:
        results = transform(results)
    return results


def i3d_train(lazy):
    steps = [
        Resize(scale=(-1, 256), lazy=lazy),
        MultiScaleCrop(input_size=224, scales=(1, 0.8), random_crop=False,
                       max_wh_scale_gap=0, lazy=lazy),
        Resize(scale=(224, 224), keep_ratio=False, lazy=lazy),
        Flip(flip_ratio=0.5, lazy=lazy),
    ]
    return steps + [Fuse()] if lazy else steps


@pytest.mark.parametrize('shape', [(240, 320), (256, 340)])
def test_i3d_lazy_train_pipeline_matches_eager(shape):
    flips = set()
    for seed in range(6):
        eager = run(i3d_train(False), sample(*shape, seed=seed))
        lazy = run(i3d_train(True), sample(*shape, seed=seed))
        assert 'lazy' not in lazy
        # same random choices with the same generator seed
        assert lazy['flip'] == eager['flip']
        np.testing.assert_array_equal(lazy['crop_bbox'], eager['crop_bbox'])
        assert lazy['img_shape'] == eager['img_shape'] == (224, 224)
        np.testing.assert_array_equal(lazy['scale_factor'],
                                      eager['scale_factor'])
        flips.add(eager['flip'])
        for got, want in zip(lazy['imgs'], eager['imgs']):
            assert got.shape == want.shape == (224, 224, 3)
            diff = np.abs(got.astype(float) - want)
            assert diff.mean() < 2, (shape, seed, diff.mean())
    assert flips == {True, False}


def test_lazy_state_after_each_step():
    results = sample(240, 320, seed=4)
    frames = list(results['imgs'])
    results = Resize(scale=(-1, 256), lazy=True)(results)
    state = results['lazy']
    assert state['original_shape'] == (240, 320)
    assert state['crop_bbox'].dtype == np.float32
    assert state['crop_bbox'].tolist() == [0, 0, 320, 240]
    assert state['flip'] is False and state['flip_direction'] is None
    assert state['interpolation'] == 'bilinear'
    assert results['img_shape'] == (256, 341)

    crop = MultiScaleCrop(input_size=224, scales=(1, 0.8), random_crop=False,
                          max_wh_scale_gap=0, lazy=True)
    results = crop(results)
    x1, y1, x2, y2 = results['crop_bbox']  # in the 341x256 frames
    # back to the 320x240 original: scale by 320/341 and 240/256
    np.testing.assert_allclose(
        results['lazy']['crop_bbox'],
        [x1 * 320 / 341, y1 * 240 / 256, x2 * 320 / 341, y2 * 240 / 256],
        rtol=1e-6)
    results = Resize(scale=(224, 224), keep_ratio=False, lazy=True)(results)
    results = Flip(flip_ratio=1, direction='vertical', lazy=True)(results)
    assert results['lazy']['flip'] is True
    assert results['lazy']['flip_direction'] == 'vertical'
    # nothing touched the frames yet
    assert all(a is b for a, b in zip(results['imgs'], frames))


def test_i3d_lazy_val_pipeline_matches_eager():
    for shape in [(240, 320), (256, 340)]:
        eager = run([Resize(scale=(-1, 256)), CenterCrop(224)],
                    sample(*shape))
        lazy = run([
            Resize(scale=(-1, 256), lazy=True),
            CenterCrop(224, lazy=True),
            Flip(flip_ratio=0, lazy=True),
            Fuse()
        ], sample(*shape))
        assert lazy['flip'] is False
        np.testing.assert_array_equal(lazy['crop_bbox'], eager['crop_bbox'])
        for got, want in zip(lazy['imgs'], eager['imgs']):
            assert got.shape == want.shape == (224, 224, 3)
            assert np.abs(got.astype(float) - want).mean() < 2


def test_fuse_crops_the_original_frames_with_the_rounded_box():
    frames = smooth_frames(200, 300, n=2)
    state = dict(original_shape=(200, 300),
                 crop_bbox=np.array([10.4, 20.6, 110.5, 120.5], np.float32),
                 flip=False, flip_direction=None, interpolation=None)
    out = Fuse()(dict(imgs=frames, img_shape=(50, 60), lazy=state))
    assert 'lazy' not in out
    for got, frame in zip(out['imgs'], frames):
        # np.round: 10.4 -> 10, 20.6 -> 21, 110.5 -> 110, 120.5 -> 120
        want = cv2.resize(frame[21:120, 10:110], (60, 50),
                          interpolation=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(got, want)


def test_single_lazy_ops_fuse_to_the_exact_eager_result():
    # a lone crop: Fuse's resize is to the same size (identity)
    eager = CenterCrop(200)(sample(256, 340))
    lazy = Fuse()(CenterCrop(200, lazy=True)(sample(256, 340)))
    for got, want in zip(lazy['imgs'], eager['imgs']):
        np.testing.assert_array_equal(got, want)
    # a lone resize keeps its interpolation
    eager = Resize((-1, 128), interpolation='nearest')(sample(256, 340))
    lazy = Fuse()(
        Resize((-1, 128), interpolation='nearest', lazy=True)(
            sample(256, 340)))
    for got, want in zip(lazy['imgs'], eager['imgs']):
        np.testing.assert_array_equal(got, want)
    # a lone flip
    eager = Flip(1, direction='vertical')(sample(20, 30))
    lazy = Fuse()(Flip(1, direction='vertical', lazy=True)(sample(20, 30)))
    for got, want in zip(lazy['imgs'], eager['imgs']):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize('transform', [
    Resize(scale=(-1, 128)), CenterCrop(100), RandomCrop(100),
    MultiScaleCrop(100), RandomResizedCrop(), ThreeCrop(128), TenCrop(100),
    Flip()
], ids=lambda t: type(t).__name__)
def test_non_lazy_op_after_lazy_op_raises(transform):
    results = Resize(scale=(-1, 128), lazy=True)(sample(256, 340))
    name = type(transform).__name__
    with pytest.raises(ValueError, match=rf'{name} is not lazy but the sample '
                       r'has pending lazy operations. Use Fuse after lazy '
                       rf'operations: put Fuse\(\) before {name}'):
        transform(results)


@pytest.mark.parametrize('transform', [
    CenterCrop(100, lazy=True), RandomCrop(100, lazy=True),
    MultiScaleCrop(100, lazy=True), RandomResizedCrop(lazy=True),
    Resize(scale=(64, 64), keep_ratio=False, lazy=True)
], ids=lambda t: type(t).__name__)
def test_crop_or_resize_after_lazy_flip_raises(transform):
    results = Flip(flip_ratio=0, lazy=True)(sample(256, 340))
    results['lazy']['flip'] = True  # a drawn flip
    name = type(transform).__name__
    with pytest.raises(ValueError, match=rf'{name} \(lazy\) comes after a '
                       'lazy Flip; put Flip at last'):
        transform(results)


def test_two_lazy_flips_raise():
    results = Flip(flip_ratio=1, lazy=True)(sample(20, 30))
    with pytest.raises(ValueError, match='already has a pending lazy flip'):
        Flip(flip_ratio=1, lazy=True)(results)


def test_fuse_without_lazy_state_raises():
    with pytest.raises(ValueError, match=r'Fuse found no lazy operations in '
                       r"the sample \(no results\['lazy'\]\)"):
        Fuse()(sample(20, 30))


def test_fuse_key_contract_and_registry():
    fuse = TRANSFORMS.build(dict(type='Fuse'))
    assert isinstance(fuse, Fuse)
    assert fuse.required_keys == ('imgs', 'img_shape')
    out = fuse(CenterCrop(10, lazy=True)(sample(20, 30)))
    assert set(fuse.added_keys) <= set(out) and 'lazy' not in out
    assert out['imgs'][0].shape == (10, 10, 3)
    results = CenterCrop(10, lazy=True)(sample(20, 30))
    del results['imgs']
    with pytest.raises(KeyError, match=r"Fuse needs \['imgs'\]"):
        fuse(results)
    for name in ('Resize', 'CenterCrop', 'RandomCrop', 'MultiScaleCrop',
                 'RandomResizedCrop', 'ThreeCrop', 'TenCrop', 'Flip'):
        assert name in TRANSFORMS, name
