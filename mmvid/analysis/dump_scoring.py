"""Scoring prediction dumps (:mod:`mmvid.evaluation.dump_file`) offline with
the metric code ``tools/test.py`` runs, and ensembling several dumps."""
from typing import Dict, Sequence

import numpy as np

from mmvid.evaluation import AccMetric


def score_dump(dump: dict, metric_list: Sequence[str],
               topk: Sequence[int] = (1, 5)) -> Dict[str, float]:
    """:class:`AccMetric`'s figures for ``dump`` (``scores`` ``[N, C]``,
    ``labels`` ``[N]``); NaN rows (videos that could not be read) are
    skipped as the test run skipped them."""
    results = []
    for index, (vid, score, label) in enumerate(
            zip(dump['video_ids'], dump['scores'], dump['labels'])):
        if np.isnan(score).any():
            results.append(dict(skipped=dict(index=index, file=vid,
                                             reason='NaN scores in the dump')))
        else:
            results.append(dict(score=score, label=np.array([label])))
    return AccMetric(metric_list, topk).compute_metrics(results)


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``[N, C]`` scores, in float64."""
    scores = np.asarray(scores, dtype=np.float64)
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def ensemble(dumps: Sequence[dict], paths: Sequence[str],
             weights: Sequence[float], apply_softmax: bool = False) -> dict:
    """The weighted average ``sum_i w_i s_i / sum_i w_i`` of the dumps'
    scores ``[N, C]`` (each softmaxed first with ``apply_softmax``), as a
    dump with the first one's ids, labels and classes.

    Raises:
        ValueError: naming the file: a different number of weights, video
            ids (or their order), labels or number of classes.
    """
    if len(weights) != len(dumps):
        raise ValueError(f'{len(weights)} weights for {len(dumps)} dumps '
                         f'({", ".join(paths)})')
    if sum(weights) <= 0:
        raise ValueError(f'the weights must sum to > 0, got {list(weights)}')
    first, total = dumps[0], 0.0
    for dump, path, weight in zip(dumps, paths, weights):
        if dump['video_ids'] != first['video_ids']:
            differ = next((i for i, (a, b) in enumerate(
                zip(dump['video_ids'], first['video_ids'])) if a != b), None)
            where = f'first difference at row {differ}' if differ is not \
                None else f'{len(dump["video_ids"])} videos against ' \
                f'{len(first["video_ids"])}'
            raise ValueError(f'{path}: not the video ids of {paths[0]} in '
                             f'the same order ({where})')
        if dump['scores'].shape != first['scores'].shape or not \
                np.array_equal(dump['labels'], first['labels']):
            raise ValueError(f'{path}: scores {dump["scores"].shape} or '
                             f'labels differ from those of {paths[0]} '
                             f'{first["scores"].shape}')
        scores = softmax(dump['scores']) if apply_softmax else \
            dump['scores'].astype(np.float64)
        total = total + weight * scores
    return dict(first, scores=total / sum(weights), config='')
