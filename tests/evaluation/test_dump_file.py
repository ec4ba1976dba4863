"""The prediction dump format: round trip, safe loading, argument checks."""
import os
import pickle

import numpy as np
import pytest

from mmvid.evaluation.dump_file import load_dump, save_dump

SCORES = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], dtype=np.float32)


def test_round_trip_keeps_every_key_exactly(tmp_path):
    path = tmp_path / 'results.pkl'  # the name users type: still an .npz
    save_dump(str(path), ['a/v0.mp4', 'b/v1.mp4'], SCORES, [1, 0],
              ['run', 'jump', 'sit'], 'configs/x.py')
    dump = load_dump(str(path))
    assert dump['video_ids'] == ['a/v0.mp4', 'b/v1.mp4']
    assert dump['scores'].dtype == np.float32
    np.testing.assert_array_equal(dump['scores'], SCORES)
    assert dump['labels'].tolist() == [1, 0]
    assert dump['classes'] == ['run', 'jump', 'sit']
    assert dump['config'] == 'configs/x.py'
    assert sorted(os.listdir(tmp_path)) == ['results.pkl']  # no partial left


def test_classes_may_be_absent(tmp_path):
    path = str(tmp_path / 'd.npz')
    save_dump(path, ['a', 'b'], SCORES, [1, 0], None, '')
    assert load_dump(path)['classes'] is None


class RunsCode:
    """A pickle that creates a file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_a_crafted_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / 'pwned'
    path = tmp_path / 'results.pkl'
    path.write_bytes(pickle.dumps(dict(video_ids=[RunsCode(str(marker))])))
    with pytest.raises(ValueError, match='results.pkl: not a prediction '
                       'dump.*pickles are not loaded'):
        load_dump(str(path))
    assert not marker.exists()


def test_an_npz_with_an_object_array_is_refused(tmp_path):
    path = tmp_path / 'obj.npz'
    np.savez(path, video_ids=np.array([RunsCode(str(tmp_path / 'x'))],
                                      dtype=object),
             scores=SCORES[:1], labels=[0], config='')
    with pytest.raises(ValueError, match='obj.npz: refused'):
        load_dump(str(path))
    assert not (tmp_path / 'x').exists()


def test_a_missing_key_is_named(tmp_path):
    path = tmp_path / 'partial.npz'
    np.savez(path, scores=SCORES, labels=[1, 0])
    with pytest.raises(ValueError, match=r"partial.npz: not a prediction "
                       r"dump, missing \['video_ids', 'config'\]"):
        load_dump(str(path))


@pytest.mark.parametrize('ids, scores, labels, classes, match', [
    (['a'], SCORES, [1, 0], None, '1 video_ids for 2 score rows'),
    (['a', 'b'], SCORES[0], [1], None, r'scores must be a float array'),
    (['a', 'b'], SCORES, [1], None, r'labels must be 2 class indices'),
    (['a', 'b'], SCORES, [1, 3], None, r'labels must lie in \[0, 3\)'),
    (['a', 'b'], SCORES, [1, 0], ['x'], '1 classes for 3 score columns'),
])
def test_save_checks_shapes_naming_the_file(tmp_path, ids, scores, labels,
                                            classes, match):
    path = tmp_path / 'bad.npz'
    with pytest.raises(ValueError, match='bad.npz: ' + match):
        save_dump(str(path), ids, scores, labels, classes, '')
    assert not path.exists()


def test_features_round_trip_as_float32_and_may_be_absent(tmp_path):
    path = str(tmp_path / 'f.npz')
    features = np.arange(8, dtype=np.float64).reshape(2, 4) / 3
    save_dump(path, ['a', 'b'], SCORES, [1, 0], None, '', features)
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == ['config', 'features', 'labels',
                                     'scores', 'video_ids']
    dump = load_dump(path)
    assert dump['features'].dtype == np.float32
    np.testing.assert_array_equal(dump['features'],
                                  features.astype(np.float32))
    save_dump(path, ['a', 'b'], SCORES, [1, 0], None, '')
    assert load_dump(path)['features'] is None


@pytest.mark.parametrize('features', [
    np.zeros((3, 4), np.float32), np.zeros(2, np.float32),
    np.zeros((2, 4), np.int64)])
def test_features_need_one_float_row_per_video(tmp_path, features):
    path = tmp_path / 'bad.npz'
    with pytest.raises(ValueError, match=r'bad.npz: features must be a float '
                       r'array \[2, D\] \(one row per video\), got '
                       f'{features.dtype}'):
        save_dump(str(path), ['a', 'b'], SCORES, [1, 0], None, '', features)
    assert not path.exists()
