"""``tools/test.py --dump`` and the offline tools that read its dumps
(``tools/analysis/eval_metric.py``, ``report_accuracy.py``,
``confusion_matrix.py``) on the demo model and the tiny synthetic set."""
import csv
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvid.evaluation.dump_file import load_dump
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules
from tests.helpers import randomize_bns

from .test_analysis_tools import png_size
from .tiny_runs import CONFIG, NUM_CLASSES, NUM_VAL, TOOLS, run, script_env

ACC_KEYS = ('top1_acc', 'top5_acc', 'mean_class_accuracy')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """The demo model with random BN statistics: decisive predictions."""
    register_all_modules()
    torch.manual_seed(0)
    model = randomize_bns(MODELS.build(Config.fromfile(CONFIG).model))
    path = tmp_path_factory.mktemp('ckpt') / 'random.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def tool(script, *args, cwd):
    done = run([sys.executable, osp.join(TOOLS, script), *args],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), cwd)
    assert done.returncode == 0, done.stdout[-6000:]
    return done.stdout


def printed(stdout):
    return {k: v for k, v in (line.split(': ') for line in
                              stdout.splitlines()
                              if line.startswith(ACC_KEYS))}


def run_test_dump(data, checkpoint, tmp_path, average):
    dump = tmp_path / f'{average}.pkl'
    out = tool('test.py', CONFIG, checkpoint, '--eval', 'top_k_accuracy',
               'mean_class_accuracy', '--average-clips', average, '--dump',
               dump, '--work-dir', tmp_path / 'work', '--cfg-options',
               *data['options'], cwd=tmp_path)
    return dump, printed(out)


@pytest.fixture(scope='module')
def dumps(data, checkpoint, tmp_path_factory):
    """``{average_clips: (dump, printed metrics)}`` for 'prob' and 'score'."""
    return {avg: run_test_dump(data, checkpoint,
                           tmp_path_factory.mktemp(avg), avg)
            for avg in ('prob', 'score')}


def test_dump_holds_ids_scores_labels_classes_in_dataset_order(dumps, data):
    dump = load_dump(str(dumps['prob'][0]))
    lines = [line.split() for line in open(data['val']).read().splitlines()]
    assert dump['video_ids'] == [osp.join(data['root'], name)
                                 for name, _ in lines]
    assert dump['labels'].tolist() == [int(label) for _, label in lines]
    assert dump['scores'].shape == (NUM_VAL, NUM_CLASSES)
    assert dump['scores'].dtype == np.float32
    np.testing.assert_allclose(dump['scores'].sum(1), 1.0, rtol=1e-5)
    names = open(data['label_map']).read().split()
    assert dump['classes'] == names and dump['config'] == CONFIG


def test_dump_path_is_checked_before_the_run(data, checkpoint, tmp_path):
    done = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG,
                checkpoint, '--dump', tmp_path, '--cfg-options',
                *data['options']],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode != 0
    assert f'--dump {tmp_path}: is a folder' in done.stdout
    assert 'Epoch(test)' not in done.stdout


@pytest.mark.parametrize('average', ['prob', 'score'])
def test_eval_metric_prints_exactly_what_test_printed(dumps, average,
                                                      tmp_path):
    dump, expected = dumps[average]
    assert sorted(expected) == sorted(ACC_KEYS)
    out = tool('analysis/eval_metric.py', dump, '--eval', 'top_k_accuracy',
               'mean_class_accuracy', '--topk', 1, 5, cwd=tmp_path)
    assert printed(out) == expected


def test_report_accuracy_is_the_weighted_average(dumps, tmp_path):
    a, b = (load_dump(str(dumps[k][0])) for k in ('prob', 'score'))
    for softmax in (False, True):
        sa, sb = a['scores'].astype(np.float64), b['scores'].astype(
            np.float64)
        if softmax:
            sa, sb = (np.exp(s) / np.exp(s).sum(1, keepdims=True)
                      for s in (sa, sb))
        mean = (1 * sa + 1.5 * sb) / 2.5
        labels = a['labels']
        top1 = np.mean(mean.argmax(1) == labels)
        top5 = np.mean([lab in np.argsort(-row)[:5]
                        for row, lab in zip(mean, labels)])
        pred = mean.argmax(1)
        present = np.union1d(pred, labels)
        mca = np.mean([np.mean(pred[labels == c] == c)
                       if (labels == c).any() else 0.0 for c in present])
        out = tool('analysis/report_accuracy.py', dumps['prob'][0],
                   dumps['score'][0], '--weights', 1, 1.5,
                   *(['--apply-softmax'] if softmax else []), cwd=tmp_path)
        assert printed(out) == {'top1_acc': f'{top1:.4f}',
                                'top5_acc': f'{top5:.4f}',
                                'mean_class_accuracy': f'{mca:.4f}'}


def test_report_accuracy_refuses_other_videos(dumps, tmp_path):
    from mmvid.evaluation.dump_file import save_dump
    a = load_dump(str(dumps['prob'][0]))
    other = tmp_path / 'other.npz'
    save_dump(str(other), a['video_ids'][::-1], a['scores'], a['labels'],
              a['classes'], '')
    done = run([sys.executable, osp.join(TOOLS, 'analysis',
                                         'report_accuracy.py'),
                dumps['prob'][0], other],
               script_env(PYTHONPATH=osp.dirname(TOOLS)), tmp_path)
    assert done.returncode != 0
    assert f'{other}: not the video ids of {dumps["prob"][0]} in the same ' \
        'order (first difference at row 0)' in done.stdout


@pytest.mark.parametrize('normalize', [False, True])
def test_confusion_matrix_csv_and_png(dumps, data, tmp_path, normalize):
    dump = load_dump(str(dumps['prob'][0]))
    png, table = tmp_path / 'cm.png', tmp_path / 'cm.csv'
    tool('analysis/confusion_matrix.py', dumps['prob'][0], '--out', png,
         '--csv', table, '--label-map', data['label_map'],
         *(['--normalize'] if normalize else []), cwd=tmp_path)
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES))
    for row, label in zip(dump['scores'], dump['labels']):
        counts[label, int(np.argmax(row))] += 1
    rows = list(csv.reader(open(table)))
    names = open(data['label_map']).read().split()
    assert rows[0] == ['true\\predicted'] + names
    assert [r[0] for r in rows[1:]] == names
    got = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    if normalize:
        per = counts.sum(1, keepdims=True)
        counts = np.round(np.divide(counts, per, out=np.zeros_like(counts),
                                    where=per > 0), 4)
    np.testing.assert_array_equal(got, counts)
    width, height = png_size(png)
    assert 400 <= width <= 2000 and 400 <= height <= 2000


def test_confusion_matrix_metric_as_the_config_test_evaluator(
        data, checkpoint, tmp_path):
    config = tmp_path / 'cm_config.py'
    config.write_text(f'_base_ = [{CONFIG!r}]\ntest_evaluator = dict('
                      "_delete_=True, type='ConfusionMatrix')\n")
    dump = tmp_path / 'd.npz'
    out = tool('test.py', config, checkpoint, '--work-dir', tmp_path / 'w',
               '--cfg-options', *data['options'], cwd=tmp_path)
    tool('test.py', config, checkpoint, '--dump', dump, '--work-dir',
         tmp_path / 'w2', '--cfg-options', *data['options'], cwd=tmp_path)
    dump = load_dump(str(dump))
    counts = np.zeros((NUM_CLASSES, NUM_CLASSES), dtype=np.int64)
    for row, label in zip(dump['scores'], dump['labels']):
        counts[label, int(np.argmax(row))] += 1
    text = out.split('confusion_matrix:\n', 1)[1]
    lines = text.splitlines()[:NUM_CLASSES]
    got = np.array([[int(v) for v in line.strip(' []').split()]
                    for line in lines])
    np.testing.assert_array_equal(got, counts)
