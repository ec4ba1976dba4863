"""Exact resume: with ``--seed 0 --deterministic`` and dropout on, a run
stopped after epoch 1 and resumed ends with the uninterrupted run's exact
weights, on one process and on 2 CPU processes; validating (or not) does
not change the trained weights."""
import os.path as osp
import sys

import pytest
import torch

from mmvid.checkpoint import load_file

from .tiny_runs import TOOLS, free_port, run, script_env, train_args

# dropout stays on (0.3 in the demo config): its masks draw from torch's
# generator, the stream the checkpoint must carry
EVERY_EPOCH = ['default_hooks.checkpoint.interval=1']


def train(data, work_dir, epochs, *extra, processes=1, validate=True,
          options=()):
    config, *flags = train_args(
        data, work_dir, epochs, *(['--validate'] if validate else []),
        *extra, options=EVERY_EPOCH + list(options))
    if processes == 1:
        cmd = [sys.executable, osp.join(TOOLS, 'train.py'), config, *flags]
        env = script_env(PYTHONPATH=osp.dirname(TOOLS))
    else:
        cmd = ['bash', osp.join(TOOLS, 'dist_train.sh'), config, processes,
               *flags]
        env = script_env(PORT=free_port())
    done = run(cmd, env, work_dir.parent)
    assert done.returncode == 0, done.stdout[-6000:]
    return done.stdout


def assert_same_weights(a, b):
    wa, wb = (load_file(str(p))['state_dict'] for p in (a, b))
    assert list(wa) == list(wb)
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert different == []


@pytest.mark.parametrize('processes', [1, 2])
def test_resumed_run_ends_with_the_uninterrupted_weights(data, tmp_path,
                                                         processes):
    whole = tmp_path / 'whole'
    train(data, whole, 2, processes=processes)
    stopped = tmp_path / 'stopped'
    train(data, stopped, 1, processes=processes)
    log = train(data, stopped, 2, '--resume', processes=processes)
    assert 'resumed epoch: 1' in log
    assert_same_weights(whole / 'epoch_2.pth', stopped / 'epoch_2.pth')
    states = load_file(str(stopped / 'epoch_1.pth'))['random_states']
    assert len(states) == processes  # one entry per rank
    assert set(states[0]) >= {'python', 'numpy', 'torch'}


def test_validation_does_not_change_the_trained_weights(data, tmp_path):
    """Validation through 2 loader workers against no validation at all
    (a guard: mmvid's loaders draw nothing from the training stream today;
    tests/engine/test_random_states_hook.py checks the isolation itself)."""
    validated = tmp_path / 'validated'
    workers = ['train_dataloader.num_workers=2',
               'train_dataloader.persistent_workers=True']
    train(data, validated, 2, options=workers + [
        'val_dataloader.num_workers=2',
        'val_dataloader.persistent_workers=True'])
    plain = tmp_path / 'plain'
    train(data, plain, 2, validate=False, options=workers)
    assert_same_weights(validated / 'epoch_2.pth', plain / 'epoch_2.pth')


# Imported by every Python process started with this folder on PYTHONPATH:
# rank 1 of the first worker group SIGKILLs itself at the start of its 2nd
# training iteration (epoch 2's first), once epoch 1's checkpoint is on
# disk (rank 0 writes it; rank 1 may get there first).
KILL_RANK1_ONCE = '''
import os
if os.environ.get('RANK') == '1' and \\
        os.environ.get('TORCHELASTIC_RESTART_COUNT') == '0':
    import signal
    import time
    from mmengine.runner import loops
    run_iter, count = loops.EpochBasedTrainLoop.run_iter, [0]

    def dying_run_iter(self, idx, data_batch):
        count[0] += 1
        if count[0] == 2:
            saved = os.path.join(self.runner.work_dir, 'epoch_1.pth')
            while not os.path.exists(saved):
                time.sleep(0.05)
            os.kill(os.getpid(), signal.SIGKILL)
        return run_iter(self, idx, data_batch)

    loops.EpochBasedTrainLoop.run_iter = dying_run_iter
'''


def test_elastic_restart_resumes_from_the_work_dir(data, tmp_path):
    """MAX_RESTARTS=1: torchrun restarts the 2 workers after rank 1 dies;
    they resume from the work dir by themselves and end with the weights of
    a run that was never interrupted."""
    whole = tmp_path / 'whole'
    train(data, whole, 2, processes=2)
    inject = tmp_path / 'inject'
    inject.mkdir()
    (inject / 'sitecustomize.py').write_text(KILL_RANK1_ONCE)
    work = tmp_path / 'elastic'
    config, *flags = train_args(data, work, 2, '--validate',
                                options=EVERY_EPOCH)
    done = run(['bash', osp.join(TOOLS, 'dist_train.sh'), config, 2, *flags],
               script_env(PORT=free_port(), MAX_RESTARTS=1,
                          PYTHONPATH=inject), tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    assert 'failed (exitcode: -9) local_rank: 1' in done.stdout
    assert 'resumed epoch: 1' in done.stdout  # the restarted group
    assert_same_weights(whole / 'epoch_2.pth', work / 'epoch_2.pth')
