"""inference_recognizer: one video through the test pipeline, as the test
dataset and test_step would run it."""
import os.path as osp

import pytest
import torch
from mmengine.dataset import pseudo_collate

from mmvid.apis import (inference_recognizer, init_recognizer,
                        top_k_classes)
from mmvid.apis.inference import (config_test_pipeline, pipeline_for_input,
                                  video_sample)
from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.registry import DATASETS
from mmvid.structures import ActionDataSample
from mmvid.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


def randomize(model):
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.normal_(0, 0.2)
    return model.eval()


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('infer') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=8, size=(32, 24),
        codec='MJPG', progress=False)
    torch.manual_seed(5)
    model = randomize(init_recognizer(DEMO_CONFIG))
    return root, model


def dataset_prediction(model, root, fmt):
    """The prediction tools/test.py makes for val item 1: the config's test
    dataset (pointed at the tiny set) and test_step."""
    register_all_modules()
    cfg = model.cfg.test_dataloader.dataset.copy()
    cfg.ann_file = str(root / f'val_list_{fmt}.txt')
    cfg.label_file = str(root / 'label_map.txt')
    if fmt == 'videos':
        cfg.data_prefix = dict(video=str(root))
    else:
        cfg.type = 'RawframeDataset'
        cfg.data_prefix = dict(img=str(root))
        cfg.pipeline = pipeline_for_input(cfg.pipeline, 'rawframes')
    dataset = DATASETS.build(cfg)
    with torch.no_grad():
        return model.test_step(pseudo_collate([dataset[1]]))[0]


def test_video_file_matches_the_test_dataset(setup):
    root, model = setup
    path = root / 'videos' / 'val' / 'move_right' / '0000.avi'
    result = inference_recognizer(model, str(path))
    expected = dataset_prediction(model, root, 'videos')
    assert isinstance(result, ActionDataSample)
    assert result.pred_score.shape == (8, )
    torch.testing.assert_close(result.pred_score, expected.pred_score)
    assert int(result.pred_label) == int(expected.pred_label)
    assert result.metainfo['filename'] == str(path)
    # a rawframe pipeline reads the video with decord instead
    rawframe_pipeline = pipeline_for_input(config_test_pipeline(model.cfg),
                                           'rawframes')
    again = inference_recognizer(model, str(path), rawframe_pipeline)
    torch.testing.assert_close(again.pred_score, result.pred_score)


def test_frame_folder_on_a_video_config(setup):
    root, model = setup
    folder = root / 'rawframes' / 'val' / 'move_right' / '0000'
    result = inference_recognizer(model, str(folder))
    expected = dataset_prediction(model, root, 'rawframes')
    torch.testing.assert_close(result.pred_score, expected.pred_score)
    # a sample dict in the dataset's format gives the same
    again = inference_recognizer(model, dict(frame_dir=str(folder)))
    torch.testing.assert_close(again.pred_score, result.pred_score)


def test_video_sample_and_pipeline_swaps(setup, tmp_path):
    root, model = setup
    folder = root / 'rawframes' / 'val' / 'move_left' / '0000'
    sample = video_sample(str(folder))
    assert (sample['total_frames'], sample['start_index'],
            sample['offset']) == (8, 1, 0)
    video = video_sample(str(root / 'videos' / 'val' / 'move_left' /
                             '0000.avi'))
    assert video['start_index'] == 0 and 'frame_dir' not in video
    with pytest.raises(FileNotFoundError, match='no frame img_00001.jpg'):
        video_sample(str(tmp_path))
    with pytest.raises(FileNotFoundError):
        video_sample(str(tmp_path / 'missing.mp4'))

    pipeline = config_test_pipeline(model.cfg)
    names = [t['type'] for t in pipeline]
    assert names[:3] == ['DecordInit', 'SampleFrames', 'DecordDecode']
    frames = [t['type'] for t in pipeline_for_input(pipeline, 'rawframes')]
    assert frames[:2] == ['SampleFrames', 'RawFrameDecode']
    back = [t['type'] for t in pipeline_for_input(
        pipeline_for_input(pipeline, 'rawframes'), 'video')]
    assert back == names
    assert pipeline_for_input(pipeline, 'video') == pipeline


def test_top_k_classes():
    sample = ActionDataSample().set_pred_score(
        torch.tensor([0.1, 0.4, 0.2, 0.4, -1.0]))
    assert top_k_classes(sample, 3) == [(1, None, pytest.approx(0.4)),
                                        (3, None, pytest.approx(0.4)),
                                        (2, None, pytest.approx(0.2))]
    names = ['a', 'b', 'c', 'd', 'e']
    assert [n for _, n, _ in top_k_classes(sample, 9, names)] == \
        ['b', 'd', 'c', 'a', 'e']
    with pytest.raises(ValueError, match='4 class names'):
        top_k_classes(sample, 2, names[:4])
