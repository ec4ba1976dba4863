"""Fault injection: a checkpoint crafted to run a shell command, on every
path that loads checkpoints, with torch's weights-only default switched off
by the environment (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``): each path
refuses it with one line naming the file and the offending global, and the
command never runs."""
import os
import os.path as osp
import sys

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.runner.checkpoint import \
    load_checkpoint as mmengine_load_checkpoint

from mmvid.checkpoint import CheckpointError, load_checkpoint
from mmvid.convert import READERS
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules

from .tiny_runs import CONFIG, TOOLS, run, script_env

OVERRIDE = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


class Exploit:
    """Runs ``os.system(command)`` when unpickled without restrictions."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command, ))


@pytest.fixture
def crafted(tmp_path):
    """(path of an mmengine-style checkpoint whose ``meta`` runs a command,
    the file that command would create)."""
    marker = tmp_path / 'PWNED'
    path = tmp_path / 'work' / 'epoch_1.pth'
    path.parent.mkdir()
    torch.save(dict(meta=Exploit(f'touch {marker}'), state_dict={},
                    message_hub={}), path)
    return str(path), marker


def assert_refused(text: str, path: str, marker) -> None:
    assert f'refusing to load {path}: it references ' in text
    assert 'system' in text  # the offending global (posix.system)
    assert 'weights_only=False' not in text
    assert not marker.exists(), 'the checkpoint ran its command'


@pytest.fixture
def no_weights_only_default(monkeypatch):
    monkeypatch.setenv(OVERRIDE, '1')
    register_all_modules()  # mmvid.engine: mmengine's loaders made safe


def test_the_override_really_turns_torch_default_off(
        crafted, no_weights_only_default):
    """The premise: with the variable set, a bare torch.load (what
    mmengine 0.10 calls) runs the payload."""
    path, marker = crafted
    torch.load(path)
    assert marker.exists()


@pytest.mark.parametrize('scheme', ['', 'https://example.org/', 's3://b/'])
def test_mmengine_loaders(crafted, no_weights_only_default, scheme):
    """Runner.resume / load_from / mmengine's load_checkpoint all read
    through CheckpointLoader: local files safely, remote ones refused."""
    path, marker = crafted
    with pytest.raises(CheckpointError) as info:
        CheckpointLoader.load_checkpoint(scheme + path.lstrip('/')
                                         if scheme else path)
    if scheme:
        assert 'mmvid reads checkpoints from local files only' in \
            str(info.value)
    else:
        assert_refused(str(info.value), path, marker)
    with pytest.raises(CheckpointError):
        mmengine_load_checkpoint(torch.nn.Linear(2, 2), path)
    assert not marker.exists()


def test_library_paths(crafted, no_weights_only_default):
    """load_checkpoint (test.py, demo, init_recognizer), a backbone's
    ``pretrained`` and every converter."""
    path, marker = crafted
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(torch.nn.Linear(2, 2), path)
    assert_refused(str(info.value), path, marker)
    backbone = MODELS.build(dict(type='ResNet3d', depth=18, pretrained=path,
                                 pretrained2d=False))
    with pytest.raises(CheckpointError) as info:
        backbone.init_weights()
    assert_refused(str(info.value), path, marker)
    for name, read in READERS.items():
        if name == 'caffe2':  # a Caffe2 .pkl: its own restricted unpickler
            continue
        with pytest.raises(CheckpointError) as info:
            read(path)
        assert_refused(str(info.value), path, marker)


@pytest.mark.parametrize('flags', [
    ['--resume', '{ckpt}'],
    ['--resume'],  # auto: the newest checkpoint of the work dir
    ['--load-from', '{ckpt}'],
    ['--cfg-options', 'load_from={ckpt}'],
], ids=['resume', 'resume-auto', 'load-from', 'cfg-load_from'])
def test_train_tool(crafted, data, flags, tmp_path):
    path, marker = crafted
    work_dir = osp.dirname(path)
    with open(osp.join(work_dir, 'last_checkpoint'), 'w') as f:
        f.write(path)
    flags = [f.format(ckpt=path) for f in flags]
    options = data['options']
    if flags[0] == '--cfg-options':
        options, flags = options + flags[1:], []
    done = run([sys.executable, osp.join(TOOLS, 'train.py'), CONFIG,
                '--work-dir', work_dir, *flags, '--cfg-options', *options],
               script_env(PYTHONPATH=osp.dirname(TOOLS), **{OVERRIDE: 1}),
               tmp_path)
    assert done.returncode != 0
    assert_refused(done.stdout, path, marker)


def test_test_tool(crafted, data, tmp_path):
    path, marker = crafted
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG, path,
                '--work-dir', tmp_path / 'test', '--cfg-options',
                *data['options']],
               script_env(PYTHONPATH=osp.dirname(TOOLS), **{OVERRIDE: 1}),
               tmp_path)
    assert done.returncode != 0
    assert_refused(done.stdout, path, marker)
