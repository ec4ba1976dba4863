"""``DumpPredictions``: scores, labels, ids and, when asked, features."""
import numpy as np
import pytest
import torch

from mmvid.evaluation.dump_file import load_dump
from mmvid.evaluation.metrics import DumpPredictions


def sample(name, label, score, feature=None, stand_in=None):
    """A data sample as the evaluator passes it to ``process`` (a dict)."""
    out = dict(filename=name, gt_label=torch.tensor([label]),
               pred_score=torch.tensor(score))
    if feature is not None:
        out['feature'] = torch.tensor(feature)
    if stand_in is not None:
        out['stand_in_for'] = dict(index=1, file=stand_in, reason='bad')
    return out


def dump(metric, samples):
    metric.process({}, samples)
    metric.compute_metrics(metric.results)
    return load_dump(metric.out_file)


def test_features_are_dumped_beside_the_scores(tmp_path):
    metric = DumpPredictions(str(tmp_path / 'd.pkl'), 'x.py',
                             with_features=True)
    out = dump(metric, [
        sample('a.mp4', 1, [0.2, 0.8], [1.5, -2.0, 0.25]),
        sample('c.mp4', 0, [0.6, 0.4], [9.0, 9.0, 9.0], stand_in='b.mp4')])
    assert out['video_ids'] == ['a.mp4', 'b.mp4']
    np.testing.assert_array_equal(out['features'][0], [1.5, -2.0, 0.25])
    # the stand-in's features are another video's: NaN, as its scores
    assert np.isnan(out['features'][1]).all()
    assert np.isnan(out['scores'][1]).all()
    np.testing.assert_array_equal(out['scores'][0], np.float32([0.2, 0.8]))


def test_without_the_option_no_features_are_dumped(tmp_path):
    metric = DumpPredictions(str(tmp_path / 'd.pkl'))
    out = dump(metric, [sample('a.mp4', 1, [0.2, 0.8], [1.0, 2.0])])
    assert out['features'] is None
    with np.load(metric.out_file, allow_pickle=False) as npz:
        assert 'features' not in npz.files


def test_a_sample_without_features_says_how_to_get_them(tmp_path):
    metric = DumpPredictions(str(tmp_path / 'd.pkl'), with_features=True)
    with pytest.raises(KeyError, match='set model.test_cfg.with_features='
                       'True'):
        metric.process({}, [sample('a.mp4', 1, [0.2, 0.8])])
    with pytest.raises(ValueError, match=r'one feature vector per video, '
                       r'got feature of shape \(2, 3\)'):
        metric.process({}, [sample('a.mp4', 1, [0.2, 0.8],
                                   [[1.0] * 3] * 2)])


def test_with_features_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match='with_features must be a bool, got '
                       "'yes'"):
        DumpPredictions(str(tmp_path / 'd.pkl'), with_features='yes')
