"""Official split entries -> list items: local videos and frame folders,
missing videos, list names."""
import pytest

from mmvid.data_preparation.file_list import ListItem
from mmvid.data_preparation.split_lists import (SplitEntry, check_disjoint,
                                                check_unique, list_name,
                                                resolve_entries, split_line)

ENTRIES = [SplitEntry('walk/a.avi', 1, 'walk_test_split1.txt', 3),
           SplitEntry('jump/b.avi', 0, 'jump_test_split1.txt', 7)]


def make_frames(folder, count):
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        (folder / f'img_{i:05d}.jpg').write_text('')


def test_list_names():
    assert list_name('hmdb51', 'train', 1, 'rawframes') == \
        'hmdb51_train_split_1_rawframes.txt'
    assert list_name('ucf101', 'val', 3, 'videos') == \
        'ucf101_val_split_3_videos.txt'
    with pytest.raises(ValueError, match=r'split must be one of \(1, 2, 3\)'):
        list_name('hmdb51', 'train', 4, 'videos')
    with pytest.raises(ValueError, match="subset must be one of"):
        list_name('hmdb51', 'test', 1, 'videos')
    with pytest.raises(ValueError, match='format must be one of'):
        list_name('hmdb51', 'train', 1, 'frames')


def test_rawframes_count_frames(tmp_path):
    make_frames(tmp_path / 'walk' / 'a', 5)
    make_frames(tmp_path / 'jump' / 'b', 2)
    resolved = resolve_entries(ENTRIES, str(tmp_path), 'rawframes')
    assert resolved.items == [ListItem('walk/a', 1, 5),
                              ListItem('jump/b', 0, 2)]
    assert resolved.missing == []
    assert resolved.summary('l.txt') == 'l.txt: 2 of 2 present'


def test_videos_with_another_extension(tmp_path):
    for rel in ('walk/a.mp4', 'jump/b.mp4'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text('')
    resolved = resolve_entries(ENTRIES, str(tmp_path), 'videos', ext='mp4')
    assert resolved.items == [ListItem('walk/a.mp4', 1),
                              ListItem('jump/b.mp4', 0)]
    with pytest.raises(ValueError, match='without the dot'):
        resolve_entries(ENTRIES, str(tmp_path), 'videos', ext='.mp4')


def test_missing_is_an_error_naming_split_file_line_and_path(tmp_path):
    make_frames(tmp_path / 'walk' / 'a', 5)
    (tmp_path / 'jump' / 'b').mkdir(parents=True)  # no frames
    with pytest.raises(ValueError) as info:
        resolve_entries(ENTRIES[:1], str(tmp_path), 'videos')
    assert str(info.value) == (
        f'walk_test_split1.txt line 3: walk/a.avi: not found at '
        f'{tmp_path}/walk/a.avi')
    with pytest.raises(ValueError, match=r'^jump_test_split1.txt line 7: '
                       r'jump/b.avi: no frames named img_\{:05\}.jpg at '):
        resolve_entries(ENTRIES, str(tmp_path), 'rawframes')
    with pytest.raises(FileNotFoundError, match='dataset folder'):
        resolve_entries(ENTRIES, str(tmp_path / 'nowhere'), 'rawframes')


def test_allow_missing_reports_n_of_m(tmp_path):
    make_frames(tmp_path / 'walk' / 'a', 5)
    resolved = resolve_entries(ENTRIES, str(tmp_path), 'rawframes',
                               allow_missing=True)
    assert resolved.items == [ListItem('walk/a', 1, 5)]
    assert resolved.missing == [(ENTRIES[1], 'not found')]
    assert resolved.summary('l.txt') == \
        'l.txt: 1 of 2 present; 1 MISSING, left out of the list'


def test_line_checks():
    assert split_line(' \r', 'f.txt', 2, (2, )) is None
    assert split_line('a.avi 1 \r', 'f.txt', 2, (2, )) == ['a.avi', '1']
    with pytest.raises(ValueError) as info:
        split_line('a.avi 1 x', 'f.txt', 9, (1, 2))
    assert str(info.value) == \
        "f.txt line 9: expected 1 or 2 fields, got 3: 'a.avi 1 x'"
    with pytest.raises(ValueError, match=r'^f.txt line 7: walk/a.avi is '
                       r'listed again in train \(first at f.txt line 3\)'):
        check_unique([ENTRIES[0]._replace(source='f.txt'), ENTRIES[1],
                      ENTRIES[0]._replace(source='f.txt', line=7)], 'train')
    with pytest.raises(ValueError, match=r'^jump/b.avi is in both train'):
        check_disjoint(ENTRIES, ENTRIES[1:])
