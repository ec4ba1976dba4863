"""tools/train.py and tools/test.py end to end on the tiny synthetic set:
bit-identical reruns, resuming equal to not stopping, and 0.x result files.
"""
import importlib.util
import json
import os.path as osp
import pickle
import sys
import types

import numpy as np
import pytest
import torch

from .tiny_runs import CONFIG, NUM_CLASSES, NUM_VAL, TOOLS, run, script_env

# no dropout: a resumed run cannot restore torch's global RNG mid-run, and
# the data augmentation draws from per-sample generators that do not depend
# on it; checkpoints every epoch
DETERMINISTIC = ['model.cls_head.dropout_ratio=0.0',
                 'default_hooks.checkpoint.interval=1']


def train(data, work_dir, epochs, *extra):
    options = data['options'] + DETERMINISTIC + [
        f'train_cfg.max_epochs={epochs}',
        f'train_dataloader.dataset.ann_file={data["train_small"]}']
    done = run([sys.executable, osp.join(TOOLS, 'train.py'), CONFIG, '--seed', 0,
                '--deterministic', '--work-dir', work_dir, *extra,
                '--cfg-options'] + options,
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
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(TOOLS, 'train.py'))
    train_tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_tool)

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


def test_test_tool_fast_path_gives_the_fp32_scores(two_epochs, data,
                                                   tmp_path):
    """--fast (on this CPU: channels_last_3d + folded BN in fp32) scores
    every video as the default path does, to float rounding."""
    outs = []
    for extra in ([], ['--fast']):
        out = tmp_path / f'result{len(extra)}.json'
        done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG,
                    two_epochs / 'epoch_2.pth', '--out', out, *extra,
                    '--work-dir', tmp_path / 'work', '--cfg-options'] +
                   data['options'],
                   script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
        assert done.returncode == 0, done.stdout[-6000:]
        outs.append(np.array(json.loads(out.read_text())))
    assert 'inference fast path: ' in done.stdout
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-6)
    assert (outs[1].argmax(1) == outs[0].argmax(1)).all()

