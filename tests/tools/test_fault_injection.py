"""Fault injection: a checkpoint crafted to run a shell command, on every
path that loads checkpoints, with torch's weights-only default switched off
by the environment (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``): each path
refuses it with one line naming the file and the offending global, and the
command never runs."""
import json
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.runner.checkpoint import \
    load_checkpoint as mmengine_load_checkpoint

from mmvid.checkpoint import CheckpointError, load_checkpoint, load_file
from mmvid.convert import READERS
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules

from .tiny_runs import CONFIG, TOOLS, run, script_env, train_args

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


# -- checkpoints that are never lost ------------------------------------

# dropout off and a checkpoint every epoch, as in test_train_test_tools
DETERMINISTIC = ['model.cls_head.dropout_ratio=0.0',
                 'default_hooks.checkpoint.interval=1',
                 'default_hooks.checkpoint.max_keep_ckpts=1']

def load_kill_resume_check():
    """tools/misc/kill_resume_check.py as a module."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'kill_resume_check', osp.join(TOOLS, 'misc', 'kill_resume_check.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


# runs tools/train.py dying by SIGKILL halfway through the N-th file write
# ('write:N'): a crash in the middle of saving a checkpoint
KILL_DURING_SAVE = load_kill_resume_check().KILLER


def train_command(data, work_dir, epochs, *extra):
    return [osp.join(TOOLS, 'train.py')] + train_args(
        data, work_dir, epochs, *extra, options=DETERMINISTIC)


def weights(path):
    return load_file(str(path))['state_dict']


def test_kill_during_save_then_resume_ends_as_if_never_killed(data,
                                                              tmp_path):
    env = script_env(PYTHONPATH=osp.dirname(TOOLS))
    reference = tmp_path / 'reference'
    done = run([sys.executable] + train_command(data, reference, 2), env,
               tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]

    work = tmp_path / 'killed'
    killed = run([sys.executable, '-c', KILL_DURING_SAVE, 'write:2'] +
                 train_command(data, work, 2), env, tmp_path)
    assert killed.returncode == -9  # died writing epoch 2's checkpoint
    # the previous checkpoint is intact (max_keep_ckpts=1 kept it), no
    # truncated file carries a checkpoint's name, last_checkpoint is whole
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_1.pth']
    assert (work / 'last_checkpoint').read_text() == str(work /
                                                         'epoch_1.pth')
    weights(work / 'epoch_1.pth')

    resumed = run([sys.executable] + train_command(data, work, 2,
                                                   '--resume'), env,
                  tmp_path)
    assert resumed.returncode == 0, resumed.stdout[-4000:]
    assert 'resumed epoch: 1' in resumed.stdout
    assert sorted(p.name for p in work.glob('*.pth')) == ['epoch_2.pth']
    assert not list(work.glob('.*.partial'))  # the dead save's leftover
    expected, actual = (weights(reference / 'epoch_2.pth'),
                        weights(work / 'epoch_2.pth'))
    assert list(actual) == list(expected)
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def test_resume_passes_over_a_truncated_checkpoint(tmp_path):
    from mmvid.checkpoint.latest import find_resumable
    good = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict={'w': torch.ones(3)}), good)
    cut = tmp_path / 'epoch_2.pth'
    cut.write_bytes(good.read_bytes()[:100])
    (tmp_path / 'last_checkpoint').write_text(str(cut))
    warnings = []
    assert find_resumable(str(tmp_path), warnings.append) == str(good)
    assert warnings == [f'--resume: {cut} is truncated or corrupt (a save '
                        'that did not finish); passing over it']
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'gone.pth'))
    warnings.clear()
    assert find_resumable(str(tmp_path), warnings.append) == str(good)
    assert warnings[0].startswith(f'--resume: {tmp_path}/gone.pth (named '
                                  'by last_checkpoint) does not exist')
    assert find_resumable(str(tmp_path / 'none'), warnings.append) is None


def test_resume_without_a_checkpoint_says_so(data, tmp_path):
    """A typo'd or empty work dir: one warning line, then a run from the
    beginning (it trained from scratch without a word)."""
    done = run([sys.executable] + train_command(data, tmp_path / 'typo', 1,
                                                '--resume'),
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]
    assert (f'--resume: no checkpoint to resume in {tmp_path}/typo '
            '(last_checkpoint, epoch_*.pth, iter_*.pth): starting from the '
            'beginning') in done.stdout
    assert (tmp_path / 'typo' / 'epoch_1.pth').is_file()


def test_a_resumed_runs_best_checkpoint_elsewhere_is_never_deleted(
        tmp_path):
    """A checkpoint of run W1 records W1's best checkpoint; a run in W2
    resumed from it keeps its own best and never deletes W1's file."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger

    from mmvid.engine.hooks import DurableCheckpointHook
    other = tmp_path / 'W1'
    other.mkdir()
    theirs = other / 'best_acc_epoch_3.pth'
    theirs.write_bytes(b'W1 best')
    mine = tmp_path / 'W2'
    hub = MessageHub.get_instance('best-elsewhere')
    hub.update_info('best_ckpt', str(theirs))
    hub.update_info('best_score', 0.5)
    saved = []

    def save_checkpoint(out_dir, filename, *args, **kwargs):
        saved.append(filename)
        with open(osp.join(out_dir, filename), 'wb') as f:
            f.write(b'checkpoint')

    runner = SimpleNamespace(
        work_dir=str(mine), message_hub=hub, epoch=4, iter=40,
        logger=MMLogger.get_instance('best-elsewhere'),
        save_checkpoint=save_checkpoint)
    mine.mkdir()
    hook = DurableCheckpointHook(interval=1, save_best='acc', rule='greater')
    hook.before_train(runner)
    assert hook.best_ckpt_path is None
    assert 'best_ckpt' not in hub.runtime_info
    hook.last_ckpt = None
    hook._save_best_checkpoint(runner, {'acc': 0.6})
    hook._save_best_checkpoint(runner, dict(acc=0.7))
    assert theirs.read_bytes() == b'W1 best'  # untouched
    assert saved == ['.best_acc_epoch_4.pth.partial'] * 2
    assert sorted(os.listdir(mine)) == ['best_acc_epoch_4.pth']
    # and the path goes into checkpoints relative to the run's folder
    checkpoint = dict(message_hub=dict(runtime_info=dict(hub.runtime_info)))
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['message_hub']['runtime_info']['best_ckpt'] == \
        'best_acc_epoch_4.pth'


def test_unwritable_out_fails_before_testing(data, tmp_path):
    """--out under a file: one line before any video is tested (it failed
    after the whole test, and the metrics were never printed)."""
    blocker = tmp_path / 'results'
    blocker.write_text('a file')
    ckpt = tmp_path / 'w.pth'
    torch.save(dict(state_dict={}), ckpt)
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG, ckpt,
                '--out', blocker / 'r.json', '--work-dir', tmp_path / 'w',
                '--cfg-options', *data['options']],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode != 0
    assert (f'ValueError: --out {blocker}/r.json: {blocker} is a file, not '
            'a folder') in done.stdout
    assert 'Epoch(test)' not in done.stdout


def test_config_syntax_error_names_the_file_and_line(tmp_path):
    from mmvid.apis import load_config
    base = tmp_path / 'base.py'
    base.write_text("model = dict(type='Recognizer3D'\n")
    top = tmp_path / 'top.py'
    top.write_text("_base_ = ['base.py']\nx = 1\n")
    with pytest.raises(SyntaxError,
                       match=f"^config {base} line 1: '\\(' was never "
                       'closed$'):
        load_config(str(top))


# -- a bad validation / test video ----------------------------------------


@pytest.fixture
def val_with_a_bad_video(data, tmp_path):
    """The 3-video val list with an empty .mp4 inserted as video 2."""
    bad = tmp_path / 'empty.mp4'
    bad.write_bytes(b'')
    lines = open(data['val_small']).read().splitlines()
    ann = tmp_path / 'val_bad.txt'
    ann.write_text('\n'.join(lines[:2] + [f'{bad} 0'] + lines[2:]) + '\n')
    return str(ann), str(bad)


def test_bad_videos_in_validation_and_test_are_left_out_and_counted(
        data, tmp_path, val_with_a_bad_video):
    """Training survives a bad val video (it ended at the first validation,
    before any checkpoint); the metrics are computed over the rest and say
    so; --out gets a NaN row for it, never a neighbour's scores."""
    ann, bad = val_with_a_bad_video
    work = tmp_path / 'work'
    env = script_env(PYTHONPATH=osp.dirname(TOOLS))
    options = [f'val_dataloader.dataset.ann_file={ann}',
               f'test_dataloader.dataset.ann_file={ann}']
    done = run([sys.executable] + train_command(data, work, 1, '--validate')
               + options, env, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]
    assert f'AccMetric: computed over 3 of 4 videos; 1 could not be read: ' \
        f'2 {bad} (' in done.stdout
    assert (work / 'epoch_1.pth').is_file()

    out = tmp_path / 'scores.json'
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG,
                work / 'epoch_1.pth', '--eval', 'top_k_accuracy', '--out',
                out, '--work-dir', tmp_path / 'test', '--cfg-options',
                *data['options'], *options], env, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:]
    scores = np.array(json.loads(out.read_text()))
    assert scores.shape == (4, 8)
    assert np.isnan(scores[2]).all()
    assert np.isfinite(np.delete(scores, 2, axis=0)).all()
    assert f'NaN rows for the 1 videos that could not be read: 2 {bad}' in \
        done.stdout
    assert 'computed over 3 of 4 videos' in done.stdout
    assert 'top1_acc: ' in done.stdout


def test_kill_resume_check_tool(capsys):
    """tools/misc/kill_resume_check.py (docs/reliability.md's figure) on
    one trial of a 2-epoch run."""
    tool = load_kill_resume_check()
    assert tool.main(['--trials', '1', '--epochs', '2']) == 0
    out = capsys.readouterr().out
    assert 'trial 1: killed at the start of iteration ' in out
    assert 'resumed: bit-identical weights' in out
    assert out.rstrip().endswith('1/1 bit-identical (1 killed)')
