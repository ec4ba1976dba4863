"""Annotation lists and label maps: every format, and an exact error (file,
1-based line, value, expected format) for every malformed line."""
import re

import numpy as np
import pytest

from mmvid.datasets.annotation import (Field, load_label_map,
                                       parse_annotation_file)

VIDEO = (Field('filename', 'path'), )
RAWFRAMES = (Field('frame_dir', 'frame_dir'),
             Field('total_frames', 'total_frames', True))
OFFSET = (Field('frame_dir', 'frame_dir'), Field('offset', 'offset', True),
          Field('total_frames', 'total_frames', True))


def write(tmp_path, text, name='list.txt'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_video_lines_blank_lines_and_unlabeled(tmp_path):
    ann = write(tmp_path,
                'a/0.mp4 3\n\n   \nb/1.mp4\t7\nc/2.mp4\nd/3.mp4 -1\n')
    assert parse_annotation_file(ann, VIDEO) == [
        dict(filename='a/0.mp4', label=3),
        dict(filename='b/1.mp4', label=7),
        dict(filename='c/2.mp4', label=-1),
        dict(filename='d/3.mp4', label=-1),
    ]


def test_crlf_and_missing_final_newline(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\r\nb.mp4 2')
    assert parse_annotation_file(ann, VIDEO) == [
        dict(filename='a.mp4', label=1), dict(filename='b.mp4', label=2)]


def test_rawframe_and_offset_lines(tmp_path):
    ann = write(tmp_path, 'some/directory-1 163 1\nsome/directory-2 0 0\n')
    assert parse_annotation_file(ann, RAWFRAMES) == [
        dict(frame_dir='some/directory-1', total_frames=163, label=1),
        dict(frame_dir='some/directory-2', total_frames=0, label=0)]
    ann = write(tmp_path, 'dir 10 163 4\ndir2 0 5\n', 'offset.txt')
    assert parse_annotation_file(ann, OFFSET) == [
        dict(frame_dir='dir', offset=10, total_frames=163, label=4),
        dict(frame_dir='dir2', offset=0, total_frames=5, label=-1)]


def test_multi_label_lines_are_multi_hot(tmp_path):
    ann = write(tmp_path, 'a.mp4 0 3\nb.mp4 4\nc.mp4 1 1 2\nd.mp4\n')
    infos = parse_annotation_file(ann, VIDEO, multi_class=True,
                                  num_classes=5)
    assert [info['filename'] for info in infos] == [
        'a.mp4', 'b.mp4', 'c.mp4', 'd.mp4']
    expected = [[1, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 1, 1, 0, 0]]
    for info, row in zip(infos, expected):
        assert info['label'].dtype == np.float32
        np.testing.assert_array_equal(info['label'], row)
    assert infos[3]['label'] == -1


def test_custom_delimiter_keeps_spaces_in_paths(tmp_path):
    ann = write(tmp_path, 'my videos/a b.mp4, 2\nc.mp4,0\n')
    assert parse_annotation_file(ann, VIDEO, delimiter=',') == [
        dict(filename='my videos/a b.mp4', label=2),
        dict(filename='c.mp4', label=0)]


def test_missing_annotation_file(tmp_path):
    missing = str(tmp_path / 'nope.txt')
    with pytest.raises(FileNotFoundError, match='annotation file not found: '
                       + re.escape(missing)):
        parse_annotation_file(missing, VIDEO)


def test_inconsistent_arguments(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\n')
    with pytest.raises(ValueError, match='multi_class=True needs num_classes'):
        parse_annotation_file(ann, VIDEO, multi_class=True)
    with pytest.raises(ValueError, match="delimiter must be a non-empty "
                       "string, got ''"):
        parse_annotation_file(ann, VIDEO, delimiter='')
    with pytest.raises(ValueError, match='num_classes must be a positive int, '
                       'got 0'):
        parse_annotation_file(ann, VIDEO, num_classes=0)


# (fields, options, second line, message after "<file> line 2: ")
MALFORMED = [
    (VIDEO, {}, 'b.mp4 3x',
     "label '3x' is not an integer (expected 'path label')"),
    (VIDEO, {}, 'b.mp4 2.0',
     "label '2.0' is not an integer (expected 'path label')"),
    (VIDEO, dict(num_classes=400), 'b.mp4 400',
     'label 400 is out of range: labels must be < num_classes=400 '
     "(expected 'path label')"),
    (VIDEO, {}, 'b.mp4 -2',
     'label -2 is out of range: labels are >= 0, or -1 for an unlabeled '
     "sample (expected 'path label')"),
    (VIDEO, {}, 'b.mp4 1 2',
     "expected 1 label, got 2 ('1 2'); for a multi-label list set "
     "multi_class=True and num_classes (expected 'path label')"),
    (VIDEO, dict(multi_class=True, num_classes=4), 'b.mp4 1 -1',
     "label -1 (unlabeled) cannot be combined with other labels, got '1 -1' "
     "(expected 'path label1 [label2 ...]')"),
    (VIDEO, dict(multi_class=True, num_classes=4), 'b.mp4 1 4',
     'label 4 is out of range: labels must be < num_classes=4 '
     "(expected 'path label1 [label2 ...]')"),
    (VIDEO, dict(delimiter=','), ',1',
     "empty path (expected 'path,label')"),
    (RAWFRAMES, {}, 'dir',
     "missing field 'total_frames' (expected 'frame_dir total_frames "
     "label')"),
    (RAWFRAMES, {}, 'dir 1e3 2',
     "total_frames '1e3' is not an integer (expected 'frame_dir "
     "total_frames label')"),
    (RAWFRAMES, {}, 'dir -5 2',
     "total_frames -5 is negative (expected 'frame_dir total_frames "
     "label')"),
    (OFFSET, {}, 'dir 100',
     "missing field 'total_frames' (expected 'frame_dir offset total_frames "
     "label')"),
    (OFFSET, {}, 'dir x 100 1',
     "offset 'x' is not an integer (expected 'frame_dir offset total_frames "
     "label')"),
    (RAWFRAMES, {}, 'dir 100 3 4',
     "expected 1 label, got 2 ('3 4'); for a multi-label list set "
     "multi_class=True and num_classes (expected 'frame_dir total_frames "
     "label')"),
]


@pytest.mark.parametrize('fields,options,line,message', MALFORMED)
def test_malformed_line_names_file_and_line(tmp_path, fields, options, line,
                                            message):
    good = {VIDEO: 'a.mp4 0', RAWFRAMES: 'a 1 0', OFFSET: 'a 0 1 0'}[fields]
    if options.get('delimiter') == ',':
        good = 'a.mp4,0'
    ann = write(tmp_path, f'{good}\n{line}\n')
    with pytest.raises(ValueError) as info:
        parse_annotation_file(ann, fields, **options)
    assert str(info.value) == f'{ann} line 2: {message}'


def test_line_numbers_count_blank_lines(tmp_path):
    ann = write(tmp_path, 'a.mp4 1\n\n\nb.mp4 x\n')
    with pytest.raises(ValueError, match=re.escape(
            f"{ann} line 4: label 'x' is not an integer")):
        parse_annotation_file(ann, VIDEO)


def test_label_map_one_name_per_line(tmp_path):
    path = write(tmp_path, 'abseiling\nair drumming\n  answering questions \n'
                 '\n\n', 'labels.txt')
    assert load_label_map(path) == ('abseiling', 'air drumming',
                                    'answering questions')


@pytest.mark.parametrize('text,message', [
    ('a\n\nb\n', ' line 2: empty class name (the class index is the line '
     'number, so blank lines are only allowed at the end)'),
    ('a\nb\na\n', " line 3: class name 'a' repeats line 1"),
    ('\n  \n', ': the label file has no class names'),
])
def test_label_map_errors(tmp_path, text, message):
    path = write(tmp_path, text, 'labels.txt')
    with pytest.raises(ValueError) as info:
        load_label_map(path)
    assert str(info.value) == path + message


def test_missing_label_map(tmp_path):
    missing = str(tmp_path / 'labels.txt')
    with pytest.raises(FileNotFoundError,
                       match=f'label file not found: {re.escape(missing)}'):
        load_label_map(missing)
