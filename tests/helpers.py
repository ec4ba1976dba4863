"""Helpers shared by the tests: config paths and small model builders."""
import os.path as osp

import torch
import torch.nn as nn
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CONFIGS = osp.join(REPO, 'configs', '_base_', 'models')


def model_config(name: str) -> Config:
    """A ``configs/_base_/models`` config with ``pretrained=None``."""
    cfg = Config.fromfile(osp.join(MODEL_CONFIGS, f'{name}.py'))
    cfg.model.backbone.pretrained = None
    return cfg


def random_bn(bn: nn.Module) -> nn.Module:
    """Batch norm with non-trivial statistics and affine parameters."""
    with torch.no_grad():
        bn.running_mean.normal_(0, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        if bn.affine:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.5)
    return bn


def randomize_bns(model: nn.Module) -> nn.Module:
    """Every batch norm of ``model`` through :func:`random_bn` (as after
    training: the predictions of a freshly initialised or briefly trained
    net are near ties); returns it in eval mode."""
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            random_bn(module)
    return model.eval()


def tiny_video_set(root, num_classes: int = 2):
    """A synthetic set of 8-frame 32x24 videos, one train and one val video
    per class, without rawframes, under ``root`` (what the inference, demo
    and export tests run on). Returns ``root``."""
    from mmvid.data_preparation import generate_synthetic_dataset
    generate_synthetic_dataset(
        str(root), num_classes=num_classes, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=8, size=(32, 24),
        write_rawframes=False, progress=False)
    return root
