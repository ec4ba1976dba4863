"""Flip: the frames equal ``np.flip``, one decision per sample drawn from
the sample's generator, flip_ratio 0 / 1, the label map and the key
contract."""
import numpy as np
import pytest

from mmvid.datasets.transforms.crop import CenterCrop
from mmvid.datasets.transforms.flip import Flip


def sample(n=3, h=6, w=8, seed=0, **extra):
    frames = np.random.default_rng(99).integers(0, 256, (n, h, w, 3),
                                                dtype=np.uint8)
    return dict(imgs=list(frames), img_shape=(h, w),
                rng=np.random.default_rng(seed), **extra)


@pytest.mark.parametrize('direction, axis', [('horizontal', 1),
                                             ('vertical', 0)])
def test_flip_equals_np_flip(direction, axis):
    results = sample()
    inputs = results['imgs']
    originals = [img.copy() for img in inputs]
    out = Flip(flip_ratio=1, direction=direction)(results)
    assert out['flip'] is True
    assert out['flip_direction'] == direction
    assert out['img_shape'] == (6, 8)
    for got, original in zip(out['imgs'], originals):
        np.testing.assert_array_equal(got, np.flip(original, axis=axis))
        assert got.flags['C_CONTIGUOUS']
    # the input frames are not modified in place
    for img, original in zip(inputs, originals):
        np.testing.assert_array_equal(img, original)


def test_flip_of_cropped_views():
    results = CenterCrop(4)(sample())
    crops = [img.copy() for img in results['imgs']]
    out = Flip(flip_ratio=1)(results)
    for got, crop in zip(out['imgs'], crops):
        np.testing.assert_array_equal(got, crop[:, ::-1])


def test_flip_ratio_zero_never_flips():
    for seed in range(20):
        results = sample(seed=seed)
        originals = [img.copy() for img in results['imgs']]
        out = Flip(flip_ratio=0)(results)
        assert out['flip'] is False
        assert out['flip_direction'] == 'horizontal'
        for got, original in zip(out['imgs'], originals):
            np.testing.assert_array_equal(got, original)


def test_one_decision_per_sample_from_its_generator():
    decisions = []
    for seed in range(40):
        results = sample(seed=seed)
        originals = [img.copy() for img in results['imgs']]
        out = Flip(flip_ratio=0.5)(results)
        expected = np.random.default_rng(seed).random() < 0.5
        assert out['flip'] is bool(expected)
        for got, original in zip(out['imgs'], originals):
            want = original[:, ::-1] if expected else original
            np.testing.assert_array_equal(got, want)
        decisions.append(out['flip'])
    assert 10 < sum(decisions) < 30


def test_flip_label_map():
    flip = Flip(flip_ratio=1, flip_label_map={1: 2, 2: 1})
    assert flip(sample(label=1))['label'] == 2
    assert flip(sample(label=np.int64(2)))['label'] == 1
    assert flip(sample(label=5))['label'] == 5  # not in the map
    no_flip = Flip(flip_ratio=0, flip_label_map={1: 2, 2: 1})
    assert no_flip(sample(label=1))['label'] == 1
    # without a map the label is left alone
    assert Flip(flip_ratio=1)(sample(label=1))['label'] == 1


def test_flip_label_map_needs_an_int_label():
    flip = Flip(flip_ratio=0, flip_label_map={1: 2})
    assert flip.required_keys == ('imgs', 'img_shape', 'label')
    assert Flip().required_keys == ('imgs', 'img_shape')
    with pytest.raises(KeyError, match=r"Flip needs \['label'\]"):
        flip(sample())
    # checked whether or not this sample flips
    with pytest.raises(TypeError, match='flip_label_map needs an int label'):
        flip(sample(label=np.array([0.0, 1.0])))


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(flip_ratio=1.5), ValueError, r'flip_ratio must be a number in'),
    (dict(flip_ratio=True), ValueError, r'flip_ratio'),
    (dict(direction='diagonal'), ValueError, r"direction must be one of"),
    (dict(flip_label_map={'a': 1}), TypeError, 'flip_label_map'),
    (dict(flip_label_map=[(1, 2)]), TypeError, 'flip_label_map'),
    (dict(lazy=1), TypeError, 'lazy must be True or False'),
])
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Flip(**kwargs)


def test_non_rgb_modality_is_rejected():
    with pytest.raises(ValueError, match="RGB frames only, got modality "
                       "'Flow'"):
        Flip()(sample(modality='Flow'))


@pytest.mark.parametrize('lazy', [False, True])
def test_key_contract(lazy):
    flip = Flip(flip_ratio=0.5, lazy=lazy)
    out = flip(sample())
    assert set(flip.added_keys) <= set(out)
    assert ('lazy' in out) == lazy
    results = sample()
    del results['imgs']
    with pytest.raises(KeyError, match=r"Flip needs \['imgs'\]"):
        flip(results)


@pytest.mark.parametrize('dtype,channels', [
    (np.uint8, 3), (np.float32, 2), (np.uint8, 1), (np.int16, 4),
    (np.int64, 3), (np.bool_, 3)],
    ids=['uint8-rgb', 'float32-flow', 'uint8-1ch', 'int16-4ch',
         'int64-numpy', 'bool-numpy'])
@pytest.mark.parametrize('direction,axis', [('horizontal', 1),
                                            ('vertical', 0)])
def test_flip_frame_every_dtype_and_channel_count(dtype, channels, direction,
                                                  axis):
    """cv2.flip where OpenCV takes the frame, numpy elsewhere (int64, bool):
    np.flip's values, the shape kept (a 1-channel axis too), contiguous."""
    from mmvid.datasets.transforms.flip import flip_frame
    img = np.random.default_rng(1).integers(0, 200, (5, 7, channels))
    img = img.astype(dtype)
    got = flip_frame(img, direction)
    assert got.shape == img.shape and got.dtype == img.dtype
    assert got.flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(got, np.flip(img, axis=axis))
