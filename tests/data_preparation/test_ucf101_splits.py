"""UCF-101's official split files -> train and test entries; groups kept
apart."""
import pytest

from mmvid.data_preparation.split_lists import SplitEntry
from mmvid.data_preparation.ucf101_splits import (check_groups_apart,
                                                  read_class_ind,
                                                  read_ucf101_split,
                                                  ucf101_group)

CLASS_IND = '1 ApplyEyeMakeup\r\n2 Archery\r\n3 YoYo\r\n'
# groups 1-2 test, 3-4 train, as the official split 1 (groups 1-7 test)
TRAIN = ''.join(f'{c}/v_{c}_g{g:02d}_c{k:02d}.avi {i}\r\n'
                for i, c in enumerate(['ApplyEyeMakeup', 'Archery', 'YoYo'],
                                      1)
                for g in (3, 4) for k in (1, 2))
TEST = ''.join(f'{c}/v_{c}_g{g:02d}_c01.avi\r\n'
               for c in ['ApplyEyeMakeup', 'Archery', 'YoYo'] for g in (1, 2))


def write_splits(folder, split=1, class_ind=CLASS_IND, train=TRAIN,
                 test=TEST):
    folder.mkdir(exist_ok=True)
    (folder / 'classInd.txt').write_text(class_ind, newline='')
    (folder / f'trainlist0{split}.txt').write_text(train, newline='')
    (folder / f'testlist0{split}.txt').write_text(test, newline='')
    return str(folder)


def groups(entries):
    return {ucf101_group(e.video, e.where) for e in entries}


def test_train_and_test_entries_keep_groups_apart(tmp_path):
    folder = write_splits(tmp_path / 's')
    subsets = read_ucf101_split(folder, 1)
    assert subsets['classes'] == ['ApplyEyeMakeup', 'Archery', 'YoYo']
    assert len(subsets['train']) == 12 and len(subsets['test']) == 6
    assert subsets['train'][4] == SplitEntry(
        'Archery/v_Archery_g03_c01.avi', 1, f'{folder}/trainlist01.txt', 5)
    assert subsets['test'][5] == SplitEntry(
        'YoYo/v_YoYo_g02_c01.avi', 2, f'{folder}/testlist01.txt', 6)
    assert groups(subsets['train']) == {
        f'{c}_g{g:02d}' for c in subsets['classes'] for g in (3, 4)}
    assert not groups(subsets['train']) & groups(subsets['test'])
    assert read_ucf101_split(folder, 1, ['ApplyEyeMakeup', 'Archery',
                                         'YoYo'])['test'] == subsets['test']
    with pytest.raises(ValueError, match=r'classInd.txt: its 3 classes '
                       r'differ from the 3 given \(the label map\)'):
        read_ucf101_split(folder, 1, ['Archery', 'ApplyEyeMakeup', 'YoYo'])


def test_a_group_in_train_and_test_is_reported(tmp_path):
    test = TEST + 'Archery/v_Archery_g04_c07.avi\r\n'
    folder = write_splits(tmp_path / 's', test=test)
    with pytest.raises(ValueError) as info:
        read_ucf101_split(folder, 1)
    assert str(info.value) == (
        f'group Archery_g04 is in both train ({folder}/trainlist01.txt '
        'line 7: Archery/v_Archery_g04_c01.avi) and test '
        f'({folder}/testlist01.txt line 7: Archery/v_Archery_g04_c07.avi); '
        'the official splits keep groups apart')


def test_group_names():
    assert ucf101_group('YoYo/v_YoYo_g25_c05.avi', 'w') == 'YoYo_g25'
    for bad in ('YoYo/v_YoYo_c05.avi', 'Archery/v_YoYo_g25_c05.avi'):
        with pytest.raises(ValueError, match='is not named <Class>/v_<Class>'
                           '_gXX_cYY.avi'):
            ucf101_group(bad, 'w')
    entry = SplitEntry('YoYo/v_YoYo_g01_c01.avi', 2, 't.txt', 1)
    check_groups_apart([entry._replace(video='YoYo/v_YoYo_g02_c01.avi')],
                       [entry])


@pytest.mark.parametrize('text, message', [
    ('1 A\n3 B\n', " line 2: expected index 2, got '3'"),
    ('1 A\n2 A\n', " line 2: class 'A' repeats"),
    ('1 A B\n', " line 1: expected 2 fields, got 3: '1 A B'"),
    ('\n', ': no classes'),
])
def test_class_ind_errors(tmp_path, text, message):
    path = tmp_path / 'classInd.txt'
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        read_class_ind(str(path))
    assert str(info.value) == f'{path}{message}'


@pytest.mark.parametrize('which, text, message', [
    ('train', 'YoYo/v_YoYo_g03_c01.avi 2\r\n', "trainlist01.txt line 1: "
     "label '2' does not match class YoYo (index 3 in classInd.txt)"),
    ('train', 'YoYo/v_YoYo_g03_c01.avi\r\n', "trainlist01.txt line 1: "
     "expected 2 fields, got 1: 'YoYo/v_YoYo_g03_c01.avi'"),
    ('test', 'YoYo/v_YoYo_g01_c01.avi 3\r\n', "testlist01.txt line 1: "
     "expected 1 fields, got 2"),
    ('test', 'Yo/v_Yo_g01_c01.avi\r\n', "testlist01.txt line 1: class "
     "folder 'Yo' of 'Yo/v_Yo_g01_c01.avi' is not in classInd.txt"),
    ('test', 'YoYo/v_YoYo_g01_c01.mp4\r\n', "testlist01.txt line 1: "
     "expected a <video>.avi name, got 'v_YoYo_g01_c01.mp4'"),
    ('test', TEST + TEST.splitlines()[0] + '\r\n', 'testlist01.txt line 7: '
     'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi is listed again in the '
     'test subset of split 1'),
    ('test', 'YoYo/v_YoYo_g03_c01.avi\r\n', 'YoYo/v_YoYo_g03_c01.avi is in '
     'both train'),
])
def test_malformed_lines_name_file_and_line(tmp_path, which, text, message):
    folder = write_splits(tmp_path / 's', **{which: text})
    with pytest.raises(ValueError) as info:
        read_ucf101_split(folder, 1)
    assert str(info.value).startswith(f'{folder}/') or 'both' in message
    assert message in str(info.value)
