"""Classification metrics on per-video score arrays, with mmaction2's
definitions (0.x ``core/evaluation/accuracy.py``, unchanged in 1.x).

``scores`` is ``[N, K]`` (one row per video), ``labels`` ``[N]`` class
indices, or ``[N, K]`` 0/1 targets for the multi-label metrics.
"""
from typing import Dict, Sequence, Union

import numpy as np

ArrayLike = Union[np.ndarray, Sequence]


def _scores_and_labels(scores: ArrayLike, labels: ArrayLike):
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2 or labels.shape[:1] != scores.shape[:1]:
        raise ValueError(f'expected scores [N, K] and labels [N], got '
                         f'{scores.shape} and {labels.shape}')
    return scores, labels


def top_k_accuracy(scores: ArrayLike, labels: ArrayLike,
                   topk: Sequence[int] = (1, )) -> Dict[int, float]:
    """Fraction of videos whose label is among the ``k`` best scores.

    Ranks with numpy's default ``argsort``, as mmaction2 does, so ties are
    broken identically.

    Returns:
        ``{k: accuracy}`` for each ``k`` in ``topk``.
    """
    scores, labels = _scores_and_labels(scores, labels)
    ranked = np.argsort(scores, axis=1)
    result = {}
    for k in topk:
        best_k = ranked[:, -k:][:, ::-1]
        hits = np.logical_or.reduce(best_k == labels[:, None], axis=1)
        result[k] = float(hits.sum() / hits.shape[0])
    return result


def confusion_matrix(y_pred: ArrayLike, y_real: ArrayLike) -> np.ndarray:
    """Counts ``[C, C]`` over the classes present in either array (sorted);
    rows are true classes, columns predicted ones."""
    y_pred, y_real = np.asarray(y_pred), np.asarray(y_real)
    if y_pred.shape != y_real.shape or y_pred.ndim != 1:
        raise ValueError('y_pred and y_real must be 1-D of the same length, '
                         f'got {y_pred.shape} and {y_real.shape}')
    classes = np.unique(np.concatenate([y_pred, y_real]))
    index = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for real, pred in zip(y_real, y_pred):
        matrix[index[real], index[pred]] += 1
    return matrix


def confusion_counts(y_pred: ArrayLike, y_real: ArrayLike,
                     num_classes: int) -> np.ndarray:
    """Counts int64 ``[num_classes, num_classes]`` over every class, present
    or not: ``[i, j]`` is the number of videos of class ``i`` predicted
    ``j`` (rows true, columns predicted)."""
    y_pred, y_real = np.asarray(y_pred), np.asarray(y_real)
    if y_pred.shape != y_real.shape or y_pred.ndim != 1:
        raise ValueError('y_pred and y_real must be 1-D of the same length, '
                         f'got {y_pred.shape} and {y_real.shape}')
    for name, values in (('y_pred', y_pred), ('y_real', y_real)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f'{name} must lie in [0, {num_classes}), got '
                             f'{values.min()}..{values.max()}')
    flat = y_real.astype(np.int64) * num_classes + y_pred.astype(np.int64)
    return np.bincount(flat, minlength=num_classes**2).reshape(
        num_classes, num_classes)


def mean_class_accuracy(scores: ArrayLike, labels: ArrayLike) -> float:
    """Mean over classes of the per-class top-1 accuracy.

    The mean runs over every class present in the labels OR the
    predictions; a class that is only predicted counts as 0 (mmaction2's
    definition).
    """
    scores, labels = _scores_and_labels(scores, labels)
    matrix = confusion_matrix(np.argmax(scores, axis=1), labels).astype(float)
    counts, hits = matrix.sum(axis=1), np.diag(matrix)
    per_class = np.divide(hits, counts, out=np.zeros_like(hits),
                          where=counts > 0)
    return float(per_class.mean())


def average_precision(scores: ArrayLike, targets: ArrayLike) -> float:
    """Area under the precision-recall curve of one class:
    ``sum_n (R_n - R_{n-1}) P_n`` over the distinct score thresholds, best
    first. NaN if the class has no positive."""
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    order = np.argsort(scores, kind='mergesort')[::-1]
    scores, targets = scores[order], targets[order]
    # the last position of each distinct score: one threshold each
    last = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    true_pos = np.cumsum(targets)[last]
    if true_pos[-1] == 0:
        return float('nan')
    precision = true_pos / (last + 1)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def mean_average_precision(scores: ArrayLike, targets: ArrayLike) -> float:
    """Mean of the per-class average precision over classes with at least
    one positive (multi-label; ``targets`` ``[N, K]`` of 0/1)."""
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.shape != targets.shape or scores.ndim != 2:
        raise ValueError('expected scores and targets of the same shape '
                         f'[N, K], got {scores.shape} and {targets.shape}')
    per_class = [average_precision(s, t) for s, t in zip(scores.T, targets.T)]
    valid = [ap for ap in per_class if not np.isnan(ap)]
    return float(np.mean(valid)) if valid else float('nan')
