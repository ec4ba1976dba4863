"""HMDB-51's official split files -> train and test entries."""
import pytest

from mmvid.data_preparation.hmdb51_splits import (read_hmdb51_split,
                                                  split_files)
from mmvid.data_preparation.split_lists import SplitEntry

CLASSES = ['brush_hair', 'cartwheel', 'pour']


def write_splits(folder, split=1, **texts):
    folder.mkdir(exist_ok=True)
    for cls in CLASSES:
        # the real files end their lines with a space
        text = texts.get(cls, f'{cls}_a.avi 1 \n{cls}_b.avi 2 \n'
                         f'{cls}_c.avi 0 \n')
        (folder / f'{cls}_test_split{split}.txt').write_text(text)
    return str(folder)


def test_files_by_class_with_underscores(tmp_path):
    folder = write_splits(tmp_path / 's')
    write_splits(tmp_path / 's', split=2)
    assert split_files(folder, 1) == {
        cls: f'{folder}/{cls}_test_split1.txt' for cls in CLASSES}


def test_train_and_test_entries(tmp_path):
    folder = write_splits(tmp_path / 's')
    subsets = read_hmdb51_split(folder, 1, ['brush_hair', 'cartwheel',
                                            'pour'])
    src = f'{folder}/cartwheel_test_split1.txt'
    assert subsets['train'][1] == SplitEntry('cartwheel/cartwheel_a.avi', 1,
                                             src, 1)
    assert [(e.video, e.label) for e in subsets['train']] == [
        ('brush_hair/brush_hair_a.avi', 0), ('cartwheel/cartwheel_a.avi', 1),
        ('pour/pour_a.avi', 2)]
    assert [(e.video, e.label, e.line) for e in subsets['test']] == [
        ('brush_hair/brush_hair_b.avi', 0, 2),
        ('cartwheel/cartwheel_b.avi', 1, 2), ('pour/pour_b.avi', 2, 2)]
    train = {e.video for e in subsets['train']}
    assert not train & {e.video for e in subsets['test']}
    # labels follow the given label map
    subsets = read_hmdb51_split(folder, 1, ['pour', 'cartwheel',
                                            'brush_hair'])
    assert [(e.video, e.label) for e in subsets['test']][0] == \
        ('pour/pour_b.avi', 0)


def test_classes_must_match_the_files(tmp_path):
    folder = write_splits(tmp_path / 's')
    with pytest.raises(ValueError, match=r"no file for \['jump'\], files for "
                       r"unknown classes \['pour'\]"):
        read_hmdb51_split(folder, 1, ['brush_hair', 'cartwheel', 'jump'])
    with pytest.raises(ValueError, match=r"do not match the 4 classes"):
        read_hmdb51_split(folder, 1, CLASSES + ['pour'])
    with pytest.raises(FileNotFoundError, match='split folder'):
        read_hmdb51_split(str(tmp_path / 'nowhere'), 1)


@pytest.mark.parametrize('text, message', [
    ('a.avi 1\nb.avi\n', "line 2: expected 2 fields, got 1: 'b.avi'"),
    ('a.avi 3\n', "line 1: the id must be 0 (unused), 1 (train) or 2 "
     "(test), got '3'"),
    ('a.mp4 1\n', "line 1: expected a <video>.avi name, got 'a.mp4'"),
    ('a.avi 1\nb.avi 2\na.avi 1\n', 'line 3: pour/a.avi is listed again in '
     'the train subset of split 1 (first at '),
    ('a.avi 1\nb.avi 2\na.avi 2\n', 'pour/a.avi is in both train ('),
])
def test_malformed_lines_name_file_and_line(tmp_path, text, message):
    folder = write_splits(tmp_path / 's', pour=text)
    with pytest.raises(ValueError) as info:
        read_hmdb51_split(folder, 1, CLASSES)
    assert message in str(info.value)
    assert f'{folder}/pour_test_split1.txt' in str(info.value)
