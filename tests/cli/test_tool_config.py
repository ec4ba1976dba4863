"""load_tool_config: the machine-dependent settings it adds; --amp's
optimizer wrapper for each kind of machine."""
import argparse
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmvid.apis import fast_path
from mmvid.cli.tool_config import load_tool_config, set_amp_optim_wrapper

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


def test_train_amp_picks_the_wrapper_for_the_machine(monkeypatch):
    def cfg():
        return Config(dict(optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.1))))

    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: False)
    with pytest.raises(RuntimeError, match='this CPU has no native bfloat16'):
        set_amp_optim_wrapper(cfg())
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: True)
    c = cfg()
    assert set_amp_optim_wrapper(c) == 'bfloat16'
    assert c.optim_wrapper.type == 'BF16OptimWrapper'
    assert c.optim_wrapper.device_type == 'cpu'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    for native, dtype in ((True, 'bfloat16'), (False, 'float16')):
        monkeypatch.setattr(fast_path, 'native_bf16',
                            lambda device, native=native: native)
        c = cfg()
        assert set_amp_optim_wrapper(c) == dtype
        assert (c.optim_wrapper.type, c.optim_wrapper.dtype,
                c.optim_wrapper.loss_scale) == ('AmpOptimWrapper', dtype,
                                                'dynamic')


def test_output_file_is_checked_before_the_run(tmp_path):
    from mmvid.cli.tool_config import check_output_file
    check_output_file(str(tmp_path / 'new' / 'deeper' / 'r.json'), '--out')
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    with pytest.raises(ValueError, match=f'^--out {blocker}/r.json: '
                       f'{blocker} is a file, not a folder$'):
        check_output_file(str(blocker / 'r.json'), '--out')
    with pytest.raises(ValueError, match='is a folder; give a file name'):
        check_output_file(str(tmp_path), '--out')
