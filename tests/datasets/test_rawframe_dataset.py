"""``RawframeDataset``: frame-folder lists with and without offsets,
multi-label lists, data_prefix joining and the frame file conventions."""
import os.path as osp
import re

import cv2
import numpy as np
import pytest

from mmvid.datasets.errors import BadSampleError
from mmvid.datasets.rawframe_dataset import RawframeDataset


def keep(results):
    """Identity pipeline step: the dataset's sample dict itself."""
    return results


def write(tmp_path, text, name='list.txt'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_samples_have_the_contract_keys(tmp_path):
    ann = write(tmp_path, 'some/directory-1 163 1\n\nother 40\n')
    ds = RawframeDataset(ann, [keep], data_prefix=dict(img='/data/frames'),
                         test_mode=True)  # 'other' is unlabeled
    assert len(ds) == 2
    first = ds[0]
    assert set(first) == {'frame_dir', 'total_frames', 'offset', 'label',
                          'filename_tmpl', 'start_index', 'modality',
                          'sample_idx', 'rng'}
    assert first['frame_dir'] == '/data/frames/some/directory-1'
    assert (first['total_frames'], first['offset'], first['label']) == (163,
                                                                        0, 1)
    assert first['filename_tmpl'] == 'img_{:05}.jpg'
    assert first['start_index'] == 1 and first['modality'] == 'RGB'
    assert isinstance(first['rng'], np.random.Generator)
    second = ds[1]
    assert (second['frame_dir'], second['total_frames'], second['label'],
            second['sample_idx']) == ('/data/frames/other', 40, -1, 1)


def test_with_offset(tmp_path):
    ann = write(tmp_path, 'a 10 163 4\nb 0 7 0\n')
    ds = RawframeDataset(ann, [keep], with_offset=True)
    assert [(ds[i]['frame_dir'], ds[i]['offset'], ds[i]['total_frames'],
             ds[i]['label']) for i in range(2)] == [('a', 10, 163, 4),
                                                    ('b', 0, 7, 0)]


def test_multi_label(tmp_path):
    ann = write(tmp_path, 'a 30 0 3\nb 12 2\n')
    ds = RawframeDataset(ann, [keep], multi_class=True, num_classes=4,
                         modality='Flow', filename_tmpl='{:06d}.png',
                         start_index=0)
    np.testing.assert_array_equal(ds[0]['label'], [1, 0, 0, 1])
    np.testing.assert_array_equal(ds[1]['label'], [0, 0, 1, 0])
    assert ds[0]['label'].dtype == np.float32
    assert ds[0]['total_frames'] == 30
    assert ds[1]['filename_tmpl'] == '{:06d}.png'
    assert ds[1]['start_index'] == 0 and ds[1]['modality'] == 'Flow'


def test_frame_files_follow_the_template_from_start_index(tmp_path):
    """Frames written as img_00001.jpg ... are found from the sample dict."""
    folder = tmp_path / 'frames' / 'clip'
    folder.mkdir(parents=True)
    for i in range(1, 4):
        cv2.imwrite(str(folder / f'img_{i:05}.jpg'),
                    np.full((4, 4, 3), 10 * i, np.uint8))
    ann = write(tmp_path, 'clip 3 0\n')
    info = RawframeDataset(ann, [keep], data_prefix=dict(
        img=str(tmp_path / 'frames')))[0]
    paths = [osp.join(info['frame_dir'], info['filename_tmpl'].format(
        info['start_index'] + info['offset'] + i))
        for i in range(info['total_frames'])]
    assert [int(cv2.imread(p)[0, 0, 0]) for p in paths] == [10, 20, 30]


@pytest.mark.parametrize('text,options,message', [
    ('a 100 1\nb\n', {},
     "line 2: missing field 'total_frames' (expected 'frame_dir "
     "total_frames label')"),
    ('a 100 1\nb 12.5 3\n', {},
     "line 2: total_frames '12.5' is not an integer (expected 'frame_dir "
     "total_frames label')"),
    ('a 0 100 1\nb 100\n', dict(with_offset=True),
     "line 2: missing field 'total_frames' (expected 'frame_dir offset "
     "total_frames label')"),
    ('a 0 100 1\nb -3 100 1\n', dict(with_offset=True),
     "line 2: offset -3 is negative (expected 'frame_dir offset "
     "total_frames label')"),
    ('a 10 1\nb 10 5\n', dict(num_classes=5),
     'line 2: label 5 is out of range: labels must be < num_classes=5 '
     "(expected 'frame_dir total_frames label')"),
    ('a 10 1\nb 10 3 4\n', {},
     "line 2: expected 1 label, got 2 ('3 4'); for a multi-label list set "
     "multi_class=True and num_classes (expected 'frame_dir total_frames "
     "label')"),
])
def test_malformed_lines(tmp_path, text, options, message):
    ann = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        RawframeDataset(ann, [keep], **options)
    assert str(info.value) == f'{ann} {message}'


@pytest.mark.parametrize('kwargs,message', [
    (dict(data_prefix=dict(video='x')),
     "RawframeDataset: data_prefix must be dict(img=folder), got "
     "{'video': 'x'}"),
    (dict(filename_tmpl='img.jpg'),
     "RawframeDataset: filename_tmpl must be a str.format template of one "
     "frame index such as 'img_{:05}.jpg', got 'img.jpg'"),
    (dict(filename_tmpl='img_{x}.jpg'),
     'RawframeDataset: filename_tmpl must be a str.format template'),
    (dict(with_offset='yes'),
     "RawframeDataset: with_offset must be a bool, got 'yes'"),
    (dict(multi_class=True),
     'RawframeDataset: multi_class=True needs num_classes'),
])
def test_strict_arguments(tmp_path, kwargs, message):
    ann = write(tmp_path, 'a 10 1\n')
    with pytest.raises(ValueError, match=re.escape(message)):
        RawframeDataset(ann, [keep], **kwargs)
    with pytest.raises(TypeError, match="unexpected keyword argument "
                       "'delimiter'"):
        RawframeDataset(ann, [keep], delimiter=',')


def test_on_error_raise_names_the_frame_folder(tmp_path):

    def missing_frame(results):
        raise BadSampleError(f'frame img_00007.jpg missing in '
                             f'{results["frame_dir"]}')

    ann = write(tmp_path, 'a 10 1\nb 10 1\n')
    ds = RawframeDataset(ann, [missing_frame], data_prefix=dict(img='/f'))
    with pytest.raises(BadSampleError) as info:
        ds[1]
    assert str(info.value) == ('RawframeDataset index 1 (/f/b): frame '
                               'img_00007.jpg missing in /f/b')
