"""load_tool_config: the machine-dependent settings it adds."""
import argparse
import os.path as osp

import torch

from mmvid.engine.tool_setup import load_tool_config

CONFIG = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(
    __file__)))), 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


def args(**kwargs):
    base = dict(cfg_options=None, launcher='none', work_dir='/tmp/w',
                local_rank=0)
    base.update(kwargs)
    return argparse.Namespace(**base)


def test_pinned_memory_only_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = load_tool_config(CONFIG, args())
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[loader].pin_memory is True
    # the config's own choice wins
    cfg = load_tool_config(CONFIG, args(cfg_options=dict(
        **{'train_dataloader.pin_memory': False})))
    assert cfg.train_dataloader.pin_memory is False
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = load_tool_config(CONFIG, args())
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert 'pin_memory' not in cfg[loader]
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
