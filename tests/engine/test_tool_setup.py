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


RUN_TOOL_SCRIPT = '''
import os, sys, torch
from mmvid.engine.tool_setup import run_tool
os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=sys.argv[1])
def main():
    torch.distributed.init_process_group('gloo', rank=0, world_size=1)
    print('work done', flush=False)
    if sys.argv[2] == 'fail':
        raise ValueError('bad flag')
run_tool(main)
print('not reached after a distributed CPU run')
'''


def test_run_tool_ends_a_cpu_distributed_run_cleanly(tmp_path):
    import socket
    import subprocess
    import sys
    script = tmp_path / 'tool.py'
    script.write_text(RUN_TOOL_SCRIPT)
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for mode in ('ok', 'fail'):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(script), str(port), mode],
            capture_output=True, text=True, timeout=120,
            env=dict(__import__('os').environ, PYTHONPATH=repo,
                     CUDA_VISIBLE_DEVICES=''))
        # the unflushed print still reaches stdout
        assert 'work done' in done.stdout
        assert 'not reached' not in done.stdout
        if mode == 'ok':
            assert done.returncode == 0, done.stderr[-2000:]
        else:
            assert done.returncode == 1
            assert 'ValueError: bad flag' in done.stderr
