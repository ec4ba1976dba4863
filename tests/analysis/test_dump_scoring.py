"""``mmvid.analysis.dump_scoring``: scoring and ensembling dumps in memory."""
import numpy as np
import pytest

from mmvid.analysis.dump_scoring import ensemble, score_dump


def dump(scores, labels, ids=None):
    scores = np.asarray(scores, dtype=np.float32)
    return dict(video_ids=ids or [f'v{i}' for i in range(len(scores))],
                scores=scores, labels=np.asarray(labels), classes=None,
                config='c.py')


def test_score_dump_skips_nan_rows_as_the_test_run_did():
    d = dump([[0.9, 0.1], [np.nan, np.nan], [0.2, 0.8], [0.6, 0.4]],
             [0, 1, 1, 1])
    assert score_dump(d, ['top_k_accuracy', 'mean_class_accuracy'],
                      [1]) == {'top1_acc': 2 / 3,
                               'mean_class_accuracy': 0.75}


def test_ensemble_weighted_mean_exact():
    a = dump([[1.0, 0.0], [0.0, 2.0]], [0, 1])
    b = dump([[0.0, 4.0], [1.0, 0.0]], [0, 1])
    merged = ensemble([a, b], ['a', 'b'], [1, 3])
    np.testing.assert_array_equal(merged['scores'],
                                  [[0.25, 3.0], [0.75, 0.5]])
    assert merged['video_ids'] == ['v0', 'v1']


@pytest.mark.parametrize('other, weights, match', [
    (dump([[0, 1]], [0]), [1, 1], r'b: not the video ids of a in the same '
     r'order \(1 videos against 2\)'),
    (dump([[0, 1], [1, 0]], [0, 1], ['v1', 'v0']), [1, 1],
     r'first difference at row 0'),
    (dump([[0, 1], [1, 0]], [1, 1]), [1, 1], 'b: scores .* or labels differ'),
    (dump([[0, 1], [1, 0]], [0, 1]), [1], r'1 weights for 2 dumps \(a, b\)'),
    (dump([[0, 1], [1, 0]], [0, 1]), [1, -1], 'must sum to > 0'),
])
def test_ensemble_refuses_mismatched_dumps(other, weights, match):
    a = dump([[1.0, 0.0], [0.0, 2.0]], [0, 1])
    with pytest.raises(ValueError, match=match):
        ensemble([a, other], ['a', 'b'], weights)
