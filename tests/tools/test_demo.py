"""demo/demo.py prints the model's own top-5 classes with the label map's
names."""
import os
import os.path as osp
import re
import subprocess
import sys

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmvid.datasets.preparation import generate_synthetic_dataset
from mmvid.registry import DATASETS, MODELS
from mmvid.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


def test_demo_prints_the_top5_of_test_step(tmp_path):
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
    top = scores.topk(5)
    video = root / 'videos' / 'val' / 'move_left' / '0000.mp4'

    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    done = subprocess.run(
        [sys.executable, osp.join(REPO, 'demo', 'demo.py'), str(video),
         DEMO_CONFIG, str(ckpt), str(label_map)],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f'top-5 classes of {video}:' in done.stdout
    rows = re.findall(r'^(\d)\. (\S+): ([\d.]+)$', done.stdout, re.M)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1] for r in rows] == [names[i] for i in top.indices.tolist()]
    for (_, _, printed), score in zip(rows, top.values.tolist()):
        assert abs(float(printed) - score) < 1e-5
