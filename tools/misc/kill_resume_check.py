"""Kill training with SIGKILL at random points, resume, compare the weights.

On a tiny synthetic dataset (generated in a temporary folder) it trains the
demo I3D for ``--epochs`` epochs uninterrupted (``--seed 0
--deterministic``, a checkpoint every epoch, dropout on), then, ``--trials``
times: starts the same run, kills it with SIGKILL, resumes it with
``--resume`` until it completes, and checks that its final weights equal
the uninterrupted run's bit for bit. The process SIGKILLs itself at the
start of a random training iteration (two trials in three) or halfway
through writing a random checkpoint (every third trial). It prints one
line per trial and ``N/N bit-identical (K killed)``; the exit status is 1
unless every trial completed bit-identical.

Example::

    python tools/misc/kill_resume_check.py --trials 10 --epochs 3
"""
import argparse
import math
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import tempfile
from typing import List, Optional

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TRAIN = osp.join(REPO, 'tools', 'train.py')
CONFIG = osp.join(REPO, 'configs', 'recognition', 'i3d',
                  'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')

# Runs tools/train.py (argv[2:]) and SIGKILLs itself at argv[1]:
# 'iter:N' at the start of the N-th training iteration, 'write:N' halfway
# through writing the N-th file mmengine saves (a checkpoint).
KILLER = '''
import os, runpy, signal, sys
from mmengine.fileio.backends import local_backend
from mmengine.runner import loops
kind, n = sys.argv[1].split(':')
n, count = int(n), [0]
def reached():
    count[0] += 1
    return count[0] == n
if kind == 'write':
    put = local_backend.LocalBackend.put
    def dying_put(self, obj, filepath):
        if reached():
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return put(self, obj, filepath)
    local_backend.LocalBackend.put = dying_put
else:
    run_iter = loops.EpochBasedTrainLoop.run_iter
    def dying_run_iter(self, idx, data_batch):
        if reached():
            os.kill(os.getpid(), signal.SIGKILL)
        return run_iter(self, idx, data_batch)
    loops.EpochBasedTrainLoop.run_iter = dying_run_iter
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''
TRAIN_VIDEOS, BATCH = 8, 4  # the tiny set: 2 iterations per epoch


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split('\n', 1)[1])
    parser.add_argument('--trials', type=int, default=10)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the kill moments')
    args = parser.parse_args(argv)
    if args.trials < 1 or args.epochs < 2:
        parser.error('--trials must be >= 1 and --epochs >= 2')
    return args


def make_data(root: str) -> List[str]:
    """A tiny synthetic dataset; the --cfg-options that point the demo
    config at it (in-process loading)."""
    from mmvid.data_preparation import generate_synthetic_dataset
    generate_synthetic_dataset(root, num_classes=8, videos_per_class_train=1,
                               videos_per_class_val=1, num_frames=16,
                               size=(32, 24), write_rawframes=False,
                               progress=False)
    options = []
    for split in ('train', 'val', 'test'):
        ann = 'train' if split == 'train' else 'val'
        options += [
            f'{split}_dataloader.dataset.ann_file={root}/{ann}_list_videos.txt',
            f'{split}_dataloader.dataset.data_prefix.video={root}',
            f'{split}_dataloader.dataset.label_file={root}/label_map.txt',
            f'{split}_dataloader.num_workers=0',
            f'{split}_dataloader.persistent_workers=False']
    return options + ['train_dataloader.batch_size=4',
                      'default_hooks.checkpoint.interval=1',
                      'default_hooks.checkpoint.max_keep_ckpts=1']


def train_argv(work_dir: str, epochs: int, options: List[str]) -> List[str]:
    return [TRAIN, CONFIG, '--seed', '0', '--deterministic', '--work-dir',
            work_dir, '--resume', '--cfg-options',
            f'train_cfg.max_epochs={epochs}', *options]


def run_until_done(argv: List[str], kill_at: Optional[str] = None) -> bool:
    """Run training once, SIGKILLed at ``kill_at`` (see ``KILLER``) if
    given, then resume until it completes; returns whether it was
    killed."""
    env = dict(os.environ, PYTHONPATH=REPO)
    killed = False
    if kill_at is not None:
        proc = subprocess.run([sys.executable, '-c', KILLER, kill_at] + argv,
                              env=env, capture_output=True)
        killed = proc.returncode == -signal.SIGKILL
    done = subprocess.run([sys.executable] + argv, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f'the resumed run failed:\n{done.stdout[-3000:]}'
                           f'\n{done.stderr[-3000:]}')
    return killed


def same_weights(a: str, b: str) -> bool:
    import torch

    from mmvid.checkpoint import load_file
    wa, wb = load_file(a)['state_dict'], load_file(b)['state_dict']
    return list(wa) == list(wb) and all(torch.equal(wa[k], wb[k])
                                        for k in wa)


def main(argv=None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    final = f'epoch_{args.epochs}.pth'
    with tempfile.TemporaryDirectory() as tmp:
        options = make_data(osp.join(tmp, 'data'))
        reference = osp.join(tmp, 'reference')
        run_until_done(train_argv(reference, args.epochs, options))
        iters = args.epochs * math.ceil(TRAIN_VIDEOS / BATCH)
        print(f'uninterrupted run: {args.epochs} epochs, {iters} '
              'iterations', flush=True)
        identical = killed = 0
        for trial in range(1, args.trials + 1):
            work = osp.join(tmp, f'trial{trial}')
            if trial % 3 == 0:
                kill_at = f'write:{rng.randint(1, args.epochs)}'
                what = f'killed halfway through writing checkpoint ' \
                    f'{kill_at[6:]}'
            else:
                kill_at = f'iter:{rng.randint(1, iters)}'
                what = f'killed at the start of iteration {kill_at[5:]}'
            was_killed = run_until_done(
                train_argv(work, args.epochs, options), kill_at)
            same = same_weights(osp.join(reference, final),
                                osp.join(work, final))
            identical += same
            killed += was_killed
            result = 'bit-identical' if same else 'DIFFERENT'
            print(f'trial {trial}: {what}{"" if was_killed else " (NOT)"}, '
                  f'resumed: {result} weights', flush=True)
    print(f'{identical}/{args.trials} bit-identical ({killed} killed)')
    return 0 if identical == args.trials else 1


if __name__ == '__main__':
    sys.exit(main())
