"""Resize: mmaction2's sizes (short side, fixed size, keep-ratio box,
factor), cumulative ``scale_factor``, interpolation names, lazy mode and the
key contract."""
import cv2
import numpy as np
import pytest

from mmvid.datasets.transforms.resize import Resize


def sample(h, w, n=2, seed=0):
    rng = np.random.default_rng(seed)
    imgs = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for _ in range(n)]
    return dict(imgs=imgs, img_shape=(h, w), rng=np.random.default_rng(0))


def test_short_side_256_keeps_340x256_unchanged():
    results = sample(256, 340)
    originals = [img.copy() for img in results['imgs']]
    out = Resize(scale=(-1, 256))(results)
    assert out['img_shape'] == (256, 340)
    assert out['scale_factor'].dtype == np.float32
    assert out['scale_factor'].tolist() == [1.0, 1.0]
    assert out['keep_ratio'] is True
    for got, original in zip(out['imgs'], originals):
        np.testing.assert_array_equal(got, original)


@pytest.mark.parametrize('scale', [(-1, 256), (256, -1)])
def test_short_side_256_on_320x240_gives_341x256(scale):
    results = sample(240, 320)
    expected = [
        cv2.resize(img, (341, 256), interpolation=cv2.INTER_LINEAR)
        for img in results['imgs']
    ]
    out = Resize(scale=scale)(results)
    assert out['img_shape'] == (256, 341)
    # 320 * 256 / 240 = 341.33 -> int(341.33 + 0.5) = 341
    np.testing.assert_array_equal(
        out['scale_factor'], np.array([341 / 320, 256 / 240], np.float32))
    for got, want in zip(out['imgs'], expected):
        assert got.shape == (256, 341, 3)
        np.testing.assert_array_equal(got, want)


def test_short_side_on_portrait_frames():
    out = Resize(scale=(-1, 256))(sample(320, 240))
    assert out['img_shape'] == (341, 256)
    assert out['imgs'][0].shape == (341, 256, 3)


def test_fixed_size_without_keep_ratio():
    results = sample(256, 340)
    expected = cv2.resize(results['imgs'][1], (224, 224),
                          interpolation=cv2.INTER_LINEAR)
    out = Resize(scale=(224, 224), keep_ratio=False)(results)
    assert out['img_shape'] == (224, 224)
    assert out['keep_ratio'] is False
    np.testing.assert_array_equal(
        out['scale_factor'], np.array([224 / 340, 224 / 256], np.float32))
    np.testing.assert_array_equal(out['imgs'][1], expected)


def test_fixed_size_is_w_h():
    out = Resize(scale=(100, 50), keep_ratio=False)(sample(256, 340))
    assert out['img_shape'] == (50, 100)
    assert out['imgs'][0].shape == (50, 100, 3)


def test_keep_ratio_box_and_float_factor():
    # factor = min(400 / 320, 200 / 240) = 5/6: (266.67, 200) -> (267, 200)
    out = Resize(scale=(400, 200))(sample(240, 320))
    assert out['img_shape'] == (200, 267)
    # the long entry of the box is the long-side limit whatever its position
    out = Resize(scale=(200, 400))(sample(240, 320))
    assert out['img_shape'] == (200, 267)
    # float factor: int(320 * 0.5 + 0.5) = 160, int(240 * 0.5 + 0.5) = 120
    out = Resize(scale=0.5)(sample(240, 320))
    assert out['img_shape'] == (120, 160)
    assert out['scale_factor'].tolist() == [0.5, 0.5]


def test_scale_factor_accumulates_over_two_resizes():
    results = Resize(scale=(-1, 256))(sample(240, 320))
    out = Resize(scale=(224, 224), keep_ratio=False)(results)
    expected = (np.array([341 / 320, 256 / 240], np.float32) *
                np.array([224 / 341, 224 / 256], np.float32))
    np.testing.assert_array_equal(out['scale_factor'], expected)
    np.testing.assert_allclose(out['scale_factor'], [224 / 320, 224 / 240],
                               rtol=1e-6)
    # an earlier factor (e.g. from a dataset) is multiplied in too
    results = sample(240, 320)
    results['scale_factor'] = np.array([2.0, 4.0], np.float32)
    out = Resize(scale=0.5)(results)
    assert out['scale_factor'].tolist() == [1.0, 2.0]


@pytest.mark.parametrize('name, code', [
    ('nearest', cv2.INTER_NEAREST),
    ('bilinear', cv2.INTER_LINEAR),
    ('bicubic', cv2.INTER_CUBIC),
    ('area', cv2.INTER_AREA),
    ('lanczos', cv2.INTER_LANCZOS4),
])
def test_interpolation_names(name, code):
    results = sample(240, 320)
    expected = cv2.resize(results['imgs'][0], (150, 100), interpolation=code)
    out = Resize(scale=(150, 100), keep_ratio=False,
                 interpolation=name)(results)
    np.testing.assert_array_equal(out['imgs'][0], expected)


def test_lazy_records_shape_and_interpolation_only():
    results = sample(240, 320)
    frames = list(results['imgs'])
    out = Resize(scale=(-1, 256), interpolation='bicubic', lazy=True)(results)
    assert all(a is b for a, b in zip(out['imgs'], frames))
    assert out['img_shape'] == (256, 341)
    np.testing.assert_array_equal(
        out['scale_factor'], np.array([341 / 320, 256 / 240], np.float32))
    lazy = out['lazy']
    assert lazy['interpolation'] == 'bicubic'
    assert lazy['original_shape'] == (240, 320)
    assert lazy['crop_bbox'].tolist() == [0, 0, 320, 240]


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(scale=256), TypeError, 'scale must be a float factor'),
    (dict(scale=(1, 2, 3)), TypeError, 'two ints'),
    (dict(scale=(224.0, 224)), TypeError, 'two ints'),
    (dict(scale=-0.5), ValueError, 'must be positive'),
    (dict(scale=0.5, keep_ratio=False), ValueError, 'keep_ratio=True'),
    (dict(scale=(-1, 256), keep_ratio=False), ValueError, 'keep_ratio=True'),
    (dict(scale=(-1, -1)), ValueError, r'needs n > 0'),
    (dict(scale=(0, 256)), ValueError, 'positive or one -1'),
    (dict(scale=(224, 224), interpolation='linear'), ValueError,
     "interpolation must be one of .*'bilinear'"),
    (dict(scale=(224, 224), keep_ratio=1), TypeError, 'keep_ratio'),
    (dict(scale=(224, 224), lazy='yes'), TypeError, 'lazy'),
])
def test_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        Resize(**kwargs)


def test_key_contract():
    resize = Resize(scale=(-1, 256))
    assert resize.required_keys == ('imgs', 'img_shape')
    results = sample(240, 320)
    del results['imgs'], results['img_shape']
    with pytest.raises(KeyError,
                       match=r"Resize needs \['imgs', 'img_shape'\]"):
        resize(results)
    # frames on their own (mmaction2 1.x): img_shape comes from imgs[0]
    results = sample(240, 320)
    del results['img_shape']
    assert resize(results)['img_shape'] == (256, 341)
    for transform in (resize, Resize(scale=(-1, 256), lazy=True)):
        out = transform(sample(240, 320))
        assert set(transform.added_keys) <= set(out)
    assert 'lazy' in Resize(scale=0.5, lazy=True).added_keys
    assert 'lazy' not in Resize.added_keys


@pytest.mark.parametrize('interpolation',
                         ['nearest', 'bilinear', 'bicubic', 'area', 'lanczos'])
def test_frames_of_the_target_size_are_kept_as_resampling_gives_them(
        interpolation):
    """A frame already of the new size is kept (no resampling pass): the
    values OpenCV's same-size resize gives, for every interpolation; frames
    of another size in the same sample are still resized."""
    results = sample(256, 340, n=3)
    odd = np.random.default_rng(5).integers(0, 256, (240, 320, 3),
                                            dtype=np.uint8)
    results['imgs'][1] = odd  # e.g. a frame that came out another size
    originals = [img.copy() for img in results['imgs']]
    first = results['imgs'][0]
    out = Resize(scale=(340, 256), keep_ratio=False,
                 interpolation=interpolation)(results)
    code = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR,
            'bicubic': cv2.INTER_CUBIC, 'area': cv2.INTER_AREA,
            'lanczos': cv2.INTER_LANCZOS4}[interpolation]
    for got, original in zip(out['imgs'], originals):
        np.testing.assert_array_equal(
            got, cv2.resize(original, (340, 256), interpolation=code))
    assert out['imgs'][0] is first  # kept, not copied
    assert out['imgs'][1].shape == (256, 340, 3)
