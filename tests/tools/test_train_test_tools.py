"""tools/train.py and tools/test.py end to end on the tiny synthetic set:
bit-identical reruns, resuming equal to not stopping, and 0.x result files.
"""
import json
import os.path as osp
import pickle
import re
import sys
import types

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvid.registry import MODELS
from mmvid.utils import register_all_modules
from mmvid.apis.fast_path import native_bf16
from tests.helpers import randomize_bns

from .tiny_runs import (CONFIG, NUM_CLASSES, NUM_VAL, TOOLS,
                        forced_native_bf16_command, run, script_env,
                        train_args)

# no dropout: a resumed run cannot restore torch's global RNG mid-run, and
# the data augmentation draws from per-sample generators that do not depend
# on it; checkpoints every epoch
DETERMINISTIC = ['model.cls_head.dropout_ratio=0.0',
                 'default_hooks.checkpoint.interval=1']


def train(data, work_dir, epochs, *extra):
    done = run([sys.executable, osp.join(TOOLS, 'train.py')] +
               train_args(data, work_dir, epochs, *extra,
                          options=DETERMINISTIC),
               script_env(PYTHONPATH=osp.dirname(TOOLS)), work_dir.parent)
    assert done.returncode == 0, done.stdout[-6000:]
    return done.stdout


def weights(path):
    return torch.load(path, map_location='cpu',
                      weights_only=False)['state_dict']


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert list(wa) == list(wb)
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


@pytest.fixture(scope='module')
def two_epochs(data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('train') / 'work'
    train(data, work_dir, 2)
    return work_dir


def test_same_command_gives_bit_identical_weights(two_epochs, data,
                                                  tmp_path):
    again = tmp_path / 'again'
    train(data, again, 2)
    assert_same_weights(two_epochs / 'epoch_2.pth', again / 'epoch_2.pth')


def test_resume_auto_continues_as_if_never_stopped(two_epochs, data,
                                                   tmp_path):
    work_dir = tmp_path / 'stopped'
    train(data, work_dir, 1)  # "stopped" after epoch 1
    assert not (work_dir / 'epoch_2.pth').exists()
    log = train(data, work_dir, 2, '--resume')
    assert 'resumed epoch: 1' in log
    resumed = torch.load(work_dir / 'epoch_2.pth', map_location='cpu',
                         weights_only=False)
    assert resumed['meta']['epoch'] == 2
    uninterrupted = torch.load(two_epochs / 'epoch_2.pth', map_location='cpu',
                               weights_only=False)
    # schedulers and learning rates continue where they stopped
    assert resumed['param_schedulers'] == uninterrupted['param_schedulers']
    assert [g['lr'] for g in resumed['optimizer']['param_groups']] == \
        [g['lr'] for g in uninterrupted['optimizer']['param_groups']]
    momentum = resumed['optimizer']['state']
    assert momentum  # momentum buffers came back
    for key, state in uninterrupted['optimizer']['state'].items():
        assert torch.equal(momentum[key]['momentum_buffer'],
                           state['momentum_buffer'])
    assert_same_weights(two_epochs / 'epoch_2.pth', work_dir / 'epoch_2.pth')


def test_test_last_and_best_write_their_own_predictions(data, tmp_path):
    work_dir = tmp_path / 'work'
    log = train(data, work_dir, 2, '--validate', '--test-last', '--test-best')
    assert 'last checkpoint test' in log and 'best checkpoint test' in log
    last = pickle.loads((work_dir / 'last_pred.pkl').read_bytes())
    best = pickle.loads((work_dir / 'best_pred.pkl').read_bytes())
    assert len(last) == len(best) == NUM_VAL
    assert all(score.shape == (NUM_CLASSES, ) for score in last + best)
    # the last weights' scores are the epoch-2 model's, not overwritten by
    # the best test: recompute them from epoch_2.pth with tools/test.py
    out = tmp_path / 'epoch2.pkl'
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG,
                work_dir / 'epoch_2.pth', '--out', out, '--work-dir',
                tmp_path / 'test', '--cfg-options'] + data['options'] +
               DETERMINISTIC,
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    expected = pickle.loads(out.read_bytes())
    for got, want in zip(last, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_test_tool_writes_0x_results_and_metrics(two_epochs, data,
                                                 tmp_path):
    out = tmp_path / 'result.json'
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG,
                two_epochs / 'epoch_2.pth', '--eval', 'top_k_accuracy',
                'mean_class_accuracy', '--out', out, '--work-dir',
                tmp_path / 'work', '--cfg-options'] + data['options'],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    scores = np.array(json.loads(out.read_text()))
    assert scores.shape == (NUM_VAL, NUM_CLASSES)  # one list per video
    np.testing.assert_allclose(scores.sum(1), 1.0, rtol=1e-5)  # 'prob'
    labels = [int(line.split()[1])
              for line in open(data['val']).read().splitlines()]
    top1 = np.mean(scores.argmax(1) == labels)
    top5 = np.mean([label in np.argsort(-row)[:5]
                    for row, label in zip(scores, labels)])
    printed = dict(line.split(': ') for line in done.stdout.splitlines()
                   if line.startswith(('top1_acc', 'top5_acc',
                                       'mean_class_accuracy')))
    assert float(printed['top1_acc']) == pytest.approx(top1, abs=1e-4)
    assert float(printed['top5_acc']) == pytest.approx(top5, abs=1e-4)
    assert 'mean_class_accuracy' in printed


def test_each_after_training_test_dumps_only_its_own_file(tmp_path):
    """--test-last then --test-best: each test run writes one file, its own
    (the best test must not write last_pred.pkl again)."""
    from mmvid.cli import train as train_tool  # the code of tools/train.py

    class Runner:
        work_dir = str(tmp_path)
        test_evaluator = types.SimpleNamespace(metrics=[])
        message_hub = types.SimpleNamespace(get_info=lambda key: 'best.pth')
        logger = types.SimpleNamespace(info=lambda message: None)
        loaded, dumped = [], []

        def load_checkpoint(self, path):
            self.loaded.append(path)

        def test(self):
            self.dumped.append([osp.basename(m.out_file)
                                for m in self.test_evaluator.metrics])
            return {}

    runner = Runner()
    train_tool.test_after_training(runner, 'last')
    train_tool.test_after_training(runner, 'best')
    assert runner.dumped == [['last_pred.pkl'], ['best_pred.pkl']]
    assert runner.loaded == ['best.pth']
    assert runner.test_evaluator.metrics == []


# What ``--fast`` logs on each kind of CPU (see mmvid.apis.fast_path).
FAST_LINES = {
    True: 'inference fast path: bf16 autocast, channels_last_3d, conv-BN '
          'folded (--fast: this CPU has native bfloat16 (AVX512-BF16 / AMX))',
    False: 'inference fast path: fp32, channels_last_3d, conv-BN folded '
           '(--fast: this CPU has no native bfloat16 (AVX512-BF16 / AMX), so '
           'fp32: bf16 would run slow reference kernels)',
}


def run_test_tool(data, checkpoint, out, work_dir, *extra,
                  force_native_bf16=None):
    """``tools/test.py`` in a subprocess writing ``--out``; with
    ``force_native_bf16`` True or False, mmvid's native-bf16 check is forced
    to that answer in the child before the tool runs (a monkeypatch
    there)."""
    script = osp.join(TOOLS, 'test.py')
    cmd = [sys.executable, script] if force_native_bf16 is None else \
        forced_native_bf16_command(force_native_bf16, script)
    # 3 test videos: bf16 on a CPU without native bf16 runs reference kernels
    options = data['options'] + [
        f'test_dataloader.dataset.ann_file={data["val_small"]}']
    done = run(cmd + [CONFIG, checkpoint, '--out', out, *extra, '--work-dir',
                      work_dir, '--cfg-options'] + options,
               script_env(PYTHONPATH=osp.dirname(TOOLS)), work_dir.parent)
    assert done.returncode == 0, done.stdout[-6000:]
    return np.array(json.loads(out.read_text())), done.stdout


@pytest.fixture(scope='module')
def decisive_checkpoint(two_epochs):
    """The 2-epoch checkpoint with random BN statistics and affine
    parameters (as after longer training): its predictions are decisive.
    The 2-epoch model itself is near chance (top-2 probability margins
    ~2e-4), where any rounding, bf16's included, may swap the top-1."""
    register_all_modules()
    torch.manual_seed(0)
    state = weights(two_epochs / 'epoch_2.pth')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.load_state_dict(state)
    randomize_bns(model)
    path = two_epochs.parent / 'decisive.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def fp32_scores(decisive_checkpoint, data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp('fp32')
    return run_test_tool(data, decisive_checkpoint, tmp / 'fp32.json',
                         tmp / 'work')[0]


@pytest.mark.parametrize('cpu', ['this-cpu', 'forced-native-bf16',
                                 'forced-no-native-bf16'])
def test_test_tool_fast_path_scores_within_the_tolerance_of_its_choice(
        cpu, decisive_checkpoint, data, fp32_scores, tmp_path):
    """``--fast`` against the default exact fp32 path, judged by what it
    picked: fp32 (CPU without native bf16) gives the fp32 scores to float
    rounding; bf16 (native bf16) the same top-1 with score cosine >=
    0.9999. Both choices are checked on every machine with the capability
    forced; ``this-cpu`` runs the branch of the machine itself."""
    native = {'this-cpu': None, 'forced-native-bf16': True,
              'forced-no-native-bf16': False}[cpu]
    fast, log = run_test_tool(data, decisive_checkpoint,
                              tmp_path / 'fast.json', tmp_path / 'work',
                              '--fast', force_native_bf16=native)
    picked_bf16 = native_bf16('cpu') if native is None else native
    print(f'--fast on {cpu}: picked {"bf16" if picked_bf16 else "fp32"}')
    assert FAST_LINES[picked_bf16] in log
    assert fast.shape == fp32_scores.shape == (3, NUM_CLASSES)
    top2 = np.sort(fp32_scores, 1)[:, -2:]
    assert (top2[:, 1] - top2[:, 0] > 0.01).all()  # top-1 is no near tie
    if picked_bf16:
        cosine = (fast * fp32_scores).sum(1) / (
            np.linalg.norm(fast, axis=1) * np.linalg.norm(fp32_scores, axis=1))
        assert cosine.min() >= 0.9999, cosine
    else:
        np.testing.assert_allclose(fast, fp32_scores, rtol=1e-4, atol=1e-6)
    assert (fast.argmax(1) == fp32_scores.argmax(1)).all()



def test_test_tool_compiled_gives_the_fp32_scores(decisive_checkpoint, data,
                                                  fp32_scores, tmp_path):
    """``--compile`` (fp32: native bf16 forced off) runs the compiled path,
    frozen weights and the normalisation inside the compiled call, logs the
    compile and gives the exact path's scores to float rounding; plain
    ``--fast`` on these 3 videos x 6 views says why it did not compile."""
    fast, log = run_test_tool(data, decisive_checkpoint,
                              tmp_path / 'compiled.json', tmp_path / 'work',
                              '--compile', '--channels-last',
                              force_native_bf16=False)
    assert ('inference fast path: fp32, channels_last_3d, torch.compile '
            'with frozen weights (BN folded by inductor)') in log
    assert 'compiling the backbone for [6, 3, 16, 64, 64] (one-off' in log
    assert re.search(r'compiled in [\d.]+ s \(first call included\)', log)
    np.testing.assert_allclose(fast, fp32_scores, rtol=1e-4, atol=1e-6)
    _, log = run_test_tool(data, decisive_checkpoint,
                           tmp_path / 'fast.json', tmp_path / 'work2',
                           '--fast', force_native_bf16=False)
    assert (FAST_LINES[False] + '; --fast: not compiled (18 views < 200: '
            'the compile would not repay itself; add --compile to compile '
            'anyway)') in log
