"""tools/data/{hmdb51,ucf101}/build_split_lists.py on small split files in
the datasets' formats, in a subprocess."""
import os.path as osp

from .test_data_tools import REPO, run_tool


def shipped_classes(dataset):
    with open(osp.join(REPO, 'tools', 'data', dataset, 'label_map.txt')) as f:
        return f.read().splitlines()


def make_frames(folder, count):
    folder.mkdir(parents=True)
    for i in range(1, count + 1):
        (folder / f'img_{i:05d}.jpg').write_text('')


def hmdb51_splits(tmp_path):
    """All 51 class files of split 1; two classes list videos."""
    folder = tmp_path / 'testTrainMulti_7030_splits'
    folder.mkdir()
    for cls in shipped_classes('hmdb51'):
        text = {'brush_hair': 'b1.avi 1 \nb2.avi 2 \nb3.avi 0 \n',
                'ride_bike': 'r1.avi 2 \nr2.avi 1 \n'}.get(cls, '')
        (folder / f'{cls}_test_split1.txt').write_text(text)
    return folder


def test_hmdb51_rawframes(tmp_path):
    split_dir = hmdb51_splits(tmp_path)
    frames = tmp_path / 'rawframes'
    for rel, count in (('brush_hair/b1', 3), ('brush_hair/b2', 4),
                       ('ride_bike/r1', 5), ('ride_bike/r2', 6)):
        make_frames(frames / rel, count)
    done = run_tool('hmdb51/build_split_lists.py', split_dir, frames,
                    '--out-dir', tmp_path, '--splits', 1)
    assert done.returncode == 0, done.stderr
    label = shipped_classes('hmdb51').index('ride_bike')
    assert label == 30
    train = tmp_path / 'hmdb51_train_split_1_rawframes.txt'
    val = tmp_path / 'hmdb51_val_split_1_rawframes.txt'
    assert train.read_text() == f'brush_hair/b1 3 0\nride_bike/r2 6 {label}\n'
    assert val.read_text() == f'brush_hair/b2 4 0\nride_bike/r1 5 {label}\n'
    assert f'{train}: 2 of 2 present' in done.stdout


def test_hmdb51_missing_video_is_an_error_unless_allowed(tmp_path):
    split_dir = hmdb51_splits(tmp_path)
    videos = tmp_path / 'videos'
    for rel in ('brush_hair/b1.avi', 'brush_hair/b2.avi', 'ride_bike/r1.avi'):
        (videos / rel).parent.mkdir(parents=True, exist_ok=True)
        (videos / rel).write_text('')
    args = (split_dir, videos, '--format', 'videos', '--splits', 1,
            '--out-dir', tmp_path)
    done = run_tool('hmdb51/build_split_lists.py', *args)
    assert done.returncode == 1
    assert done.stderr == (
        f'error: {split_dir}/ride_bike_test_split1.txt line 2: '
        f'ride_bike/r2.avi: not found at {videos}/ride_bike/r2.avi\n')
    assert not (tmp_path / 'hmdb51_val_split_1_videos.txt').exists()

    done = run_tool('hmdb51/build_split_lists.py', *args, '--allow-missing')
    assert done.returncode == 0, done.stderr
    train = tmp_path / 'hmdb51_train_split_1_videos.txt'
    assert train.read_text() == 'brush_hair/b1.avi 0\n'
    assert (f'{train}: 1 of 2 present; 1 MISSING, left out of the list\n'
            f'  MISSING ride_bike/r2.avi ({split_dir}/ride_bike_test_split1'
            '.txt line 2): not found\n') in done.stdout
    assert 'WARNING: 1 listed videos are missing locally' in done.stdout


def test_ucf101_three_splits_keep_groups_apart(tmp_path):
    classes = shipped_classes('ucf101')
    split_dir = tmp_path / 'ucfTrainTestlist'
    split_dir.mkdir()
    (split_dir / 'classInd.txt').write_text(
        ''.join(f'{i} {c}\r\n' for i, c in enumerate(classes, 1)))
    videos = tmp_path / 'videos'
    names = [f'YoYo/v_YoYo_g{g:02d}_c01.avi' for g in (1, 2, 3)]
    for name in names:
        (videos / name).parent.mkdir(parents=True, exist_ok=True)
        (videos / name).write_text('')
    for split in (1, 2, 3):
        test = names[split - 1]
        (split_dir / f'testlist0{split}.txt').write_text(test + '\r\n')
        (split_dir / f'trainlist0{split}.txt').write_text(''.join(
            f'{n} 101\r\n' for n in names if n != test))
    done = run_tool('ucf101/build_split_lists.py', split_dir, videos,
                    '--format', 'videos', '--out-dir', tmp_path)
    assert done.returncode == 0, done.stderr
    for split in (1, 2, 3):
        val = tmp_path / f'ucf101_val_split_{split}_videos.txt'
        train = tmp_path / f'ucf101_train_split_{split}_videos.txt'
        assert val.read_text() == f'{names[split - 1]} 100\n'
        assert len(train.read_text().splitlines()) == 2
        assert names[split - 1] not in train.read_text()

    # another clip of group 2, which is in train
    (split_dir / 'testlist01.txt').write_text(
        names[0] + '\r\nYoYo/v_YoYo_g02_c05.avi\r\n')
    done = run_tool('ucf101/build_split_lists.py', split_dir, videos,
                    '--format', 'videos', '--out-dir', tmp_path,
                    '--splits', 1)
    assert done.returncode == 1
    assert done.stderr.startswith('error: group YoYo_g02 is in both train (')
    assert 'testlist01.txt line 2: YoYo/v_YoYo_g02_c05.avi)' in done.stderr


def test_argument_checks(tmp_path):
    done = run_tool('ucf101/build_split_lists.py', tmp_path, tmp_path,
                    '--out-dir', tmp_path / 'nowhere')
    assert done.returncode == 1
    assert done.stderr == f'error: --out-dir {tmp_path}/nowhere does not ' \
        'exist\n'
    done = run_tool('ucf101/build_split_lists.py', tmp_path, tmp_path,
                    '--out-dir', tmp_path, '--splits', 1, 1)
    assert done.stderr == 'error: --splits repeats a split: [1, 1]\n'
    done = run_tool('ucf101/build_split_lists.py', tmp_path, tmp_path,
                    '--out-dir', tmp_path, '--splits', 4)
    assert done.returncode == 2 and 'invalid choice: 4' in done.stderr
    done = run_tool('ucf101/build_split_lists.py', tmp_path, tmp_path,
                    '--out-dir', tmp_path)
    assert done.stderr == \
        f'error: split file {tmp_path}/classInd.txt does not exist\n'
