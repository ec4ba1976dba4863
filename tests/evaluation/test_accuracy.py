"""Metric functions against brute-force definitions and worked examples."""
import numpy as np
import pytest
import torch

from mmvid.evaluation import (AccMetric, average_precision, confusion_matrix,
                              mean_average_precision, mean_class_accuracy,
                              top_k_accuracy)


def test_top_k_accuracy_equals_brute_force():
    rng = np.random.default_rng(0)
    scores = rng.random((50, 7))
    labels = rng.integers(0, 7, 50)
    result = top_k_accuracy(scores, labels, topk=(1, 3, 7))
    for k in (1, 3, 7):
        hits = [labels[i] in sorted(range(7), key=lambda c: -scores[i, c])[:k]
                for i in range(50)]
        assert result[k] == pytest.approx(np.mean(hits))
    assert result[7] == 1.0


def test_mean_class_accuracy_counts_predicted_only_classes_as_zero():
    # true 0,0,1,2; predicted 0,1,1,3 -> classes {0,1,2,3}:
    # class 0: 1/2, class 1: 1/1, class 2: 0/1, class 3 (only predicted): 0
    scores = np.eye(4)[[0, 1, 1, 3]]
    assert mean_class_accuracy(scores, [0, 0, 1, 2]) == pytest.approx(0.375)
    # a class neither true nor predicted is ignored
    scores5 = np.eye(5)[[0, 1, 1, 3]]
    assert mean_class_accuracy(scores5, [0, 0, 1, 2]) == pytest.approx(0.375)


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix([0, 1, 1, 3], [0, 0, 1, 2])
    assert matrix.tolist() == [[1, 1, 0, 0],
                               [0, 1, 0, 0],
                               [0, 0, 0, 1],
                               [0, 0, 0, 0]]
    with pytest.raises(ValueError, match='same length'):
        confusion_matrix([0, 1], [0])


def test_average_precision_without_ties_is_mean_precision_at_hits():
    rng = np.random.default_rng(1)
    scores = rng.random(30)
    targets = rng.integers(0, 2, 30)
    order = np.argsort(-scores)
    hits = np.cumsum(targets[order])
    precisions = [hits[r] / (r + 1) for r in range(30) if targets[order][r]]
    assert average_precision(scores, targets) == pytest.approx(
        np.mean(precisions))


def test_average_precision_with_ties_and_no_positive():
    # thresholds 0.9 (1 positive of 1), 0.5 (tie: 1 positive of 2 more)
    # P = 1, 2/3; R = 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3
    scores = [0.9, 0.5, 0.5]
    assert average_precision(scores, [1, 1, 0]) == pytest.approx(
        0.5 + 1 / 3)
    assert np.isnan(average_precision(scores, [0, 0, 0]))


def test_mean_average_precision_skips_classes_without_positives():
    scores = np.array([[0.9, 0.1, 0.3], [0.2, 0.8, 0.4], [0.6, 0.7, 0.1]])
    targets = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    per_class = [average_precision(scores[:, c], targets[:, c])
                 for c in range(2)]
    assert mean_average_precision(scores, targets) == pytest.approx(
        np.mean(per_class))


def test_acc_metric_keys_and_values():
    metric = AccMetric(topk=(1, 2))
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6],
                           [0.5, 0.4, 0.1]])
    labels = [0, 1, 1]
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor([l]))
                          for s, l in zip(scores, labels)])
    result = metric.compute_metrics(metric.results)
    assert result == pytest.approx(dict(
        top1_acc=1 / 3, top2_acc=1.0,
        mean_class_accuracy=mean_class_accuracy(scores.numpy(), labels)))


@pytest.mark.parametrize('prefix, expected_prefix', [
    (None, 'acc/'), ('val', 'val/')])
def test_acc_metric_1x_key_names(prefix, expected_prefix):
    """``key_style='1.x'``: mmaction2 1.x's keys (``acc/top1``,
    ``acc/top5``, ``acc/mean1``), same values as the 0.x keys."""
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6],
                           [0.5, 0.4, 0.1], [0.2, 0.5, 0.3]])
    labels = [0, 1, 1, 2]
    # top1: rows 0 (0) and 2 (0 != 1) -> only row 0 right: 1/4;
    # top2: row 0, row 1 (1 in {2, 1}), row 2 (1 in {0, 1}),
    # row 3 (2 in {1, 2}) -> 4/4;
    # mean class: class 0 1/1, class 1 0/2, class 2 0/1 -> 1/3
    samples = [dict(pred_score=s, gt_label=torch.tensor([l]))
               for s, l in zip(scores, labels)]
    metric = AccMetric(topk=(1, 2), key_style='1.x', prefix=prefix)
    metric.process(None, samples)
    result = metric.evaluate(len(samples))
    assert result == pytest.approx({
        f'{expected_prefix}top1': 0.25, f'{expected_prefix}top2': 1.0,
        f'{expected_prefix}mean1': 1 / 3})
    default = AccMetric(topk=(1, 2))
    default.process(None, samples)
    assert default.evaluate(len(samples)) == pytest.approx(dict(
        top1_acc=0.25, top2_acc=1.0, mean_class_accuracy=1 / 3))
    assert default.key_style == '0.x' and default.prefix is None


def test_acc_metric_key_style_is_checked():
    with pytest.raises(ValueError, match="key_style must be one of "
                       r"\('0.x', '1.x'\), got '2.x'"):
        AccMetric(key_style='2.x')
    metric = AccMetric(metric_list='mean_average_precision', key_style='1.x')
    metric.process(None, [
        dict(pred_score=torch.tensor([0.9, 0.1]),
             gt_label=torch.tensor([1., 0.]))])
    assert metric.evaluate(1) == {'acc/mean_average_precision': 1.0}


def test_acc_metric_multi_label_and_errors():
    metric = AccMetric(metric_list=('mean_average_precision', ))
    metric.process(None, [
        dict(pred_score=torch.tensor([0.9, 0.1]),
             gt_label=torch.tensor([1., 0.])),
        dict(pred_score=torch.tensor([0.2, 0.7]),
             gt_label=torch.tensor([0., 1.]))])
    assert metric.compute_metrics(metric.results) == dict(
        mean_average_precision=1.0)
    with pytest.raises(ValueError, match='metric_list must name some of'):
        AccMetric(metric_list=('top1', ))
    with pytest.raises(ValueError, match="set average_clips to 'prob'"):
        AccMetric().process(None, [dict(pred_score=torch.zeros(3, 4),
                                        gt_label=torch.tensor([0]))])
