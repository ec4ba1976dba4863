"""demo/demo.py prints the model's own top-5 classes with the label map's
names."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.registry import DATASETS, MODELS
from mmvid.apis import fast_path
from mmvid.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


@pytest.fixture(scope='module')
def demo_setup(tmp_path_factory):
    """A tiny synthetic set, a demo-model checkpoint with spread scores, a
    label map, one val video and that video's scores from test_step."""
    tmp_path = tmp_path_factory.mktemp('demo')
    root = tmp_path / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=8, size=(32, 24),
        write_rawframes=False, progress=False)
    register_all_modules()
    cfg = Config.fromfile(DEMO_CONFIG)
    torch.manual_seed(7)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # spread the scores so the ranking is clear
        for name, tensor in model.state_dict().items():
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.normal_(0, 0.2)
    model.eval()
    ckpt = tmp_path / 'random_demo.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    names = [f'action_{chr(ord("a") + i)}' for i in range(8)]
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('\n'.join(names) + '\n')

    # the model's own prediction, as tools/test.py computes it
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.ann_file = str(root / 'val_list_videos.txt')
    dataset_cfg.data_prefix = dict(video=str(root))
    dataset_cfg.label_file = str(root / 'label_map.txt')
    dataset = DATASETS.build(dataset_cfg)
    with torch.no_grad():
        scores = model.test_step(pseudo_collate([dataset[0]]))[0].pred_score
    video = root / 'videos' / 'val' / 'move_left' / '0000.mp4'
    return dict(video=video, ckpt=ckpt, label_map=label_map, names=names,
                scores=scores)


def printed_rows(stdout):
    return re.findall(r'^(\d)\. (\S+): ([\d.]+)$', stdout, re.M)


def test_demo_prints_the_top5_of_test_step(demo_setup):
    video, ckpt, label_map, names = (demo_setup[k] for k in (
        'video', 'ckpt', 'label_map', 'names'))
    top = demo_setup['scores'].topk(5)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    done = subprocess.run(
        [sys.executable, osp.join(REPO, 'demo', 'demo.py'), str(video),
         DEMO_CONFIG, str(ckpt), str(label_map)],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'inference fast path' not in done.stdout  # exact fp32
    assert f'top-5 classes of {video}:' in done.stdout
    rows = printed_rows(done.stdout)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1] for r in rows] == [names[i] for i in top.indices.tolist()]
    for (_, _, printed), score in zip(rows, top.values.tolist()):
        assert abs(float(printed) - score) < 1e-5


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_demo_fast_says_what_it_picked(demo_setup, native, monkeypatch,
                                       capsys):
    """``--fast`` on either kind of CPU (forced): the line naming the
    choice, then the top classes (bf16: the same top-1; fp32: the same
    top-5 to float rounding)."""
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: native)
    spec = importlib.util.spec_from_file_location(
        'demo_script', osp.join(REPO, 'demo', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main([str(demo_setup['video']), DEMO_CONFIG,
                      str(demo_setup['ckpt']), str(demo_setup['label_map']),
                      '--fast']) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    if native:
        assert first == ('inference fast path: bf16 autocast, '
                         'channels_last_3d, conv-BN folded (--fast: this CPU '
                         'has native bfloat16 (AVX512-BF16 / AMX))')
    else:
        assert first.startswith('inference fast path: fp32, channels_last_3d'
                                ', conv-BN folded (--fast: this CPU has no '
                                'native bfloat16')
    rows = printed_rows(out)
    top = demo_setup['scores'].topk(5)
    names = demo_setup['names']
    assert rows[0][1] == names[top.indices[0]]
    if not native:
        assert [r[1] for r in rows] == [names[i] for i in top.indices]
        for (_, _, printed), score in zip(rows, top.values.tolist()):
            assert abs(float(printed) - score) < 1e-5
