"""Each data CLI in tools/data/ once, in a subprocess, on tiny data."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def run_tool(name, *args, path_env=None):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    if path_env is not None:
        env['PATH'] = path_env
    return subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'data', name)] +
        [str(a) for a in args], capture_output=True, text=True, env=env,
        timeout=120)


@pytest.fixture(scope='module')
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp('tools') / 'syn'
    args = (out, '--num-classes', 2, '--train-per-class', 2,
            '--val-per-class', 1, '--num-frames', 6, '--size', 32, 24)
    done = run_tool('generate_synthetic.py', *args)
    assert done.returncode == 0, done.stderr
    assert '2 classes, 4 train + 2 val clips of 6 frames at 32x24' in \
        done.stdout
    return out


def test_generate_synthetic_refuses_other_parameters(dataset):
    done = run_tool('generate_synthetic.py', dataset, '--num-classes', 3)
    assert done.returncode == 1
    assert 'other parameters' in done.stderr and '--force' in done.stderr


def test_build_rawframes_then_file_list(dataset, tmp_path):
    frames = tmp_path / 'frames'
    done = run_tool('build_rawframes.py', dataset / 'videos' / 'train',
                    frames, '--num-worker', 2, '--new-short', 12)
    assert done.returncode == 0, done.stderr
    assert 'done: 4, skipped (complete already): 0, failed: 0' in done.stdout

    train, val = tmp_path / 'train.txt', tmp_path / 'val.txt'
    done = run_tool('build_file_list.py', frames, '--format', 'rawframes',
                    '--out', train, '--val-ratio', 0.5, '--val-out', val,
                    '--label-map-out', tmp_path / 'map.txt')
    assert done.returncode == 0, done.stderr
    lines = sorted(train.read_text().splitlines() +
                   val.read_text().splitlines())
    assert lines == ['move_left/0000 6 0', 'move_left/0001 6 0',
                     'move_right/0000 6 1', 'move_right/0001 6 1']
    assert len(val.read_text().splitlines()) == 2
    assert (tmp_path / 'map.txt').read_text() == 'move_left\nmove_right\n'


def test_check_videos(dataset, tmp_path):
    lines = (dataset / 'train_list_videos.txt').read_text().splitlines()
    path = str(tmp_path / 'empty.mp4')  # absolute: the prefix is ignored
    open(path, 'wb').close()
    ann = tmp_path / 'list.txt'
    ann.write_text('\n'.join(lines + [f'{path} 0']) + '\n')
    report = tmp_path / 'broken.tsv'
    done = run_tool('check_videos.py', ann, '--data-prefix', dataset,
                    '--num-worker', 2, '--out', report)
    assert done.returncode == 1, done.stderr
    assert f'BROKEN {path}: empty: 0 bytes' in done.stdout
    assert 'checked 5 videos with decord: 1 broken' in done.stdout
    assert report.read_text() == f'{path}\tempty\t0 bytes\n'


def test_resize_videos(dataset, tmp_path):
    missing = run_tool('resize_videos.py', dataset / 'videos' / 'val',
                       tmp_path / 'out', path_env=str(tmp_path / 'empty'))
    assert missing.returncode == 1
    assert 'apt-get install ffmpeg' in missing.stderr
    fake = tmp_path / 'ffmpeg'  # stand-in: copies input to output
    fake.write_text(f'#!{sys.executable}\nimport shutil, sys\n'
                    'shutil.copy(sys.argv[sys.argv.index("-i") + 1], '
                    'sys.argv[-1])\n')
    fake.chmod(0o755)
    done = run_tool('resize_videos.py', dataset / 'videos' / 'val',
                    tmp_path / 'out', '--ffmpeg', fake, '--num-worker', 1)
    assert done.returncode == 0, done.stderr
    assert 'done: 2, skipped (complete already): 0, failed: 0' in done.stdout
    assert sorted(os.listdir(tmp_path / 'out')) == ['move_left',
                                                   'move_right']


def test_check_videos_finds_a_flat_folder_and_fails_on_nothing(dataset,
                                                              tmp_path):
    """Videos directly in the folder are found (they were not: 'checked 0
    videos' and exit 0); a folder without videos is an error."""
    flat = tmp_path / 'flat'
    flat.mkdir()
    for i, video in enumerate(sorted((dataset / 'videos' / 'val').glob(
            '*/*.mp4'))[:2]):
        (flat / f'v{i}.mp4').write_bytes(video.read_bytes())
    done = run_tool('check_videos.py', flat)
    assert done.returncode == 0, done.stderr
    assert 'checked 2 videos with decord: 0 broken' in done.stdout
    empty = tmp_path / 'empty'
    empty.mkdir()
    done = run_tool('check_videos.py', empty)
    assert done.returncode == 1
    assert (f'error: no video to check: nothing in {empty}/*.mp4 and '
            f'{empty}/*/*.mp4 (--ext sets the extension') in done.stderr
