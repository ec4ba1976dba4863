"""Annotation lists from class folders and from Kinetics CSVs."""
import os

import pytest

from mmvid.data_preparation.file_list import (
    ListItem, count_frames, format_line, kinetics_clip_name,
    list_from_kinetics_csv, list_from_tree, read_label_map, shuffle_items,
    split_items, write_file_list, write_label_map)


def touch(path, text=''):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_frames(folder, count, extra=()):
    for i in range(1, count + 1):
        touch(folder / f'img_{i:05d}.jpg')
    for name in extra:
        touch(folder / name)


def test_rawframes_tree(tmp_path):
    make_frames(tmp_path / 'walk' / 'v1', 3)
    make_frames(tmp_path / 'jump' / 'v2', 2, extra=['.done', 'flow_x.jpg'])
    make_frames(tmp_path / 'jump' / 'v0', 4)
    (tmp_path / 'jump' / 'empty').mkdir()
    make_frames(tmp_path / 'jump' / '.v3.partial-1-0123abcd', 1)
    touch(tmp_path / 'jump' / 'readme.txt')
    result = list_from_tree(str(tmp_path), format='rawframes')
    assert result.classes == ['jump', 'walk']
    assert result.items == [ListItem('jump/v0', 0, 4),
                            ListItem('jump/v2', 0, 2),
                            ListItem('walk/v1', 1, 3)]
    assert result.skipped == {
        'jump/empty': 'no frames named like img_{:05}.jpg'}
    out = tmp_path / 'train.txt'
    write_file_list(result.items, str(out), 'rawframes')
    assert out.read_text() == 'jump/v0 4 0\njump/v2 2 0\nwalk/v1 3 1\n'


def test_video_tree_with_given_classes(tmp_path):
    for rel in ('b/x.mp4', 'b/y.avi', 'a/z.mp4', 'a/w.mp4'):
        touch(tmp_path / rel)
    result = list_from_tree(str(tmp_path), format='videos', ext='mp4',
                            classes=['b', 'a', 'c'])
    assert result.items == [ListItem('a/w.mp4', 1), ListItem('a/z.mp4', 1),
                            ListItem('b/x.mp4', 0)]
    assert result.classes == ['b', 'a', 'c']
    with pytest.raises(ValueError, match=r'class folder .*/a is not in'):
        list_from_tree(str(tmp_path), format='videos', classes=['b'])
    with pytest.raises(ValueError, match="format must be one of"):
        list_from_tree(str(tmp_path), format='frames')


CSV = '''label,youtube_id,time_start,time_end,split,is_cc
abseiling,---QUuC4vJs,84,94,val,0
"passing American football (in game)",--6bJUbfpnQ,17,27,val,0
abseiling,-0Q2UU0lEyY,0.0,10.0,val,0
'''


def test_kinetics_csv_videos(tmp_path):
    csv_path = tmp_path / 'val.csv'
    csv_path.write_text(CSV)
    result = list_from_kinetics_csv(str(csv_path))
    assert result.classes == ['abseiling',
                              'passing American football (in game)']
    assert result.items == [
        ListItem('abseiling/---QUuC4vJs_000084_000094.mp4', 0),
        ListItem('passing_American_football_(in_game)/'
                 '--6bJUbfpnQ_000017_000027.mp4', 1),
        ListItem('abseiling/-0Q2UU0lEyY_000000_000010.mp4', 0)]
    flat = list_from_kinetics_csv(str(csv_path), class_dirs='flat',
                                  classes=['x', 'abseiling',
                                           'passing American football '
                                           '(in game)'])
    assert [item.path for item in flat.items] == [
        '---QUuC4vJs_000084_000094.mp4', '--6bJUbfpnQ_000017_000027.mp4',
        '-0Q2UU0lEyY_000000_000010.mp4']
    assert [item.label for item in flat.items] == [1, 2, 1]
    # with a root, clips not downloaded are skipped
    touch(tmp_path / 'videos' / '--6bJUbfpnQ_000017_000027.mp4')
    present = list_from_kinetics_csv(str(csv_path), str(tmp_path / 'videos'),
                                     class_dirs='flat')
    assert present.items == [ListItem('--6bJUbfpnQ_000017_000027.mp4', 1)]
    assert present.skipped == {'---QUuC4vJs_000084_000094.mp4': 'missing',
                               '-0Q2UU0lEyY_000000_000010.mp4': 'missing'}
    spaced = list_from_kinetics_csv(str(csv_path), class_dirs='label')
    with pytest.raises(ValueError, match='has a space'):
        format_line(spaced.items[1], 'videos')


def test_kinetics_csv_rawframes_and_unlabeled(tmp_path):
    csv_path = tmp_path / 'val.csv'
    csv_path.write_text(CSV)
    make_frames(tmp_path / 'frames' / 'abseiling' /
                '---QUuC4vJs_000084_000094', 7)
    result = list_from_kinetics_csv(str(csv_path), str(tmp_path / 'frames'),
                                    format='rawframes')
    assert result.items == [
        ListItem('abseiling/---QUuC4vJs_000084_000094', 0, 7)]
    assert len(result.skipped) == 2
    test_csv = tmp_path / 'test.csv'
    test_csv.write_text('youtube_id,time_start,time_end,split\n'
                        'aaaaaaaaaaa,5,15,test\n')
    unlabeled = list_from_kinetics_csv(str(test_csv))
    assert unlabeled.items == [ListItem('test/aaaaaaaaaaa_000005_000015.mp4',
                                        -1)]
    assert unlabeled.classes == []
    assert kinetics_clip_name('abc', 84, 94) == 'abc_000084_000094'


@pytest.mark.parametrize('text, message', [
    ('label,youtube_id,time_start\nx,a,1\n', r"lacks columns \['time_end'\]"),
    ('label,youtube_id,time_start,time_end\nx,a,1,2.5\n',
     r'line 2: time_end must be a whole number of seconds, got .2\.5.'),
    ('label,youtube_id,time_start,time_end\ny,a,1,2\n',
     r"line 2: label 'y' is not in the given classes"),
])
def test_kinetics_csv_errors(tmp_path, text, message):
    csv_path = tmp_path / 'k.csv'
    csv_path.write_text(text)
    with pytest.raises(ValueError, match=message):
        list_from_kinetics_csv(str(csv_path), classes=['x'])


def test_rawframes_csv_needs_root(tmp_path):
    with pytest.raises(ValueError, match='needs root'):
        list_from_kinetics_csv(str(tmp_path / 'k.csv'), format='rawframes')


def test_count_frames_template(tmp_path):
    make_frames(tmp_path, 3, extra=['img_.jpg', 'x_00001.jpg', '00009.png'])
    assert count_frames(str(tmp_path)) == 3
    assert count_frames(str(tmp_path), '{:05}.png') == 1
    with pytest.raises(ValueError, match='exactly one {} field'):
        count_frames(str(tmp_path), 'img.jpg')


def test_shuffle_split_and_writers(tmp_path):
    items = [ListItem(f'c{label}/v{i}', label) for label in range(2)
             for i in range(10)]
    shuffled = shuffle_items(items, seed=3)
    assert shuffled == shuffle_items(items, seed=3)
    assert shuffled != items and sorted(shuffled) == sorted(items)
    train, val = split_items(items, val_ratio=0.3, seed=0)
    assert [sum(i.label == c for i in val) for c in (0, 1)] == [3, 3]
    assert sorted(train + val) == sorted(items)
    assert train == [i for i in items if i not in val]  # order kept
    assert split_items(items, 0.3, seed=0) == (train, val)
    with pytest.raises(ValueError, match=r'val_ratio must be in \(0, 1\)'):
        split_items(items, 1.0)
    write_file_list(items[:2], str(tmp_path / 'l.txt'), 'videos')
    assert (tmp_path / 'l.txt').read_text() == 'c0/v0 0\nc0/v1 0\n'
    with pytest.raises(ValueError, match='needs total_frames'):
        write_file_list(items[:1], str(tmp_path / 'r.txt'), 'rawframes')
    assert not (tmp_path / 'r.txt').exists()
    write_label_map(['walk', 'jump'], str(tmp_path / 'map.txt'))
    assert (tmp_path / 'map.txt').read_text() == 'walk\njump\n'
    assert read_label_map(str(tmp_path / 'map.txt')) == ['walk', 'jump']
    assert sorted(os.listdir(tmp_path)) == ['l.txt', 'map.txt']
