"""Normalize (the exact formula) and ColorJitter (parameter ranges, one
draw per clip, each op against an independent formula, random order)."""
import colorsys

import numpy as np
import pytest

from mmvid.datasets.transforms.color import ColorJitter, Normalize
from mmvid.registry import TRANSFORMS

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def frames(n=3, h=5, w=7, seed=0):
    return list(np.random.default_rng(seed).integers(
        0, 256, (n, h, w, 3), dtype=np.uint8))


# ---------------------------------------------------------------- Normalize
def test_normalize_formula():
    imgs = frames()
    out = Normalize(MEAN, STD)(dict(imgs=imgs))
    assert out['imgs'].shape == (3, 5, 7, 3)
    assert out['imgs'].dtype == np.float32
    expected = (np.stack(imgs).astype(np.float64) - MEAN) / STD
    np.testing.assert_allclose(out['imgs'], expected, rtol=1e-5, atol=1e-5)
    cfg = out['img_norm_cfg']
    assert cfg['mean'].tolist() == np.float32(MEAN).tolist()
    assert cfg['std'].tolist() == np.float32(STD).tolist()
    assert cfg['to_bgr'] is False


def test_normalize_to_bgr_swaps_before_subtracting():
    imgs = frames(n=2)
    out = Normalize(MEAN, STD, to_bgr=True)(dict(imgs=imgs))
    expected = (np.stack(imgs)[..., ::-1].astype(np.float64) - MEAN) / STD
    np.testing.assert_allclose(out['imgs'], expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(mean=[0, 0], std=[1, 1, 1]), ValueError, 'same length'),
    (dict(mean=[0, 0, 0], std=[1, 0, 1]), ValueError, 'non-zero'),
    (dict(mean=0.5, std=[1, 1, 1]), TypeError, 'mean must be a sequence'),
    (dict(mean=[0, 0, 0], std=[1, 1, 1], to_bgr='no'), TypeError, 'to_bgr'),
    (dict(mean=[0], std=[1], to_bgr=True), ValueError, '3 channels'),
])
def test_normalize_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match='Normalize: .*' + match):
        Normalize(**kwargs)


def test_normalize_frame_errors():
    imgs = frames(n=2)
    with pytest.raises(ValueError, match='frames have 3 channels but '
                       'mean/std have 1'):
        Normalize([0], [1])(dict(imgs=imgs))
    bad = [imgs[0], imgs[1][:4]]
    with pytest.raises(ValueError, match=r'frame 1 has shape \(4, 7, 3\)'):
        Normalize(MEAN, STD)(dict(imgs=bad))
    with pytest.raises(KeyError, match=r"Normalize needs \['imgs'\]"):
        Normalize(MEAN, STD)({})


# ------------------------------------------------- independent references
def ref_grey(x):
    x = x.astype(np.float32)
    return np.trunc(0.2989 * x[..., 0] + 0.587 * x[..., 1] +
                    0.114 * x[..., 2])[..., None]


def ref_blend(x, other, ratio):
    out = np.float32(ratio) * x.astype(np.float32) + np.float32(
        1 - ratio) * np.float32(other)
    return np.trunc(np.clip(out, 0, 255)).astype(np.uint8)


def ref_brightness(clip, b):
    return ref_blend(clip, 0, b)


def ref_contrast(clip, c):
    return np.stack([ref_blend(f, ref_grey(f).mean(), c) for f in clip])


def ref_saturation(clip, s):
    return ref_blend(clip, ref_grey(clip), s)


def ref_hue(clip, shift):
    out = np.empty_like(clip)
    for idx in np.ndindex(clip.shape[:3]):
        h, s, v = colorsys.rgb_to_hsv(*(clip[idx] / 255.0))
        rgb = colorsys.hsv_to_rgb((h + shift) % 1.0, s, v)
        out[idx] = np.floor(np.clip(rgb, 0, 1) * 255.999)
    return out


def jitter(transform, imgs, seed):
    return np.stack(
        transform(dict(imgs=imgs, rng=np.random.default_rng(seed)))['imgs'])


# -------------------------------------------------------------- ColorJitter
def test_factors_are_drawn_within_their_ranges():
    transform = ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5,
                            hue=0.1)
    rng = np.random.default_rng(0)
    draws = [transform.get_params(rng) for _ in range(400)]
    for order, *factors in draws:
        assert sorted(order) == [0, 1, 2, 3]
    for index, (lo, hi) in enumerate([(0.5, 1.5)] * 3 + [(-0.1, 0.1)]):
        values = np.array([d[1 + index] for d in draws])
        assert lo <= values.min() and values.max() <= hi
        # spread over the whole range
        assert values.min() < lo + 0.05 * (hi - lo)
        assert values.max() > hi - 0.05 * (hi - lo)
    assert len({tuple(d[0]) for d in draws}) == 24  # every order occurs


def test_ranges_from_numbers_and_pairs():
    transform = ColorJitter(brightness=1.5, contrast=(0.2, 0.3),
                            saturation=0, hue=(-0.5, 0.5))
    assert transform.brightness == (0.0, 2.5)  # lower end clipped at 0
    assert transform.contrast == (0.2, 0.3)
    assert transform.saturation is None  # disabled
    assert transform.hue == (-0.5, 0.5)
    order, b, c, s, h = transform.get_params(np.random.default_rng(3))
    assert s is None and 0.2 <= c <= 0.3


def test_all_disabled_is_identity():
    imgs = frames()
    transform = ColorJitter(0, 0, 0, 0)
    assert transform.get_params(np.random.default_rng(0))[1:] == (
        None, None, None, None)
    np.testing.assert_array_equal(jitter(transform, imgs, 0), np.stack(imgs))


def test_brightness_only_equals_the_formula():
    imgs = frames(n=4, h=16, w=16)
    transform = ColorJitter(brightness=0.8, contrast=0, saturation=0, hue=0)
    for seed in range(5):
        _, b, _, _, _ = transform.get_params(np.random.default_rng(seed))
        np.testing.assert_array_equal(
            jitter(transform, imgs, seed), ref_brightness(np.stack(imgs), b))


def test_contrast_only_uses_each_frames_grey_mean():
    imgs = frames(n=3, h=16, w=16)
    transform = ColorJitter(brightness=0, contrast=0.8, saturation=0, hue=0)
    _, _, c, _, _ = transform.get_params(np.random.default_rng(1))
    np.testing.assert_array_equal(
        jitter(transform, imgs, 1), ref_contrast(np.stack(imgs), c))


def test_saturation_only_equals_the_formula():
    imgs = frames(n=3, h=16, w=16)
    transform = ColorJitter(brightness=0, contrast=0, saturation=0.8, hue=0)
    _, _, _, s, _ = transform.get_params(np.random.default_rng(2))
    np.testing.assert_array_equal(
        jitter(transform, imgs, 2), ref_saturation(np.stack(imgs), s))


def test_hue_only_matches_colorsys():
    imgs = frames(n=2, h=12, w=12)
    transform = ColorJitter(brightness=0, contrast=0, saturation=0, hue=0.5)
    for seed in range(3):
        _, _, _, _, h = transform.get_params(np.random.default_rng(seed))
        got = jitter(transform, imgs, seed).astype(int)
        want = ref_hue(np.stack(imgs), h).astype(int)
        assert np.abs(got - want).max() <= 1
        assert (got == want).mean() > 0.97


def test_hue_rotation_of_primaries():
    red = np.zeros((1, 2, 2, 3), np.uint8)
    red[..., 0] = 255
    params = ([3, 0, 1, 2], None, None, None, 1 / 3)
    np.testing.assert_array_equal(ColorJitter.apply(red, params)[0, 0, 0],
                                  [0, 255, 0])
    params = ([3, 0, 1, 2], None, None, None, -1 / 3)
    np.testing.assert_array_equal(ColorJitter.apply(red, params)[0, 0, 0],
                                  [0, 0, 255])
    grey = np.full((1, 2, 2, 3), 77, np.uint8)  # no hue: unchanged
    np.testing.assert_array_equal(ColorJitter.apply(grey, params), grey)


def test_random_order_is_applied():
    imgs = frames(n=2, h=16, w=16)
    transform = ColorJitter(brightness=0.5, contrast=0.5, saturation=0.5,
                            hue=0)
    ref_ops = [ref_brightness, ref_contrast, ref_saturation]
    outputs = []
    for seed in range(6):
        order, *factors = transform.get_params(np.random.default_rng(seed))
        want = np.stack(imgs)
        for index in order:
            if index < 3:
                want = ref_ops[index](want, factors[index])
        got = jitter(transform, imgs, seed)
        np.testing.assert_array_equal(got, want)
        outputs.append(got)
    # the order matters: same factors, two orders, two results
    clip = np.stack(imgs)
    first = ColorJitter.apply(clip, ([0, 1, 2, 3], 1.4, 0.6, 1.5, None))
    second = ColorJitter.apply(clip, ([2, 1, 0, 3], 1.4, 0.6, 1.5, None))
    assert not np.array_equal(first, second)


def test_one_draw_per_clip_applied_to_every_frame():
    imgs = frames(n=4, h=10, w=10)
    transform = ColorJitter()
    clip = jitter(transform, imgs, seed=11)
    for i, img in enumerate(imgs):
        # each frame alone, with the same generator seed, gets the same result
        np.testing.assert_array_equal(clip[i], jitter(transform, [img], 11)[0])
    same = jitter(transform, [imgs[0]] * 4, seed=5)
    assert all(np.array_equal(same[0], f) for f in same[1:])
    assert not np.array_equal(same[0], imgs[0])
    out = transform(dict(imgs=imgs, rng=np.random.default_rng(0)))
    assert isinstance(out['imgs'], list)
    assert all(f.dtype == np.uint8 and f.shape == (10, 10, 3)
               for f in out['imgs'])


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(brightness=-0.1), ValueError, 'brightness must be non-negative'),
    (dict(hue=0.6), ValueError, 'hue must be at most 0.5'),
    (dict(hue=(-0.6, 0.1)), ValueError, r'hue range must satisfy'),
    (dict(contrast=(1.5, 0.5)), ValueError, 'contrast range must satisfy'),
    (dict(saturation='high'), TypeError, 'saturation must be a number'),
    (dict(brightness=(0.5, 1.0, 2.0)), TypeError, 'brightness'),
])
def test_color_jitter_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match='ColorJitter: ' + match):
        ColorJitter(**kwargs)


def test_color_jitter_needs_uint8_rgb():
    imgs = [f.astype(np.float32) for f in frames(n=2)]
    with pytest.raises(ValueError, match=r'uint8 RGB frames \[H, W, 3\]; '
                       r'frame 0 is float32 \(5, 7, 3\)'):
        ColorJitter()(dict(imgs=imgs))
    with pytest.raises(KeyError, match=r"ColorJitter needs \['imgs'\]"):
        ColorJitter()({})


def test_registered():
    assert isinstance(TRANSFORMS.build(dict(type='ColorJitter', hue=0)),
                      ColorJitter)
    normalize = TRANSFORMS.build(dict(type='Normalize', mean=MEAN, std=STD))
    assert normalize.mean.tolist() == np.float32(MEAN).tolist()
