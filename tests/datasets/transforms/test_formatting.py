"""FormatShape (view order, layouts, errors) and PackActionInputs (tensor,
labels, metainfo, dropped keys)."""
import numpy as np
import pytest
import torch

from mmvid.datasets.transforms.formatting import FormatShape, PackActionInputs
from mmvid.datasets.transforms.sampling import SampleFrames
from mmvid.registry import TRANSFORMS
from mmvid.structures import ActionDataSample

H, W = 2, 3


def coded_frames(crops, clips, clip_len):
    """Frames in pipeline order (crop, then clip, then time); channel 0 holds
    the crop, 1 the clip, 2 the time step."""
    return [np.broadcast_to(np.array([crop, clip, t], np.uint8), (H, W, 3))
            for crop in range(crops) for clip in range(clips)
            for t in range(clip_len)]


@pytest.mark.parametrize('stacked', [False, True])
def test_ncthw_views_are_crop_major(stacked):
    imgs = coded_frames(3, 10, 32)
    if stacked:
        imgs = np.stack(imgs)
    out = FormatShape('NCTHW')(dict(imgs=imgs, num_clips=10, clip_len=32))
    views = out['imgs']
    assert views.shape == (30, 3, 32, H, W)
    assert out['input_shape'] == (30, 3, 32, H, W)
    assert views.dtype == np.uint8 and views.flags['C_CONTIGUOUS']
    for view in range(30):
        assert (views[view, 0] == view // 10).all()  # crop
        assert (views[view, 1] == view % 10).all()  # clip
        for t in range(32):
            assert (views[view, 2, t] == t).all()


def test_ncthw_folds_twice_sampled_clips_into_views():
    # 20 clips of 4 frames sampled with num_clips=2 (e.g. twice_sample): the
    # extra clips become views
    imgs = coded_frames(1, 20, 4)
    out = FormatShape('NCTHW')(dict(imgs=imgs, num_clips=10, clip_len=4))
    assert out['imgs'].shape == (20, 3, 4, H, W)
    assert out['imgs'][:, 1, 0, 0, 0].tolist() == list(range(20))


def test_dtype_is_kept():
    imgs = np.random.default_rng(0).random((8, H, W, 3), dtype=np.float32)
    out = FormatShape('NCTHW')(dict(imgs=imgs, num_clips=2, clip_len=4))
    assert out['imgs'].dtype == np.float32
    assert np.array_equal(out['imgs'][1],
                          imgs[4:8].transpose(3, 0, 1, 2))


def test_nchw():
    imgs = coded_frames(1, 2, 3)
    out = FormatShape('NCHW')(dict(imgs=imgs))
    assert out['imgs'].shape == out['input_shape'] == (6, 3, H, W)
    assert np.array_equal(out['imgs'], np.stack(imgs).transpose(0, 3, 1, 2))
    one = FormatShape('NCHW', collapse=True)(dict(imgs=imgs[:1]))
    assert one['imgs'].shape == one['input_shape'] == (3, H, W)


def test_collapse_single_view():
    imgs = coded_frames(1, 1, 8)
    out = FormatShape('NCTHW', collapse=True)(
        dict(imgs=imgs, num_clips=1, clip_len=8))
    assert out['imgs'].shape == out['input_shape'] == (3, 8, H, W)
    assert out['imgs'][2, :, 0, 0].tolist() == list(range(8))
    with pytest.raises(ValueError,
                       match=r"FormatShape\('NCTHW'\) with collapse=True "
                       'needs a single view, got 3 views'):
        FormatShape('NCTHW', collapse=True)(
            dict(imgs=coded_frames(3, 1, 8), num_clips=1, clip_len=8))


def test_wrong_frame_count_names_the_numbers():
    with pytest.raises(ValueError,
                       match=r"FormatShape\('NCTHW'\): 31 frames cannot be "
                       r'split .* 1 x 32 = 32 frames \(31 is not a multiple '
                       'of 32'):
        FormatShape('NCTHW')(dict(imgs=coded_frames(1, 1, 31), num_clips=1,
                                  clip_len=32))
    with pytest.raises(ValueError, match=r'60 frames .* 2 x 32 = 64'):
        FormatShape('NCTHW')(dict(imgs=coded_frames(1, 2, 30), num_clips=2,
                                  clip_len=32))


def test_bad_frames():
    frames = coded_frames(1, 1, 4)
    frames[2] = np.zeros((H + 1, W, 3), np.uint8)
    with pytest.raises(ValueError, match=r"results\['imgs'\]\[2\] is uint8 "
                       r'\(3, 3, 3\), frame 0 is uint8 \(2, 3, 3\)'):
        FormatShape('NCHW')(dict(imgs=frames))
    with pytest.raises(ValueError, match=r'must be \[M, H, W, C\] frames, '
                       r'got an array of shape \(4, 2, 3\)'):
        FormatShape('NCHW')(dict(imgs=np.zeros((4, 2, 3), np.uint8)))
    with pytest.raises(ValueError, match=r"results\['imgs'\] is empty"):
        FormatShape('NCHW')(dict(imgs=[]))
    with pytest.raises(ValueError, match=r"results\['clip_len'\] must be a "
                       'positive int, got 0'):
        FormatShape('NCTHW')(dict(imgs=coded_frames(1, 1, 4), num_clips=1,
                                  clip_len=0))


def labelled_views(**extra):
    views = np.arange(2 * 3 * 4 * H * W, dtype=np.uint8).reshape(
        2, 3, 4, H, W)
    return dict(imgs=views, label=3, img_shape=(H, W), sample_idx=7,
                filename='/data/a.mp4', rng=np.random.default_rng(0),
                total_frames=100, **extra)


def test_pack_action_inputs():
    results = labelled_views()
    out = PackActionInputs()(results)
    assert set(out) == {'inputs', 'data_samples'}  # rng and the rest dropped
    inputs = out['inputs']
    assert isinstance(inputs, torch.Tensor)
    assert inputs.dtype == torch.uint8 and inputs.shape == (2, 3, 4, H, W)
    assert np.array_equal(inputs.numpy(), results['imgs'])
    sample = out['data_samples']
    assert isinstance(sample, ActionDataSample)
    assert sample.gt_label.tolist() == [3]
    assert sample.gt_label.dtype == torch.long
    # frame_dir is a default meta key but absent here: it is left out
    assert sample.metainfo == dict(img_shape=(H, W), sample_idx=7,
                                   filename='/data/a.mp4')


def test_pack_multi_hot_label_stays_float():
    multi_hot = np.array([0, 1, 0, 1], np.float32)
    out = PackActionInputs()(dict(labelled_views(), label=multi_hot))
    assert out['data_samples'].gt_label.dtype == torch.float32
    assert out['data_samples'].gt_label.tolist() == [0., 1., 0., 1.]


def test_pack_without_label_and_custom_meta_keys():
    results = labelled_views()
    del results['label']
    out = PackActionInputs(meta_keys=('total_frames', ))(results)
    assert 'gt_label' not in out['data_samples']
    assert out['data_samples'].metainfo == dict(total_frames=100)


def test_pack_collect_keys():
    results = labelled_views(heatmap=np.ones((2, 5), np.float32))
    out = PackActionInputs(collect_keys=('imgs', 'heatmap'))(results)
    assert set(out['inputs']) == {'imgs', 'heatmap'}
    assert out['inputs']['heatmap'].dtype == torch.float32
    with pytest.raises(KeyError,
                       match=r"PackActionInputs needs \['heatmap'\]"):
        PackActionInputs(collect_keys=['heatmap'])(labelled_views())


def test_pack_errors():
    results = labelled_views()
    del results['imgs']
    with pytest.raises(KeyError, match=r"PackActionInputs needs \['imgs'\]"):
        PackActionInputs()(results)
    with pytest.raises(TypeError, match=r"results\['imgs'\] must be an "
                       'np.ndarray or a tensor, got list; put FormatShape'):
        PackActionInputs()(dict(imgs=coded_frames(1, 1, 2)))


@pytest.mark.parametrize('transform, results', [
    (FormatShape('NCTHW'), dict(imgs=coded_frames(1, 1, 4), num_clips=1,
                                clip_len=4)),
    (FormatShape('NCHW'), dict(imgs=coded_frames(1, 1, 4))),
    (PackActionInputs(), labelled_views()),
])
def test_required_and_added_keys(transform, results):
    name = type(transform).__name__
    assert transform.required_keys
    for key in transform.required_keys:
        partial = {k: v for k, v in results.items() if k != key}
        with pytest.raises(KeyError, match=rf"{name} needs \['{key}'\]"):
            transform(partial)
    out = transform(dict(results))
    assert set(transform.added_keys) <= set(out)


@pytest.mark.parametrize('build, error, message', [
    (lambda: FormatShape('NTCHW'), ValueError,
     "input_format must be one of .*'NTCHW'"),
    (lambda: FormatShape('NCTHW', collapse=1), TypeError,
     'collapse must be True or False'),
    (lambda: PackActionInputs(meta_keys='img_shape'), TypeError,
     'meta_keys must be a list or tuple of str'),
    (lambda: PackActionInputs(meta_keys=('img_shape', 'rng')), ValueError,
     "meta_keys must not contain 'rng'"),
    (lambda: PackActionInputs(collect_keys=[]), ValueError,
     'collect_keys must name at least one key'),
    (lambda: PackActionInputs(keys=['imgs']), TypeError, 'keys'),
])
def test_constructor_errors_name_the_argument(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_sampler_to_model_input():
    """SampleFrames -> a decoder stand-in (each frame holds its index) ->
    three crops -> FormatShape -> PackActionInputs: every view holds the
    frames of its clip."""
    pipeline = [
        TRANSFORMS.build(dict(type='SampleFrames', clip_len=8,
                              frame_interval=2, num_clips=3, test_mode=True)),
        TRANSFORMS.build(dict(type='FormatShape', input_format='NCTHW')),
        TRANSFORMS.build(dict(type='PackActionInputs')),
    ]
    results = dict(total_frames=50, start_index=0, label=1,
                   rng=np.random.default_rng(0))
    results = pipeline[0](results)
    frames = [np.full((H, W, 3), i, np.uint8) for i in results['frame_inds']]
    results['imgs'] = [f + 100 * crop for crop in range(3) for f in frames]
    out = pipeline[2](pipeline[1](results))
    inputs = out['inputs'].numpy()
    assert inputs.shape == (9, 3, 8, H, W)
    # avg (50 - 16 + 1) / 3 = 11.67: offsets int(5.83), int(17.5), int(29.17)
    for crop in range(3):
        for clip, start in enumerate([5, 17, 29]):
            got = inputs[crop * 3 + clip, 0, :, 0, 0].tolist()
            assert got == [100 * crop + start + 2 * t for t in range(8)]
    assert out['data_samples'].gt_label.tolist() == [1]
    assert isinstance(pipeline[0], SampleFrames)


def reference_ncthw(imgs, num_clips, clip_len):
    """The layout by stacking and a transposed copy (the two-pass way)."""
    imgs = np.stack(imgs)
    imgs = imgs.reshape((-1, num_clips, clip_len) + imgs.shape[1:])
    imgs = imgs.transpose(0, 1, 5, 2, 3, 4)
    return np.ascontiguousarray(imgs.reshape((-1, ) + imgs.shape[2:]))


@pytest.mark.parametrize('dtype,channels', [
    (np.uint8, 3), (np.float32, 2), (np.uint8, 1), (np.uint16, 4),
    (np.uint8, 5), (np.int64, 3)],
    ids=['uint8-rgb', 'float32-flow', 'uint8-1ch', 'uint16-4ch',
         'uint8-5ch-numpy', 'int64-numpy'])
@pytest.mark.parametrize('cropped', [True, False], ids=['views', 'whole'])
def test_single_pass_layout_equals_stack_and_transpose(dtype, channels,
                                                       cropped):
    """Every branch of the one-pass layout (cv2.split into the result's
    planes for contiguous frames, into new planes for cropped views, numpy
    for more channels or other dtypes), on cropped views of frames as the
    crops hand them on and on whole frames as Resize does: the two-pass
    layout's values."""
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 250, (9, 11, channels)).astype(dtype)
              for _ in range(3 * 2 * 4)]  # 3 crops x 2 clips x 4 frames
    frames = [f[1:7, 2:9] if cropped else f[1:7, 2:9].copy() for f in frames]
    assert all(f.flags['C_CONTIGUOUS'] != cropped for f in frames)
    out = FormatShape('NCTHW')(dict(imgs=frames, num_clips=2, clip_len=4))
    expected = reference_ncthw(frames, 2, 4)
    assert out['imgs'].shape == expected.shape == (6, channels, 4, 6, 7)
    assert out['imgs'].dtype == dtype and out['imgs'].flags['C_CONTIGUOUS']
    np.testing.assert_array_equal(out['imgs'], expected)


def test_single_pass_layout_when_opencv_does_not_write_in_place(
        monkeypatch):
    """cv2.split writes into the planes it is given when it can; should it
    hand back arrays of its own instead, their values are copied in (the
    layout is the same)."""
    from mmvid.datasets.transforms import formatting
    calls = []

    def split_into_new_arrays(img, targets):
        calls.append(len(targets))
        return tuple(np.ascontiguousarray(img[..., c])
                     for c in range(img.shape[-1]))

    monkeypatch.setattr(formatting.cv2, 'split', split_into_new_arrays)
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
              for _ in range(2 * 4)]
    out = FormatShape('NCTHW')(dict(imgs=frames, num_clips=2, clip_len=4))
    np.testing.assert_array_equal(out['imgs'], reference_ncthw(frames, 2, 4))
    assert calls == [3] * 8
