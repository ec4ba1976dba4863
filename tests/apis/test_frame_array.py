"""Frames in memory through the test pipeline: the same scores as the video
file they were decoded from; the decoder swap and the input checks."""

import av
import numpy as np
import pytest
import torch

from mmvid.apis import inference_recognizer, init_recognizer
from mmvid.apis.frame_array import (FrameArrayDecode, frame_array,
                                    frames_sample)
from mmvid.apis.inference import (config_test_pipeline, pipeline_for_input,
                                  video_sample)
from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.datasets.errors import BadSampleError

from .test_inference_recognizer import DEMO_CONFIG, randomize


def decode_all(path):
    """Every frame of a video, RGB, with PyAV (not the demo's OpenCV)."""
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format='rgb24')
                         for f in container.decode(video=0)])


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('frames') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=12, size=(32, 24),
        write_rawframes=False, progress=False)
    torch.manual_seed(5)
    model = randomize(init_recognizer(DEMO_CONFIG))
    video = root / 'videos' / 'val' / 'move_right' / '0000.mp4'
    return model, video, decode_all(video)


def test_frames_score_as_their_video_file(setup):
    model, video, frames = setup
    assert frames.shape == (12, 24, 32, 3)
    from_file = inference_recognizer(model, str(video)).pred_score
    from_array = inference_recognizer(model, frames).pred_score
    torch.testing.assert_close(from_array, from_file, rtol=0, atol=0)
    as_list = inference_recognizer(model, list(frames)).pred_score
    torch.testing.assert_close(as_list, from_file, rtol=0, atol=0)
    as_dict = inference_recognizer(model, dict(frame_array=frames))
    torch.testing.assert_close(as_dict.pred_score, from_file, rtol=0,
                               atol=0)
    # fewer frames: the sampler sees total_frames = 5 (not the file's 12)
    first5 = inference_recognizer(model, frames[:5]).pred_score
    assert not torch.equal(first5, from_file)
    again = inference_recognizer(model, frames[:5].copy()).pred_score
    torch.testing.assert_close(again, first5, rtol=0, atol=0)


def test_pipeline_for_frames(setup):
    model, _, _ = setup
    pipeline = config_test_pipeline(model.cfg)
    swapped = pipeline_for_input(pipeline, 'frames')
    assert len(swapped) == len(pipeline) - 1  # DecordInit dropped
    assert swapped[0] == pipeline[1]  # SampleFrames
    assert isinstance(swapped[1], FrameArrayDecode)
    assert swapped[2:] == pipeline[3:]
    rawframes = pipeline_for_input(pipeline, 'rawframes')
    again = pipeline_for_input(rawframes, 'frames')
    assert [type(t) for t in again] == [type(t) for t in swapped]
    assert isinstance(again[1], FrameArrayDecode)
    with pytest.raises(ValueError, match="'video', 'rawframes' or 'frames'"):
        pipeline_for_input(pipeline, 'array')


def test_frame_array_decode_takes_the_indices():
    frames = np.arange(4 * 2 * 3 * 3, dtype=np.uint8).reshape(4, 2, 3, 3)
    results = FrameArrayDecode()(dict(frames_sample(frames),
                                      frame_inds=np.array([3, 0, 3])))
    assert 'frame_array' not in results
    assert [img.tolist() for img in results['imgs']] == \
        [frames[3].tolist(), frames[0].tolist(), frames[3].tolist()]
    assert results['imgs'][0] is not results['imgs'][2]
    assert results['img_shape'] == results['original_shape'] == (2, 3)
    results['imgs'][0][:] = 0  # no aliasing with the input
    assert frames[3].max() > 0
    with pytest.raises(BadSampleError, match='cannot read frame 4 of '
                       '<in-memory frames>: the video has 4 frames'):
        FrameArrayDecode()(dict(frames_sample(frames),
                                frame_inds=np.array([4])))


def test_frame_array_checks():
    frame = np.zeros((2, 3, 3), np.uint8)
    assert frame_array([frame, frame]).shape == (2, 2, 3, 3)
    sample = video_sample([frame])
    assert (sample['total_frames'], sample['start_index'],
            sample['modality']) == (1, 0, 'RGB')
    with pytest.raises(ValueError, match='no frames'):
        frame_array([])
    with pytest.raises(ValueError, match='different shapes'):
        frame_array([frame, np.zeros((2, 4, 3), np.uint8)])
    with pytest.raises(ValueError, match=r'\[T, H, W, 3\] RGB with T >= 1, '
                       r'got shape \(2, 3, 3\)'):
        frame_array(frame)
    with pytest.raises(ValueError, match='must be uint8, got float32'):
        frame_array(np.zeros((1, 2, 3, 3), np.float32))
    with pytest.raises(KeyError, match="'frame_array' \\(frames\\)"):
        video_sample(dict(label=1))
