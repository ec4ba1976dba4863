"""Crops: boxes computed independently here (mmaction2's offsets), the
cropped pixels, ``img_shape``, ``crop_bbox``, ``crop_quadruple``, the view
order of ThreeCrop / TenCrop and the key contract."""
import numpy as np
import pytest

from mmvid.datasets.transforms.crop import (CenterCrop, MultiScaleCrop,
                                            RandomCrop, RandomResizedCrop,
                                            TenCrop, ThreeCrop,
                                            fixed_crop_offsets)


def sample(h, w, n=2, seed=0):
    """``n`` random frames of ``h x w`` and a generator seeded ``seed``."""
    frames = np.random.default_rng(1000 + n).integers(
        0, 256, (n, h, w, 3), dtype=np.uint8)
    return dict(imgs=list(frames), img_shape=(h, w),
                rng=np.random.default_rng(seed))


def box_of(results):
    return tuple(results['crop_bbox'].tolist())


def assert_cropped(out, frames, box):
    x1, y1, x2, y2 = box
    assert out['img_shape'] == (y2 - y1, x2 - x1)
    assert len(out['imgs']) == len(frames)
    for got, frame in zip(out['imgs'], frames):
        np.testing.assert_array_equal(got, frame[y1:y2, x1:x2])


# --------------------------------------------------------------- CenterCrop
@pytest.mark.parametrize('shape, size, box', [
    ((256, 340), 224, (58, 16, 282, 240)),
    ((256, 341), 224, (58, 16, 282, 240)),  # (341 - 224) // 2 = 58
    ((256, 340), (200, 100), (70, 78, 270, 178)),  # (w, h)
    ((224, 224), 224, (0, 0, 224, 224)),
])
def test_center_crop_box_and_pixels(shape, size, box):
    results = sample(*shape)
    frames = list(results['imgs'])
    out = CenterCrop(size)(results)
    assert box_of(out) == box
    assert out['crop_bbox'].dtype == np.int64
    assert_cropped(out, frames, box)
    h, w = shape
    x1, y1, x2, y2 = box
    np.testing.assert_array_equal(
        out['crop_quadruple'],
        np.array([x1 / w, y1 / h, (x2 - x1) / w, (y2 - y1) / h], np.float32))


def test_crop_quadruple_composes_to_the_box_in_the_original_frame():
    # (300, 240) at (20, 8), then 224 at (38, 8): (58, 16, 282, 240) overall
    results = CenterCrop((300, 240))(sample(256, 340))
    out = CenterCrop(224)(results)
    np.testing.assert_allclose(
        out['crop_quadruple'], [58 / 340, 16 / 256, 224 / 340, 224 / 256],
        rtol=1e-6)
    assert box_of(out) == (38, 8, 262, 232)  # in the frames it cropped


def test_center_crop_larger_than_frames_raises():
    with pytest.raises(ValueError, match=r'CenterCrop: crop \(w=300, h=300\) '
                       r'is larger than the frames \(w=340, h=256\)'):
        CenterCrop(300)(sample(256, 340))


# --------------------------------------------------------------- RandomCrop
def test_random_crop_exact_box_and_full_offset_range():
    seen_x, seen_y = set(), set()
    for seed in range(300):
        results = sample(20, 30, n=1, seed=seed)
        frames = list(results['imgs'])
        out = RandomCrop(16)(results)
        rng = np.random.default_rng(seed)  # draws: x, then y (inclusive)
        x, y = int(rng.integers(0, 15)), int(rng.integers(0, 5))
        assert box_of(out) == (x, y, x + 16, y + 16)
        assert_cropped(out, frames, (x, y, x + 16, y + 16))
        seen_x.add(x)
        seen_y.add(y)
    assert seen_x == set(range(15)) and seen_y == set(range(5))


def test_random_crop_errors():
    with pytest.raises(TypeError, match='RandomCrop: size must be an int'):
        RandomCrop((16, 16))
    with pytest.raises(ValueError, match='larger than the frames'):
        RandomCrop(32)(sample(20, 30))


# ----------------------------------------------------------- MultiScaleCrop
def i3d_candidate_boxes(h=256, w=340, scales=(1, 0.8)):
    """Every box of I3D's MultiScaleCrop, enumerated by hand: square crops
    of int(256 * s) at the 5 fixed offsets."""
    boxes = set()
    for s in scales:
        side = int(min(h, w) * s)
        ws, hs = (w - side) // 4, (h - side) // 4
        for x, y in [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs),
                     (2 * ws, 2 * hs)]:
            boxes.add((x, y, x + side, y + side))
    return boxes


def i3d_crop():
    return MultiScaleCrop(input_size=224, scales=(1, 0.8), random_crop=False,
                          max_wh_scale_gap=0)


def test_i3d_multiscale_crop_candidates():
    boxes = i3d_candidate_boxes()
    assert boxes == {
        (0, 0, 256, 256), (84, 0, 340, 256), (42, 0, 298, 256),
        (0, 0, 204, 204), (136, 0, 340, 204), (0, 52, 204, 256),
        (136, 52, 340, 256), (68, 26, 272, 230)}
    assert i3d_crop().candidate_sizes((256, 340)) == [(256, 256), (204, 204)]
    seen = set()
    for seed in range(120):
        out = i3d_crop()(sample(256, 340, n=1, seed=seed))
        assert box_of(out) in boxes
        assert out['img_shape'] in ((256, 256), (204, 204))
        assert out['scales'] == (1, 0.8)
        seen.add(box_of(out))
    assert seen == boxes


@pytest.mark.parametrize('seed', [0, 1, 7])
def test_i3d_multiscale_crop_exact_box_for_a_seed(seed):
    results = sample(256, 340, seed=seed)
    frames = list(results['imgs'])
    out = i3d_crop()(results)
    rng = np.random.default_rng(seed)  # draws: size index, offset index
    side = [256, 204][int(rng.integers(2))]
    ws, hs = (340 - side) // 4, (256 - side) // 4
    x, y = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs),
            (2 * ws, 2 * hs)][int(rng.integers(5))]
    box = (x, y, x + side, y + side)
    assert box_of(out) == box
    assert_cropped(out, frames, box)
    np.testing.assert_array_equal(
        out['crop_quadruple'],
        np.array([x / 340, y / 256, side / 340, side / 256], np.float32))


def test_candidate_sizes_with_a_scale_gap():
    crop = MultiScaleCrop(input_size=300, scales=(1, 0.875, 0.75),
                          max_wh_scale_gap=1)
    # sizes 256, 224, 192; (w, h) pairs whose scale indices differ by <= 1
    assert crop.candidate_sizes((256, 340)) == [
        (256, 256), (224, 256), (256, 224), (224, 224), (192, 224),
        (224, 192), (192, 192)]


def test_thirteen_fixed_crops():
    ws, hs = (340 - 204) // 4, (256 - 204) // 4  # 34, 13
    expected = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs),
                (2 * ws, 2 * hs),
                (0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 0), (2 * ws, 4 * hs),
                (ws, hs), (3 * ws, hs), (ws, 3 * hs), (3 * ws, 3 * hs)]
    assert fixed_crop_offsets((256, 340), 204, 204, 13) == expected
    assert fixed_crop_offsets((256, 340), 204, 204) == expected[:5]
    crop = MultiScaleCrop(input_size=224, scales=(0.8, ), num_fixed_crops=13)
    seen = {box_of(crop(sample(256, 340, n=1, seed=s))) for s in range(200)}
    assert seen == {(x, y, x + 204, y + 204) for x, y in expected}


@pytest.mark.parametrize('short, side', [
    (226, 224),  # |226 - 224| = 2 < 3: snaps to input_size
    (225, 224),
    (224, 224),
    (227, 227),  # 3 px away: kept
    (221, 221),
])
def test_three_px_snap(short, side):
    crop = MultiScaleCrop(input_size=224, scales=(1, ))
    assert crop.candidate_sizes((short, 300)) == [(side, side)]
    out = crop(sample(short, 300))
    assert out['img_shape'] == (side, side)


def test_snap_beyond_the_frame_raises():
    crop = MultiScaleCrop(input_size=224, scales=(1, ))
    assert crop.candidate_sizes((222, 300)) == [(224, 224)]
    with pytest.raises(ValueError, match=r'crop \(w=224, h=224\) \(snapped '
                       r'to input_size=\(224, 224\)\) is larger than the '
                       r'frames \(w=300, h=222\)'):
        crop(sample(222, 300))


def test_snap_per_side_with_w_h_input_size():
    crop = MultiScaleCrop(input_size=(200, 180), scales=(1, ))
    # short side 182: w 182 stays (|182 - 200| >= 3), h 182 snaps to 180
    assert crop.candidate_sizes((182, 300)) == [(182, 180)]


def test_random_crop_offsets_cover_the_range():
    crop = MultiScaleCrop(input_size=224, scales=(0.8, ), random_crop=True)
    xs, ys = set(), set()
    for seed in range(400):
        results = sample(256, 240, n=1, seed=seed)
        x1, y1, x2, y2 = box_of(crop(results))
        assert (x2 - x1, y2 - y1) == (192, 192)
        rng = np.random.default_rng(seed)  # size index, then x, then y
        rng.integers(1)
        assert (x1, y1) == (int(rng.integers(0, 49)), int(rng.integers(0, 65)))
        xs.add(x1)
        ys.add(y1)
    assert min(xs) == 0 and max(xs) == 48 and min(ys) == 0 and max(ys) == 64


@pytest.mark.parametrize('kwargs, error, match', [
    (dict(input_size=224, scales=(1, 1.2)), ValueError, r'\(0, 1\]'),
    (dict(input_size=224, scales=()), TypeError, 'non-empty'),
    (dict(input_size=224, num_fixed_crops=7), ValueError, '5 or 13'),
    (dict(input_size=224, max_wh_scale_gap=-1), ValueError, '>= 0'),
    (dict(input_size=224, random_crop=None), TypeError, 'random_crop'),
    (dict(input_size=(224, 224, 3)), TypeError, 'input_size'),
])
def test_multiscale_crop_constructor_errors(kwargs, error, match):
    with pytest.raises(error, match='MultiScaleCrop: .*' + match):
        MultiScaleCrop(**kwargs)


# -------------------------------------------------------- RandomResizedCrop
def test_random_resized_crop_bounds_and_exact_box():
    h, w = 256, 340
    for seed in range(100):
        results = sample(h, w, n=1, seed=seed)
        frames = list(results['imgs'])
        out = RandomResizedCrop()(results)
        box = box_of(out)
        x1, y1, x2, y2 = box
        cw, ch = x2 - x1, y2 - y1
        assert 0 <= x1 and x2 <= w and 0 <= y1 and y2 <= h
        # rounding moves each side by at most 0.5 px
        assert (cw + 0.5) * (ch + 0.5) >= 0.08 * h * w
        assert (cw - 0.5) * (ch - 0.5) <= h * w
        assert (cw - 0.5) / (ch + 0.5) <= 4 / 3
        assert (cw + 0.5) / (ch - 0.5) >= 3 / 4
        assert_cropped(out, frames, box)
        # the same draws, done here
        rng = np.random.default_rng(seed)
        ratios = np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3), 10))
        areas = rng.uniform(0.08, 1.0, 10) * h * w
        for ar, area in zip(ratios, areas):
            ew, eh = int(np.round(np.sqrt(area * ar))), int(
                np.round(np.sqrt(area / ar)))
            if ew <= w and eh <= h:
                ex = int(rng.integers(0, w - ew + 1))
                ey = int(rng.integers(0, h - eh + 1))
                assert box == (ex, ey, ex + ew, ey + eh)
                break
        else:
            assert box == (42, 0, 298, 256)


def test_random_resized_crop_falls_back_to_centred_square():
    # aspect 3..4 with >= 90% of the area never fits a 340x256 frame
    crop = RandomResizedCrop(area_range=(0.9, 1.0), aspect_ratio_range=(3, 4))
    for seed in range(5):
        out = crop(sample(256, 340, seed=seed))
        assert box_of(out) == (42, 0, 298, 256)
        assert out['img_shape'] == (256, 256)
    out = crop(sample(340, 256))  # portrait
    assert box_of(out) == (0, 42, 256, 298)


@pytest.mark.parametrize('kwargs, match', [
    (dict(area_range=(0, 1)), 'area_range must satisfy'),
    (dict(area_range=(0.5, 1.2)), 'area_range must satisfy'),
    (dict(area_range=(0.6, 0.5)), 'area_range must satisfy'),
    (dict(aspect_ratio_range=(2, 1)), 'aspect_ratio_range must satisfy'),
])
def test_random_resized_crop_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match='RandomResizedCrop: ' + match):
        RandomResizedCrop(**kwargs)


# ---------------------------------------------------------------- ThreeCrop
def test_three_crop_340x256_left_right_middle_crop_major():
    results = sample(256, 340, n=3)
    frames = list(results['imgs'])
    out = ThreeCrop(crop_size=256)(results)
    step = (340 - 256) // 2
    xs = [0, 2 * step, step]
    assert xs == [0, 84, 42]
    assert len(out['imgs']) == 9
    assert out['img_shape'] == (256, 256)
    assert out['crop_bbox'].shape == (9, 4)
    for view, x in enumerate(xs):
        for t, frame in enumerate(frames):
            i = view * 3 + t  # crop-major: all frames of view 0 first
            np.testing.assert_array_equal(out['imgs'][i],
                                          frame[:, x:x + 256])
            assert out['crop_bbox'][i].tolist() == [x, 0, x + 256, 256]


def test_three_crop_along_height_for_portrait_frames():
    results = sample(340, 256, n=1)
    frame = results['imgs'][0]
    out = ThreeCrop(crop_size=256)(results)
    assert out['crop_bbox'].tolist() == [[0, 0, 256, 256], [0, 84, 256, 340],
                                         [0, 42, 256, 298]]
    for got, y in zip(out['imgs'], [0, 84, 42]):
        np.testing.assert_array_equal(got, frame[y:y + 256])


def test_three_crop_must_span_one_side():
    with pytest.raises(ValueError, match=r'ThreeCrop: crop \(w=224, h=224\) '
                       'must span the whole width or height'):
        ThreeCrop(crop_size=224)(sample(256, 340))


# ------------------------------------------------------------------ TenCrop
def test_ten_crop_five_boxes_each_followed_by_its_flip():
    results = sample(256, 340, n=2)
    frames = list(results['imgs'])
    out = TenCrop(crop_size=224)(results)
    ws, hs = (340 - 224) // 4, (256 - 224) // 4  # 29, 8
    offsets = [(0, 0), (116, 0), (0, 32), (116, 32), (58, 16)]
    assert offsets == [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs),
                       (2 * ws, 2 * hs)]
    assert len(out['imgs']) == 20
    assert out['img_shape'] == (224, 224)
    assert out['crop_bbox'].shape == (20, 4)
    i = 0
    for x, y in offsets:
        for flipped in (False, True):
            for frame in frames:
                crop = frame[y:y + 224, x:x + 224]
                want = crop[:, ::-1] if flipped else crop
                np.testing.assert_array_equal(out['imgs'][i], want)
                assert out['crop_bbox'][i].tolist() == [x, y, x + 224, y + 224]
                i += 1


def test_ten_crop_with_w_h_size():
    out = TenCrop(crop_size=(300, 200))(sample(256, 340, n=1))
    assert out['img_shape'] == (200, 300)
    assert out['crop_bbox'][::2].tolist() == [
        [0, 0, 300, 200], [40, 0, 340, 200], [0, 56, 300, 256],
        [40, 56, 340, 256], [20, 28, 320, 228]]


# ------------------------------------------------------------ key contract
@pytest.mark.parametrize('transform', [
    RandomCrop(200), CenterCrop(224), i3d_crop(), RandomResizedCrop(),
    ThreeCrop(256), TenCrop(224),
    RandomCrop(200, lazy=True), CenterCrop(224, lazy=True),
    MultiScaleCrop(224, lazy=True), RandomResizedCrop(lazy=True)
], ids=repr)
def test_key_contract(transform):
    assert transform.required_keys == ('imgs', 'img_shape')
    out = transform(sample(256, 340))
    assert set(transform.added_keys) <= set(out)
    assert ('lazy' in out) == getattr(transform, 'lazy', False)
    results = sample(256, 340)
    del results['imgs'], results['img_shape']
    name = type(transform).__name__
    with pytest.raises(KeyError,
                       match=rf"{name} needs \['imgs', 'img_shape'\]"):
        transform(results)
    # frames on their own (mmaction2 1.x): img_shape comes from imgs[0]
    results = sample(256, 340)
    del results['img_shape']
    assert transform(results)['img_shape'] == out['img_shape']
