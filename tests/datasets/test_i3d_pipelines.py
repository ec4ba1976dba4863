"""mmaction2's I3D train / val / test pipelines end to end on a 340x256
300-frame video: shapes, dtype, and the exact frames sampled.

Every frame has one constant colour that encodes its index
(``R + 256 * G == index``); constant frames stay constant through resizing
and cropping, so the output proves which frames were decoded, in which order.
"""
import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose

from mmengine.registry import DefaultScope

from mmvid.utils import register_all_modules


@pytest.fixture(autouse=True)
def mmvid_scope():
    """mmvid as the current default scope, so Compose finds its names
    (whatever scope earlier tests, e.g. a Runner's, left current)."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmvid'):
        yield

NUM_FRAMES, WIDTH, HEIGHT = 300, 340, 256
# mmaction2 0.x test sampling of 10 clips of 32x2 frames from 300 frames
TEST_STARTS = [12, 36, 60, 83, 107, 131, 155, 178, 202, 226]


def index_colour(i):
    return np.array([i % 256, i // 256, 77], dtype=np.uint8)


def frame_indices_of(clip):
    """``[C, T, H, W]`` uint8 clip -> the frame index encoded in each frame."""
    assert (clip == clip[:, :, :1, :1]).all(), 'frames must stay constant'
    r, g = clip[0, :, 0, 0].astype(int), clip[1, :, 0, 0].astype(int)
    return (r + 256 * g).tolist()


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp('video') / 'indexed.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'FFV1'), 25,
                             (WIDTH, HEIGHT))
    for i in range(NUM_FRAMES):
        rgb = np.broadcast_to(index_colour(i), (HEIGHT, WIDTH, 3))
        writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    writer.release()
    return str(path)


@pytest.fixture(scope='module')
def frame_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp('rawframes')
    for i in range(NUM_FRAMES):
        rgb = np.broadcast_to(index_colour(i), (HEIGHT, WIDTH, 3))
        cv2.imwrite(str(folder / f'img_{i + 1:05}.png'),
                    np.ascontiguousarray(rgb[..., ::-1]))
    return str(folder)


def video_sample(video, test_mode=True):
    return dict(filename=video, start_index=0, label=3, modality='RGB',
                rng=np.random.default_rng(0))


def rawframe_sample(frame_dir):
    return dict(frame_dir=frame_dir, total_frames=NUM_FRAMES, start_index=1,
                filename_tmpl='img_{:05}.png', offset=0, label=3,
                modality='RGB', rng=np.random.default_rng(0))


def i3d_pipeline(decode, stage):
    """The I3D 32x2x1 pipelines (mmaction2 0.x config, 1.x packing)."""
    sampler = dict(type='SampleFrames', clip_len=32, frame_interval=2)
    if stage == 'train':
        spatial = [
            dict(type='Resize', scale=(-1, 256)),
            dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
                 random_crop=False, max_wh_scale_gap=0),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='Flip', flip_ratio=0.5),
        ]
        sampler.update(num_clips=1)
    elif stage == 'val':
        spatial = [dict(type='Resize', scale=(-1, 256)),
                   dict(type='CenterCrop', crop_size=224)]
        sampler.update(num_clips=1, test_mode=True)
    else:
        spatial = [dict(type='Resize', scale=(-1, 256)),
                   dict(type='ThreeCrop', crop_size=256)]
        sampler.update(num_clips=10, test_mode=True)
    return Compose(decode[:-1] + [sampler, decode[-1]] + spatial + [
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])


VIDEO_DECODE = [dict(type='DecordInit'), dict(type='DecordDecode')]
RAWFRAME_DECODE = [dict(type='RawFrameDecode')]


@pytest.mark.parametrize('source', ['video', 'rawframes'])
def test_test_pipeline_shape_and_exact_frames(source, video, frame_dir):
    if source == 'video':
        pipeline = i3d_pipeline(VIDEO_DECODE, 'test')
        out = pipeline(video_sample(video))
        offset = 0
    else:
        pipeline = i3d_pipeline(RAWFRAME_DECODE, 'test')
        out = pipeline(rawframe_sample(frame_dir))
        offset = 1  # rawframes are 1-based: frame k is img_{k+1}
    inputs = out['inputs'].numpy()
    assert inputs.shape == (30, 3, 32, 256, 256)
    assert inputs.dtype == np.uint8
    for crop in range(3):  # crop-major: views 0-9 crop 0, 10-19 crop 1, ...
        for clip, start in enumerate(TEST_STARTS):
            expected = [start - 1 + 2 * t for t in range(32)]  # 0-based
            got = frame_indices_of(inputs[crop * 10 + clip])
            assert got == expected, (source, crop, clip)
    assert offset in (0, 1)
    assert out['data_samples'].gt_label.tolist() == [3]


def test_val_and_train_pipeline_shapes(video):
    val = i3d_pipeline(VIDEO_DECODE, 'val')(video_sample(video))
    assert val['inputs'].shape == (1, 3, 32, 224, 224)
    # 1 test clip at N=300: start 118 (0.x and 1.x agree)
    assert frame_indices_of(val['inputs'].numpy()[0]) == [
        118 + 2 * t for t in range(32)]
    train = i3d_pipeline(VIDEO_DECODE, 'train')(video_sample(video))
    assert train['inputs'].shape == (1, 3, 32, 224, 224)
    indices = frame_indices_of(train['inputs'].numpy()[0])
    assert np.diff(indices).tolist() == [2] * 31
    assert 0 <= indices[0] <= NUM_FRAMES - 64


def test_lazy_train_pipeline_matches_shape(video):
    pipeline = Compose(VIDEO_DECODE[:1] + [
        dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
        VIDEO_DECODE[1],
        dict(type='Resize', scale=(-1, 256), lazy=True),
        dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
             random_crop=False, max_wh_scale_gap=0, lazy=True),
        dict(type='Resize', scale=(224, 224), keep_ratio=False, lazy=True),
        dict(type='Flip', flip_ratio=0.5, lazy=True),
        dict(type='Fuse'),
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs')
    ])
    out = pipeline(video_sample(video))
    assert out['inputs'].shape == (1, 3, 32, 224, 224)
    assert np.diff(frame_indices_of(out['inputs'].numpy()[0])).tolist() == \
        [2] * 31
