"""``VideoDataset``: annotation formats, data_prefix / data_root joining,
label maps, strict arguments and the bad-sample policy (``on_error``)."""
import os.path as osp
import re

import numpy as np
import pytest
import torch

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.video_dataset import VideoDataset
from mmvid.registry import DATASETS, TRANSFORMS
from mmvid.structures import ActionDataSample


def keep(results):
    """Identity pipeline step: the dataset's sample dict itself."""
    return results


class FailOn:
    """Raises ``BadSampleError`` for the files whose name is in ``bad``."""

    def __init__(self, bad):
        self.bad = set(bad)

    def __call__(self, results):
        if osp.basename(results['filename']) in self.bad:
            raise BadSampleError(f'cannot read {results["filename"]}')
        return results


def pack(results):
    """A tiny PackActionInputs: one random draw as input, a data sample."""
    data_sample = ActionDataSample(metainfo=dict(
        filename=results['filename'], sample_idx=results['sample_idx']))
    data_sample.set_gt_label(results['label'])
    return dict(inputs=torch.from_numpy(results['rng'].random(2)),
                data_samples=data_sample)


@TRANSFORMS.register_module(name='TestVideoDatasetTag')
class TagTransform:
    """A registered test transform: adds ``tag``."""

    def __init__(self, tag):
        self.tag = tag

    def __call__(self, results):
        results['tag'] = self.tag
        return results


def write(tmp_path, text, name='list.txt'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def numbered_list(tmp_path, n):
    return write(tmp_path, ''.join(f'v{i}.mp4 {i % 3}\n' for i in range(n)))


def test_samples_have_the_contract_keys(tmp_path):
    ann = write(tmp_path, 'a/x.mp4 2\n\nb/y.mp4\n')  # b: unlabeled (test)
    ds = VideoDataset(ann, [keep], data_prefix=dict(video='/data/k400'),
                      seed=5, test_mode=True)
    assert len(ds) == 2
    first = ds[0]
    assert set(first) == {'filename', 'label', 'start_index', 'modality',
                          'sample_idx', 'rng'}
    assert first['filename'] == '/data/k400/a/x.mp4'
    assert first['label'] == 2 and first['start_index'] == 0
    assert first['modality'] == 'RGB' and first['sample_idx'] == 0
    assert isinstance(first['rng'], np.random.Generator)
    second = ds[1]
    assert second['filename'] == '/data/k400/b/y.mp4'
    assert second['label'] == -1 and second['sample_idx'] == 1


def test_empty_prefix_keeps_paths_and_start_index_is_set(tmp_path):
    ann = write(tmp_path, 'x.mp4 1\n')
    ds = VideoDataset(ann, [keep], start_index=3)
    assert ds[0]['filename'] == 'x.mp4' and ds[0]['start_index'] == 3


def test_data_root_joins_relative_ann_file_and_prefix(tmp_path):
    (tmp_path / 'lists').mkdir()
    write(tmp_path / 'lists', 'x.mp4 0\n', 'train.txt')
    ds = VideoDataset('lists/train.txt', [keep], data_root=str(tmp_path),
                      data_prefix=dict(video='videos'))
    assert ds.ann_file == osp.join(str(tmp_path), 'lists/train.txt')
    assert ds[0]['filename'] == osp.join(str(tmp_path), 'videos', 'x.mp4')
    ds = VideoDataset('lists/train.txt', [keep], data_root=str(tmp_path),
                      data_prefix=dict(video='/abs/videos'))
    assert ds[0]['filename'] == '/abs/videos/x.mp4'


def test_multi_label_list(tmp_path):
    ann = write(tmp_path, 'a.mp4 0 2\nb.mp4 1\nc.mp4\n')
    ds = VideoDataset(ann, [keep], multi_class=True, num_classes=3,
                      test_mode=True)
    np.testing.assert_array_equal(ds[0]['label'],
                                  np.array([1, 0, 1], np.float32))
    np.testing.assert_array_equal(ds[1]['label'],
                                  np.array([0, 1, 0], np.float32))
    assert ds[0]['label'].dtype == np.float32
    assert ds[2]['label'] == -1


def test_delimiter(tmp_path):
    ann = write(tmp_path, 'my clips/a b.mp4;4\n')
    ds = VideoDataset(ann, [keep], delimiter=';',
                      data_prefix=dict(video='root'))
    assert ds[0]['filename'] == 'root/my clips/a b.mp4'
    assert ds[0]['label'] == 4


def test_label_file_gives_classes_and_checks_labels(tmp_path):
    labels = write(tmp_path, 'abseiling\nair drumming\n', 'labels.txt')
    ann = write(tmp_path, 'a.mp4 1\nb.mp4 0\n')
    ds = VideoDataset(ann, [keep], label_file=labels)
    assert ds.metainfo['classes'] == ('abseiling', 'air drumming')
    assert ds.num_classes == 2
    bad = write(tmp_path, 'a.mp4 1\nb.mp4 2\n', 'bad.txt')
    with pytest.raises(ValueError) as info:
        VideoDataset(bad, [keep], label_file=labels)
    assert str(info.value) == (
        f'{bad} line 2: label 2 is out of range: labels must be < '
        "num_classes=2 (expected 'path label')")
    with pytest.raises(ValueError, match=re.escape(
            f'VideoDataset: num_classes=3 but label_file {labels} names 2 '
            'classes')):
        VideoDataset(ann, [keep], label_file=labels, num_classes=3)
    # the label map also sizes the multi-hot labels
    ds = VideoDataset(ann, [keep], label_file=labels, multi_class=True)
    np.testing.assert_array_equal(ds[0]['label'], [0, 1])


def test_malformed_list_error_names_file_and_line(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\nb.mp4 3x\n')
    with pytest.raises(ValueError) as info:
        VideoDataset(ann, [keep])
    assert str(info.value) == (
        f"{ann} line 2: label '3x' is not an integer (expected 'path "
        "label')")


def test_empty_list_is_an_error(tmp_path):
    ann = write(tmp_path, '\n\n')
    with pytest.raises(ValueError, match=re.escape(
            f'{ann}: the annotation file has no samples')):
        VideoDataset(ann, [keep])


@pytest.mark.parametrize('kwargs,error,message', [
    (dict(multi_class=True), ValueError,
     'VideoDataset: multi_class=True needs num_classes'),
    (dict(data_prefix=dict(img='x')), ValueError,
     "VideoDataset: data_prefix must be dict(video=folder), got {'img': 'x'}"),
    (dict(data_prefix='data/'), ValueError,
     "VideoDataset: data_prefix must be dict(video=folder), got 'data/'"),
    (dict(on_error='ignore'), ValueError,
     "VideoDataset: on_error must be one of ('raise', 'skip'), got 'ignore'"),
    (dict(max_skip_retries=0), ValueError,
     'VideoDataset: max_skip_retries must be an int >= 1, got 0'),
    (dict(seed=-1), ValueError,
     'VideoDataset: seed must be an int >= 0 or None, got -1'),
    (dict(num_classes=0), ValueError,
     'VideoDataset: num_classes must be an int >= 1 or None, got 0'),
    (dict(modality='Depth'), ValueError,
     "VideoDataset: modality must be one of ('RGB', 'Flow'), got 'Depth'"),
    (dict(delimiter=''), ValueError,
     "VideoDataset: delimiter must be a non-empty string, got ''"),
    (dict(filename_tmpl='img_{:05}.jpg'), TypeError,
     "unexpected keyword argument 'filename_tmpl'"),
])
def test_strict_arguments(tmp_path, kwargs, error, message):
    ann = write(tmp_path, 'a.mp4 1\n')
    with pytest.raises(error, match=re.escape(message)):
        VideoDataset(ann, [keep], **kwargs)


def test_build_from_config_with_registered_transform(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\n')
    ds = DATASETS.build(dict(type='VideoDataset', ann_file=ann,
                             pipeline=[dict(type='TestVideoDatasetTag',
                                            tag='hello')]))
    assert isinstance(ds, VideoDataset)
    assert ds[0]['tag'] == 'hello'


def test_lazy_init_reads_the_list_at_first_use(tmp_path):
    ann = tmp_path / 'later.txt'
    ds = VideoDataset(str(ann), [keep], lazy_init=True)
    ann.write_text('a.mp4 1\nb.mp4 2\n')
    assert len(ds) == 2
    assert ds[1]['filename'] == 'b.mp4'


def test_indices_keep_a_subset(tmp_path):
    ds = VideoDataset(numbered_list(tmp_path, 6), [keep], indices=[1, 4])
    assert [ds[i]['filename'] for i in range(len(ds))] == ['v1.mp4',
                                                           'v4.mp4']


def test_on_error_raise_names_index_and_file(tmp_path):
    ds = VideoDataset(numbered_list(tmp_path, 4), [FailOn({'v2.mp4'}), keep],
                      data_prefix=dict(video='/d'))
    assert ds[1]['filename'] == '/d/v1.mp4'
    with pytest.raises(BadSampleError) as info:
        ds[2 + 4 * 3]  # epoch 3, sample 2
    assert str(info.value) == ('VideoDataset index 2 (/d/v2.mp4): cannot '
                               'read /d/v2.mp4')


def test_on_error_skip_loads_the_next_sample_and_records_it(tmp_path):
    ds = VideoDataset(numbered_list(tmp_path, 6),
                      [FailOn({'v1.mp4', 'v2.mp4', 'v5.mp4'}), pack],
                      on_error='skip', seed=0)
    data = ds[1]
    sample = data['data_samples']
    assert sample.filename == 'v3.mp4' and sample.sample_idx == 3
    assert sample.skipped == [(1, 'v1.mp4', 'cannot read v1.mp4'),
                              (2, 'v2.mp4', 'cannot read v2.mp4')]
    # the replacement draws from its own (seed, epoch, idx) generator
    np.testing.assert_array_equal(
        data['inputs'], np.random.default_rng([0, 0, 3]).random(2))
    # the last sample wraps around to the first, in the same epoch
    wrapped = ds[5 + 6 * 2]
    assert wrapped['data_samples'].sample_idx == 0
    np.testing.assert_array_equal(
        wrapped['inputs'], np.random.default_rng([0, 2, 0]).random(2))
    assert ds[0]['data_samples'].skipped == []
    assert ds.num_skipped == 3


def test_on_error_skip_completes_an_epoch_with_good_samples(tmp_path):
    bad = {'v2.mp4', 'v3.mp4', 'v7.mp4'}
    ds = VideoDataset(numbered_list(tmp_path, 9), [FailOn(bad), pack],
                      on_error='skip')
    samples = [ds[i]['data_samples'] for i in range(len(ds))]
    assert [s.filename for s in samples] == [
        'v0.mp4', 'v1.mp4', 'v4.mp4', 'v4.mp4', 'v4.mp4', 'v5.mp4', 'v6.mp4',
        'v8.mp4', 'v8.mp4']
    skipped = [record[1] for s in samples for record in s.skipped]
    assert skipped == ['v2.mp4', 'v3.mp4', 'v3.mp4', 'v7.mp4']


def test_too_many_consecutive_failures_raise(tmp_path):
    bad = {f'v{i}.mp4' for i in range(2, 8)}
    ds = VideoDataset(numbered_list(tmp_path, 10), [FailOn(bad), keep],
                      on_error='skip', max_skip_retries=3)
    with pytest.raises(RuntimeError) as info:
        ds[2]
    assert str(info.value) == (
        '4 consecutive samples failed to load (indices 2 to 5, '
        'max_skip_retries=3); last error: cannot read v5.mp4. Check the '
        'data, e.g. that data_prefix points at the right folder')
    assert isinstance(info.value.__cause__, BadSampleError)
    # a dataset where every sample is bad also stops (after len(dataset))
    ds = VideoDataset(numbered_list(tmp_path, 2),
                      [FailOn({'v0.mp4', 'v1.mp4'}), keep], on_error='skip')
    with pytest.raises(RuntimeError, match=re.escape(
            '2 consecutive samples failed to load (indices 1 to 0, '
            'max_skip_retries=10)')):
        ds[1]


def test_skip_lets_other_exceptions_propagate(tmp_path):

    def broken(results):
        raise KeyError('imgs')

    ds = VideoDataset(numbered_list(tmp_path, 3), [broken], on_error='skip')
    with pytest.raises(KeyError, match='imgs'):
        ds[0]
    assert ds.num_skipped == 0


def test_pipeline_returning_none_is_an_error(tmp_path):
    ds = VideoDataset(numbered_list(tmp_path, 2), [lambda results: None])
    with pytest.raises(RuntimeError, match=re.escape(
            'the pipeline returned None for sample 1 (v1.mp4)')):
        ds[1]


def test_unknown_transform_names_close_matches(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\n')
    with pytest.raises(KeyError, match=re.escape(
            "'TestVideoDatasetTga' is not in the mmvid::transform registry. "
            'Did you mean: TestVideoDatasetTag')):
        VideoDataset(ann, [dict(type='TestVideoDatasetTga', tag='x')])


def test_training_lists_are_checked_whole_when_built(tmp_path):
    """Caught when the dataset is built, naming file and line (a missing
    label crashed mid-epoch: 'Target -1 is out of bounds'; a BOM hid the
    first path; a path with spaces read as 'label is not an integer')."""
    ann = write(tmp_path, 'a.mp4 1\nb.mp4\n')
    with pytest.raises(ValueError, match=f"^{ann} line 2: no label: every "
                       "sample of a training list needs one \\(expected "
                       "'path label'\\)$"):
        VideoDataset(ann, [keep])
    assert VideoDataset(ann, [keep], test_mode=True)[1]['label'] == -1
    ann = write(tmp_path, 'a.mp4 1\nb.mp4 2\na.mp4 1\n')
    with pytest.raises(ValueError, match=f'^{ann} line 3: repeats the '
                       'sample of line 1 \\(a.mp4\\); each sample is listed '
                       'once'):
        VideoDataset(ann, [keep])
    ann = tmp_path / 'bom.txt'
    ann.write_bytes('\ufeffleft/0001.mp4 1\nleft/00 03.mp4 0\n'.encode())
    notes = []
    from mmvid.datasets.annotation import parse_annotation_file
    from mmvid.datasets.video_dataset import VideoDataset as VD
    infos = parse_annotation_file(str(ann), VD.annotation_fields(None),
                                  require_labels=True, note=notes.append)
    assert notes == [f'{ann}: starts with a UTF-8 byte-order mark (U+FEFF); '
                     'ignored']
    assert [(i['filename'], i['label']) for i in infos] == [
        ('left/0001.mp4', 1), ('left/00 03.mp4', 0)]
    ds = VideoDataset(str(ann), [keep])
    assert ds[1]['filename'] == 'left/00 03.mp4'
