"""``confusion_counts`` and the ``ConfusionMatrix`` metric."""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from mmvid.evaluation import ConfusionMatrix, confusion_counts
from mmvid.registry import METRICS
from mmvid.utils import register_all_modules


def test_confusion_counts_has_every_class_rows_true():
    matrix = confusion_counts([0, 2, 2, 1], [0, 1, 2, 1], 4)
    assert matrix.tolist() == [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0],
                               [0, 0, 0, 0]]


def test_confusion_counts_checks_its_arguments():
    with pytest.raises(ValueError, match=r'y_real must lie in \[0, 2\)'):
        confusion_counts([0, 1], [0, 2], 2)
    with pytest.raises(ValueError, match='1-D of the same length'):
        confusion_counts([0, 1], [0], 2)


def sample(scores, label, **extra):
    return dict(pred_score=torch.tensor(scores),
                gt_label=torch.tensor([label]), **extra)


def test_metric_from_the_registry_counts_top1_against_labels():
    register_all_modules()
    evaluator = Evaluator(dict(type='ConfusionMatrix'))
    evaluator.dataset_meta = dict(classes=['a', 'b', 'c'])
    evaluator.process([sample([0.1, 0.8, 0.1], 1), sample([0.7, 0.2, 0.1], 1),
                       sample([0.1, 0.1, 0.8], 2),
                       sample([0.9, 0.0, 0.1], 0,
                              stand_in_for=dict(index=3, file='x'))])
    result = evaluator.evaluate(4)
    assert list(result) == ['confusion_matrix']
    assert result['confusion_matrix'].tolist() == [[0, 0, 0], [1, 1, 0],
                                                   [0, 0, 1]]


def test_metric_num_classes_and_argument_checks():
    metric = METRICS.build(dict(type='ConfusionMatrix', num_classes=4))
    metric.process(None, [sample([0.1, 0.9], 0)])
    assert metric.compute_metrics(metric.results)['confusion_matrix'] \
        .tolist() == [[0, 1, 0, 0]] + [[0] * 4] * 3
    with pytest.raises(ValueError, match='num_classes must be a positive'):
        ConfusionMatrix(num_classes=0)
    with pytest.raises(ValueError, match=r'pred_score \(2, 2\)'):
        metric.process(None, [sample([[0.1, 0.9], [0.2, 0.8]], 0)])
    with pytest.raises(RuntimeError, match='no video'):
        ConfusionMatrix().compute_metrics([])
    assert np.issubdtype(confusion_counts([0], [0], 1).dtype, np.integer)
