"""``tools/misc/extract_features.py`` and ``tools/test.py --dump
--dump-features`` on the demo config briefly trained on a tiny synthetic
set: a linear probe on the extracted features matches the recognizer's own
accuracy, and the dump's features are the tool's."""
import json
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvid.cli.extract_features import main as extract_main
from mmvid.cli.test import build_evaluator, parse_args
from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.evaluation.dump_file import load_dump
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules

from .tiny_runs import CONFIG, TOOLS, data_options, run, script_env

# The smallest setting found where the demo I3D learns in seconds (about
# 90 s of CPU time for the whole module): 4 classes (left, right, up, down)
# of 16-frame 32x24 videos, 6 train videos a class, 12 epochs of 8-frame
# clips at 24x24 (the videos' own scale), lr 0.005 (0.1 diverges at first
# and ends near chance, 0.02 is noisier; 8 epochs reach 0.69). The test
# pipeline keeps its 2 clips x 3 crops. The recognizer reaches top-1 0.81 on
# the 16 val videos, the probe 0.88. The head's top-5 needs 5 classes: top-1
# only.
NUM_CLASSES, TRAIN_PER_CLASS, VAL_PER_CLASS = 4, 6, 4
EPOCHS = 12
SMALL = [
    'model.cls_head.num_classes=4', 'model.cls_head.topk=[1]',
    'model.cls_head.dropout_ratio=0.0', 'optim_wrapper.optimizer.lr=0.005',
    'train_dataloader.dataset.pipeline.1.clip_len=8',
    'train_dataloader.dataset.pipeline.3.scale=[-1,24]',
    'train_dataloader.dataset.pipeline.4.size=24',
    'test_dataloader.dataset.pipeline.1.clip_len=8',
    'test_dataloader.dataset.pipeline.3.scale=[-1,24]',
    'test_dataloader.dataset.pipeline.4.crop_size=24']
CHANNELS = 128


@pytest.fixture(scope='module')
def probe_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('features') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=NUM_CLASSES,
        videos_per_class_train=TRAIN_PER_CLASS,
        videos_per_class_val=VAL_PER_CLASS, num_frames=16, size=(32, 24),
        write_rawframes=False, progress=False)
    data = dict(root=str(root), label_map=str(root / 'label_map.txt'),
                train=str(root / 'train_list_videos.txt'),
                val=str(root / 'val_list_videos.txt'))
    data['options'] = data_options(data, dict(
        train=data['train'], val=data['val'], test=data['val'])) + SMALL
    return data


def tool(script, *args, cwd):
    done = run([sys.executable, osp.join(TOOLS, *script.split('/')), *args],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), cwd)
    assert done.returncode == 0, done.stdout[-6000:]
    return done.stdout


@pytest.fixture(scope='module')
def trained(probe_data, tmp_path_factory):
    """The demo model after ``EPOCHS`` epochs on the train split."""
    work_dir = tmp_path_factory.mktemp('train')
    tool('train.py', CONFIG, '--seed', 0, '--deterministic', '--work-dir',
         work_dir, '--cfg-options', *probe_data['options'],
         f'train_cfg.max_epochs={EPOCHS}',
         f'param_scheduler.1.T_max={EPOCHS - 1}',
         f'param_scheduler.1.end={EPOCHS}', cwd=work_dir)
    return work_dir / f'epoch_{EPOCHS}.pth'


@pytest.fixture(scope='module')
def tested(probe_data, trained, tmp_path_factory):
    """``tools/test.py --dump --dump-features`` on the val split: the
    recognizer's top-1 as printed and the dump."""
    work_dir = tmp_path_factory.mktemp('test')
    dump = work_dir / 'val.npz'
    out = tool('test.py', CONFIG, trained, '--eval', 'top_k_accuracy',
               '--dump', dump, '--dump-features', '--work-dir', work_dir,
               '--cfg-options', *probe_data['options'], cwd=work_dir)
    top1 = [line for line in out.splitlines()
            if line.startswith('top1_acc: ')]
    assert len(top1) == 1, out[-3000:]
    return float(top1[0].split(': ')[1]), dump


@pytest.fixture(scope='module')
def extracted(probe_data, trained, tmp_path_factory):
    """The tool's features: the train split per view (``--views 3``: one
    clip x 3 crops), the val split averaged over the config's 6 views."""
    out = tmp_path_factory.mktemp('feats')
    common = ['--video-root', probe_data['root'], '--num-workers', 0,
              '--cfg-options', *probe_data['options']]
    tool('misc/extract_features.py', CONFIG, trained, probe_data['train'],
         out / 'train', '--views', 3, *common, cwd=out)
    assert extract_main([str(a) for a in (
        CONFIG, trained, probe_data['val'], out / 'val', '--average',
        *common)]) == 0
    return out


def load_split(folder):
    """``(features, labels, manifest)`` of the videos the manifest lists."""
    with open(folder / 'manifest.json') as f:
        manifest = json.load(f)
    features = np.stack([np.load(folder / v['npy'])
                         for v in manifest['videos']])
    labels = np.array([v['label'] for v in manifest['videos']])
    return features, labels, manifest


def linear_probe(train_x, train_y, test_x, weight_decay=1e-3):
    """Multinomial logistic regression (a linear layer and softmax, the
    head's own form) on standardised features, fitted full-batch by L-BFGS
    in float64 from zeros: deterministic. Returns the test predictions."""
    train_x = torch.from_numpy(train_x).double()
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    x = (train_x - mean) / std
    y = torch.from_numpy(train_y)
    weight = torch.zeros(x.shape[1], NUM_CLASSES, dtype=torch.float64,
                         requires_grad=True)
    bias = torch.zeros(NUM_CLASSES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=500,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ weight + bias, y) + \
            weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    test_x = (torch.from_numpy(test_x).double() - mean) / std
    with torch.no_grad():
        return (test_x @ weight + bias).argmax(1).numpy()


def test_linear_probe_on_extracted_features_reaches_the_recognizer(
        extracted, tested):
    train_x, train_y, train_manifest = load_split(extracted / 'train')
    val_x, val_y, _ = load_split(extracted / 'val')
    n_train = NUM_CLASSES * TRAIN_PER_CLASS
    assert train_x.shape == (n_train, 3, CHANNELS)
    assert val_x.shape == (NUM_CLASSES * VAL_PER_CLASS, CHANNELS)
    assert train_manifest['views'] == 3
    assert train_y.tolist() == sorted(list(range(NUM_CLASSES)) *
                                      TRAIN_PER_CLASS)
    recognizer_acc, dump = tested[0], load_dump(str(tested[1]))
    # the printed top-1 is the dump's, and the recognizer learned something
    assert recognizer_acc == pytest.approx(
        float((dump['scores'].argmax(1) == dump['labels']).mean()), abs=1e-4)
    assert recognizer_acc >= 2 / NUM_CLASSES
    # every view of every train video is one sample of the probe
    predicted = linear_probe(train_x.reshape(-1, CHANNELS),
                             np.repeat(train_y, 3), val_x)
    linear_acc = float((predicted == val_y).mean())
    assert linear_acc >= recognizer_acc - 0.05, (linear_acc, recognizer_acc)


def test_dump_features_are_the_tools_for_the_same_videos(extracted, tested,
                                                         probe_data):
    with np.load(tested[1], allow_pickle=False) as npz:
        assert npz['features'].dtype == np.float32
    dump = load_dump(str(tested[1]))
    val_x, val_y, manifest = load_split(extracted / 'val')
    assert dump['features'].shape == (len(val_x), CHANNELS)
    assert dump['video_ids'] == [osp.join(probe_data['root'], v['video'])
                                 for v in manifest['videos']]
    assert dump['labels'].tolist() == val_y.tolist()
    np.testing.assert_allclose(dump['features'], val_x, rtol=1e-5,
                               atol=1e-6)


@pytest.fixture(scope='module')
def random_checkpoint(tmp_path_factory):
    register_all_modules()
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    cfg.model.cls_head.num_classes = NUM_CLASSES
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp('ckpt') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def test_views_flag_and_unreadable_videos(probe_data, random_checkpoint,
                                          tmp_path, capsys):
    (tmp_path / 'broken.mp4').write_bytes(b'')
    lines = open(probe_data['val']).read().splitlines()[:2]
    video_list = tmp_path / 'list.txt'
    video_list.write_text(f'{lines[0]}\n{tmp_path}/broken.mp4 3\n')
    args = [CONFIG, str(random_checkpoint), str(video_list),
            str(tmp_path / 'out'), '--video-root', probe_data['root'],
            '--views', '1', '--num-workers', '0', '--cfg-options',
            *probe_data['options']]
    assert extract_main(args) == 1
    err = capsys.readouterr().err
    # an absolute listed path is not joined with --video-root
    assert f'error: {tmp_path}/broken.mp4 (listed in {video_list}, file ' \
        f'{tmp_path}/broken.mp4): ' in err
    assert '--skip-errors' in err
    assert extract_main(args + ['--skip-errors']) == 0
    out = capsys.readouterr().out
    assert '2 videos: 0 extracted, 1 already done, 1 failed' in out
    manifest = json.loads((tmp_path / 'out' / 'manifest.json').read_text())
    assert [(v['status'], v['label'], v['shape']) for v in
            manifest['videos']] == [('done', int(lines[0].split()[1]),
                                     [1, CHANNELS]), ('failed', 3, None)]
    assert extract_main(args[:6] + ['--views', '3'] + args[8:]) == 1
    assert 'other settings (views: 1 -> 3)' in capsys.readouterr().err


def test_dump_features_sets_the_metric_and_the_model():
    cfg = Config.fromfile(CONFIG)
    build_evaluator(cfg, parse_args([CONFIG, 'w.pth', '--dump', 'd.npz',
                                     '--dump-features']))
    assert cfg.test_evaluator == [dict(type='DumpPredictions',
                                       out_file='d.npz', config=CONFIG,
                                       with_features=True)]
    assert cfg.model.test_cfg == dict(with_features=True)
    with pytest.raises(ValueError, match='--dump-features stores features in '
                       'the --dump file: pass --dump FILE too'):
        build_evaluator(Config.fromfile(CONFIG),
                        parse_args([CONFIG, 'w.pth', '--dump-features']))
