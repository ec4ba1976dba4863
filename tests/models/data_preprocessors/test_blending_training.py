"""MixUp / CutMix training on the synthetic demo data: the blending configs
train one epoch through mmengine's ``Runner``, the loss sees the soft labels
and stays finite, and validation afterwards reads hard labels."""
import math
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.models.losses import CrossEntropyLoss

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))))
CONFIG = osp.join(ROOT, 'configs', 'recognition', 'i3d',
                  'i3d_r18-tiny-{}_8xb1-16x2x1-12e_synthetic-rgb.py')
NUM_CLASSES = 8


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('blending') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=NUM_CLASSES, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=16, size=(32, 24),
        write_rawframes=False, progress=False)
    return str(root)


def tiny_cfg(kind: str, data_root: str, work_dir: str) -> Config:
    """The ``kind`` demo config on the tiny set: 1 epoch of 2 batches of 4,
    in-process loading."""
    cfg = Config.fromfile(CONFIG.format(kind))
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        list_name = 'train' if split == 'train' else 'val'
        loader.dataset.update(
            ann_file=osp.join(data_root, f'{list_name}_list_videos.txt'),
            data_prefix=dict(video=data_root),
            label_file=osp.join(data_root, 'label_map.txt'))
        loader.update(batch_size=4, num_workers=0, persistent_workers=False)
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    cfg.work_dir = work_dir
    cfg.experiment_name = f'blending_{kind}_{uuid.uuid4().hex}'
    cfg.randomness = dict(seed=0)
    return cfg


@pytest.mark.parametrize('kind,blending', [('mixup', 'MixupBlending'),
                                           ('cutmix', 'CutmixBlending')])
def test_blending_config_trains_with_soft_labels(kind, blending, data,
                                                 tmp_path, monkeypatch):
    seen = []  # (label, loss) of every call of the loss
    forward = CrossEntropyLoss.forward

    def recording_forward(self, cls_score, label):
        loss = forward(self, cls_score, label)
        seen.append((label.detach().clone(), loss.detach().clone(),
                     torch.is_grad_enabled()))
        return loss

    monkeypatch.setattr(CrossEntropyLoss, 'forward', recording_forward)
    runner = Runner.from_cfg(tiny_cfg(kind, data, str(tmp_path)))
    assert type(runner.model.data_preprocessor.blending).__name__ == blending
    runner.train()

    assert len(seen) == 2  # 8 train videos in batches of 4
    for label, loss, grad in seen:
        assert grad and math.isfinite(loss.item()) and loss.item() > 0
        assert label.dtype == torch.float32
        assert label.shape == (4, NUM_CLASSES)
        torch.testing.assert_close(label.sum(1), torch.ones(4))
        assert torch.all(label >= 0)
    # the labels were blended: some target is neither 0 nor 1
    assert any(((label > 1e-6) & (label < 1 - 1e-6)).any()
               for label, _, _ in seen)
    # validation ran after the epoch on hard labels (AccMetric refuses [K])
    scalars = runner.message_hub.log_scalars
    assert 'val/top1_acc' in scalars
    assert 0.0 <= scalars['val/top1_acc'].current() <= 1.0
    assert math.isfinite(scalars['train/loss'].current())
