"""Feature extraction: the recognizer's own pooling per view or averaged,
the .npy files and manifest, resuming, unreadable videos."""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate

import mmvid.apis.feature_files as feature_files
import mmvid.apis.features as features_module
from mmvid.apis.features import extract_features, video_features
from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.datasets.errors import BadSampleError
from mmvid.registry import MODELS, TRANSFORMS
from mmvid.utils import register_all_modules

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
# 2 clips x 3 crops = 6 views of 4 frames, 24 x 24
PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='ThreeCrop', crop_size=24),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
VIEWS, CHANNELS = 6, 32


def tiny_model(**test_cfg):
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=18, base_channels=4,
                      conv1_kernel=(3, 7, 7)),
        cls_head=dict(type='I3DHead', num_classes=2, in_channels=CHANNELS),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=MEAN,
                               std=STD),
        test_cfg=test_cfg))
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def model():
    return tiny_model(feature_extraction=True)


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    """The train list of a 2-class synthetic set: 4 labelled videos."""
    root = tmp_path_factory.mktemp('features') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=2,
        videos_per_class_val=0, num_frames=12, size=(32, 24),
        write_rawframes=False, progress=False)
    lines = (root / 'train_list_videos.txt').read_text().splitlines()
    return dict(root=str(root), list=str(root / 'train_list_videos.txt'),
                lines=[line.split() for line in lines])


def pipeline_inputs(path):
    """The test pipeline's inputs of one video, computed here."""
    register_all_modules()
    pipeline = Compose([TRANSFORMS.build(t) for t in PIPELINE])
    data = pipeline(dict(filename=path, start_index=0, modality='RGB',
                         rng=np.random.default_rng(0)))
    return data['inputs']


def test_per_view_features_are_the_recognizers_own_pooling(model, videos):
    inputs = pipeline_inputs(osp.join(videos['root'], videos['lines'][0][0]))
    assert inputs.shape == (VIEWS, 3, 4, 24, 24)
    per_view = video_features(model, inputs, average=False)
    averaged = video_features(model, inputs, average=True)
    assert per_view.shape == (VIEWS, CHANNELS) and per_view.dtype == np.float32
    assert averaged.shape == (CHANNELS, )
    # independently: the backbone's output averaged over T, H, W per view
    batch = model.data_preprocessor(pseudo_collate([dict(inputs=inputs)]))
    with torch.no_grad():
        maps = model.backbone(batch['inputs'][0])
    np.testing.assert_allclose(per_view, maps.mean((2, 3, 4)).numpy(),
                               rtol=1e-5, atol=1e-6)
    # averaged = what the recognizer stores for the whole video
    np.testing.assert_allclose(averaged, per_view.mean(0), rtol=1e-5,
                               atol=1e-6)


def test_video_features_needs_feature_extraction(videos):
    with pytest.raises(ValueError, match=r"test_cfg\['feature_extraction'\] "
                       '= True'):
        video_features(tiny_model(), torch.zeros(1, 3, 4, 24, 24), True)


def run(model, videos, out, **kwargs):
    kwargs.setdefault('video_root', videos['root'])
    return extract_features(model, PIPELINE, kwargs.pop('video_list',
                                                        videos['list']),
                            str(out), progress=False, **kwargs)


@pytest.mark.parametrize('average', [False, True])
def test_one_npy_per_video_and_the_manifest(model, videos, tmp_path,
                                            average):
    manifest = run(model, videos, tmp_path / 'out', average=average,
                   settings=dict(config='c.py', checkpoint='w.pth',
                                 views=None))
    shape = [CHANNELS] if average else [VIEWS, CHANNELS]
    assert manifest == feature_files.read_manifest(str(tmp_path / 'out'))
    assert {k: manifest[k] for k in (
        'config', 'checkpoint', 'views', 'average', 'video_list',
        'video_root', 'extracted', 'reused', 'failed')} == dict(
            config='c.py', checkpoint='w.pth', views=None, average=average,
            video_list=osp.abspath(videos['list']),
            video_root=videos['root'], extracted=4, reused=0, failed=0)
    assert manifest['videos'] == [
        dict(video=path, label=int(label),
             npy=path.replace('.mp4', '.npy'), shape=shape, status='done')
        for path, label in videos['lines']]
    for path, _ in videos['lines']:
        got = np.load(tmp_path / 'out' / path.replace('.mp4', '.npy'))
        inputs = pipeline_inputs(osp.join(videos['root'], path))
        np.testing.assert_array_equal(
            got, video_features(model, inputs, average))
    names = {n for _, _, files in os.walk(tmp_path / 'out') for n in files}
    assert not [n for n in names if n.endswith('.partial')]


def test_a_rerun_skips_complete_files_and_redoes_the_others(
        model, videos, tmp_path, monkeypatch):
    out = tmp_path / 'out'
    run(model, videos, out)
    npys = [out / p.replace('.mp4', '.npy') for p, _ in videos['lines']]
    before = [p.stat().st_mtime_ns for p in npys]
    calls = []
    original = features_module.video_features

    def counted(*args):
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(features_module, 'video_features', counted)
    again = run(model, videos, out)
    assert (again['extracted'], again['reused'], calls) == (0, 4, [])
    assert [p.stat().st_mtime_ns for p in npys] == before
    # a killed run's leftovers: a stale partial file and a missing .npy;
    # a damaged (truncated) .npy is not complete either
    expected = np.load(npys[0]), np.load(npys[2])
    npys[0].rename(str(npys[0]) + '.partial')
    npys[2].write_bytes(npys[2].read_bytes()[:-4])
    third = run(model, videos, out)
    assert (third['extracted'], third['reused'], len(calls)) == (2, 2, 2)
    np.testing.assert_array_equal(np.load(npys[0]), expected[0])
    np.testing.assert_array_equal(np.load(npys[2]), expected[1])
    assert not osp.exists(str(npys[0]) + '.partial')


def test_an_interrupted_run_leaves_no_half_file(model, videos, tmp_path,
                                                monkeypatch):
    out = tmp_path / 'out'
    saves = []

    def dies_on_the_second(f, array, allow_pickle):
        saves.append(1)
        f.write(b'\x93NUMPY half')
        if len(saves) == 2:
            raise KeyboardInterrupt
        f.seek(0)
        f.truncate()
        np.lib.format.write_array(f, array, allow_pickle=allow_pickle)

    monkeypatch.setattr(feature_files.np, 'save', dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        run(model, videos, out)
    monkeypatch.undo()
    manifest = feature_files.read_manifest(str(out))
    assert [v['status'] for v in manifest['videos']] == [
        'done', 'pending', 'pending', 'pending']
    second = out / videos['lines'][1][0].replace('.mp4', '.npy')
    assert not second.exists()
    assert osp.exists(str(second) + '.partial')
    resumed = run(model, videos, out)
    assert (resumed['extracted'], resumed['reused']) == (3, 1)
    assert np.load(second).shape == (VIEWS, CHANNELS)
    assert not osp.exists(str(second) + '.partial')


def test_other_settings_are_refused(model, videos, tmp_path):
    run(model, videos, tmp_path / 'out')
    with pytest.raises(ValueError, match=r'other settings \(average: False '
                       r'-> True\)'):
        run(model, videos, tmp_path / 'out', average=True)


def broken_list(videos, tmp_path):
    """The list with a non-video file as its second entry, no labels."""
    (tmp_path / 'broken.mp4').write_bytes(b'not a video')
    paths = [p for p, _ in videos['lines']]
    paths.insert(1, str(tmp_path / 'broken.mp4'))
    video_list = tmp_path / 'list.txt'
    video_list.write_text('\n'.join(osp.join(videos['root'], p)
                                    if i != 1 else p
                                    for i, p in enumerate(paths)) + '\n')
    return str(video_list)


def test_an_unreadable_video_is_named_or_recorded_as_failed(
        model, videos, tmp_path):
    video_list = broken_list(videos, tmp_path)
    with pytest.raises(BadSampleError, match=(
            f'{tmp_path}/broken.mp4 \\(listed in {video_list}, file '
            f'{tmp_path}/broken.mp4\\): .*; pass --skip-errors')):
        run(model, videos, tmp_path / 'out', video_list=video_list,
            video_root='')
    manifest = run(model, videos, tmp_path / 'out', video_list=video_list,
                   video_root='', skip_errors=True)
    assert (manifest['extracted'], manifest['reused'],
            manifest['failed']) == (3, 1, 1)
    failed = manifest['videos'][1]
    assert failed['status'] == 'failed' and failed['shape'] is None
    assert 'broken.mp4 (listed in' in failed['error']
    assert [v['label'] for v in manifest['videos']] == [None] * 5
    assert not (tmp_path / 'out' / str(tmp_path)[1:] / 'broken.npy').exists()


def test_loader_workers_give_the_same_files(model, videos, tmp_path):
    run(model, videos, tmp_path / 'a', num_workers=0)
    run(model, videos, tmp_path / 'b', num_workers=1)
    for path, _ in videos['lines']:
        npy = path.replace('.mp4', '.npy')
        np.testing.assert_array_equal(np.load(tmp_path / 'a' / npy),
                                      np.load(tmp_path / 'b' / npy))
    with pytest.raises(ValueError, match='num_workers must be an int >= 0'):
        run(model, videos, tmp_path / 'c', num_workers=-1)
