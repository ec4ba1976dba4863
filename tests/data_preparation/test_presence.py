"""How many clips of a Kinetics CSV / annotation list are on disk, which
are missing, and the check_present tool."""
import os.path as osp
import subprocess
import sys

import pytest

from mmvid.data_preparation.presence import (Presence, check_presence,
                                             csv_presence, list_presence,
                                             presence_report, write_missing)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'kinetics', 'check_present.py')
CSV = ('label,youtube_id,time_start,time_end,split,is_cc\n'
       'abseiling,--07WQ2iBlw,1,11,val,0\n'
       'air drumming,-0Ts5PpRSEE,84,94,val,0\n'
       'air drumming,0aB-9NqFxCk,5,15,val,0\n'
       'abseiling,zzz123,300,310,val,0\n')


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('')


@pytest.fixture
def kinetics(tmp_path):
    """A CSV of 4 clips; 3 on disk in three layouts, one missing."""
    csv_path = tmp_path / 'val.csv'
    csv_path.write_text(CSV)
    videos = tmp_path / 'videos'
    touch(videos / 'abseiling' / '--07WQ2iBlw_000001_000011.mp4')
    touch(videos / 'air_drumming' / '-0Ts5PpRSEE_000084_000094.mp4')
    touch(videos / 'air drumming' / '0aB-9NqFxCk_000005_000015.mp4')
    return csv_path, videos


def test_any_layout_finds_every_clip_folder(kinetics):
    csv_path, videos = kinetics
    touch(videos / 'zzz123_000300_000310.mp4')  # flat
    presence = csv_presence(str(csv_path), str(videos))
    assert presence == Presence(
        ['abseiling/--07WQ2iBlw_000001_000011.mp4',
         'air_drumming/-0Ts5PpRSEE_000084_000094.mp4',
         'air drumming/0aB-9NqFxCk_000005_000015.mp4',
         'zzz123_000300_000310.mp4'], [])
    assert presence.summary('val.csv') == 'val.csv: 4 of 4 present'


def test_counts_and_missing_per_layout(kinetics):
    csv_path, videos = kinetics
    underscore = csv_presence(str(csv_path), str(videos),
                              class_dirs='underscore')
    assert underscore.missing == [
        'air_drumming/0aB-9NqFxCk_000005_000015.mp4',
        'abseiling/zzz123_000300_000310.mp4']
    assert underscore.summary('v') == \
        'v: 2 of 4 present; 2 MISSING, see the missing list'
    label = csv_presence(str(csv_path), str(videos), class_dirs='label')
    assert label.present == ['abseiling/--07WQ2iBlw_000001_000011.mp4',
                             'air drumming/0aB-9NqFxCk_000005_000015.mp4']
    flat = csv_presence(str(csv_path), str(videos), class_dirs='flat')
    assert (len(flat.present), len(flat.missing)) == (0, 4)
    found = csv_presence(str(csv_path), str(videos))
    assert (len(found.present), found.missing) == (
        3, ['abseiling/zzz123_000300_000310.mp4'])
    with pytest.raises(ValueError, match='class_dirs must be one of'):
        csv_presence(str(csv_path), str(videos), class_dirs='crawler')


def test_other_extension(kinetics):
    csv_path, videos = kinetics
    touch(videos / 'abseiling' / 'zzz123_000300_000310.webm')
    presence = csv_presence(str(csv_path), str(videos), ext='webm')
    assert presence.present == ['abseiling/zzz123_000300_000310.webm']


@pytest.mark.parametrize('row, message', [
    ('abseiling,x1,1,11\n',
     'line 3: expected the 6 fields of the header '
     '(label,youtube_id,time_start,time_end,split,is_cc), got 4'),
    ('abseiling,x1,1,11,val,0,extra\n', 'line 3: expected the 6 fields'),
    ('abseiling,x1,one,11,val,0\n',
     "line 3: time_start must be a whole number of seconds, got 'one'"),
])
def test_bad_row_names_file_and_line(kinetics, row, message):
    csv_path, videos = kinetics
    lines = CSV.splitlines(keepends=True)
    csv_path.write_text(lines[0] + lines[1] + row)
    with pytest.raises(ValueError) as info:
        csv_presence(str(csv_path), str(videos))
    assert str(info.value).startswith(f'{csv_path} {message}')


def test_missing_folder_or_csv(kinetics, tmp_path):
    csv_path, videos = kinetics
    with pytest.raises(FileNotFoundError, match='video folder .* does not'):
        csv_presence(str(csv_path), str(tmp_path / 'nope'))
    with pytest.raises(FileNotFoundError, match='annotation CSV .* does'):
        csv_presence(str(tmp_path / 'no.csv'), str(videos))


def test_annotation_lists(tmp_path):
    touch(tmp_path / 'walk' / 'a.mp4')
    (tmp_path / 'walk' / 'b').mkdir()
    lst = tmp_path / 'list.txt'
    lst.write_text('walk/a.mp4 0\nwalk/c.mp4 0\n\nwalk/b 12 0\n'
                   'walk/d 3 1\n')
    presence = list_presence(str(lst), str(tmp_path))
    assert presence == Presence(['walk/a.mp4', 'walk/b'],
                                ['walk/c.mp4', 'walk/d'])
    assert check_presence(str(lst), str(tmp_path)) == presence
    lst.write_text('walk/a.mp4 0\nwalk/a.mp4\n')
    with pytest.raises(ValueError) as info:
        list_presence(str(lst), str(tmp_path))
    assert str(info.value) == (f"{lst} line 2: expected 2 or 3 fields, got "
                               "1: 'walk/a.mp4'")


def test_report_and_missing_file(tmp_path):
    presence = Presence(['a'], [f'm{i}' for i in range(12)])
    lines = presence_report(presence, 'x', shown=2)
    assert lines == ('x: 1 of 13 present; 12 MISSING, see the missing list',
                     '  MISSING m0', '  MISSING m1', '  ... and 10 more')
    out = tmp_path / 'missing.txt'
    write_missing(presence.missing, str(out))
    assert out.read_text().splitlines() == presence.missing
    assert [p.name for p in tmp_path.iterdir()] == ['missing.txt']


def run_tool(*args):
    return subprocess.run(
        [sys.executable, TOOL] + [str(a) for a in args], capture_output=True,
        text=True, timeout=120, env={'PYTHONPATH': REPO, 'PATH': ''})


def test_tool(kinetics, tmp_path):
    csv_path, videos = kinetics
    out = tmp_path / 'missing.txt'
    done = run_tool(csv_path, videos, '--missing-out', out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f'{csv_path}: 3 of 4 present; 1 MISSING, see the missing list',
        '  MISSING abseiling/zzz123_000300_000310.mp4',
        f'1 missing clips written to {out}']
    assert out.read_text() == 'abseiling/zzz123_000300_000310.mp4\n'
    assert run_tool(csv_path, videos, '--strict').returncode == 1
    csv_path.write_text(CSV + 'abseiling,x,1\n')
    done = run_tool(csv_path, videos)
    assert done.returncode == 1
    assert done.stderr.startswith(f'error: {csv_path} line 6: expected')
