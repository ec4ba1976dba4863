"""Re-encoding with ffmpeg: the exact command line, the missing-ffmpeg
error, atomic outputs and folder runs (with a stand-in ffmpeg script), and a
real re-encode (the system's ffmpeg or imageio-ffmpeg's)."""
import json
import os
import re
import shutil
import sys

import cv2
import numpy as np
import pytest

from mmvid.data_preparation.resize import (FFmpegError,
                                               FFmpegNotFoundError,
                                               ffmpeg_command, find_ffmpeg,
                                               resize_video, resize_videos)

FAKE_FFMPEG = '''#!{python}
"""Stand-in ffmpeg: logs its argv, copies the input to the output, fails on
inputs named bad*."""
import json, os, shutil, sys
args = sys.argv[1:]
with open({log!r}, 'a') as f:
    f.write(json.dumps(args) + '\\n')
src = args[args.index('-i') + 1]
if os.path.basename(src).startswith('bad'):
    print(src + ': Invalid data found when processing input', file=sys.stderr)
    sys.exit(1)
shutil.copy(src, args[-1])
'''


@pytest.fixture
def fake_ffmpeg(tmp_path):
    """(path of a stand-in ffmpeg, function returning its logged argvs)."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    log = tmp_path / 'ffmpeg_calls.jsonl'
    exe = bin_dir / 'ffmpeg'
    exe.write_text(FAKE_FFMPEG.format(python=sys.executable, log=str(log)))
    exe.chmod(0o755)

    def calls():
        with open(log) as f:
            return [json.loads(line) for line in f]

    return str(exe), calls


def write_video(path, num_frames=12, width=40, height=30):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'FFV1'), 25,
                             (width, height))
    for t in range(num_frames):
        frame = np.full((height, width, 3), 40, np.uint8)
        frame[8:20, 2 + 2 * t:14 + 2 * t] = 220
        writer.write(frame)
    writer.release()
    return str(path)


def test_command_line():
    assert ffmpeg_command('in.avi', 'out.mp4') == [
        'ffmpeg', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
        '-i', 'in.avi', '-map', '0:v:0', '-vf',
        "scale=w='if(gt(iw,ih),-2,256)':h='if(gt(iw,ih),256,-2)'",
        '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '16',
        '-pix_fmt', 'yuv420p', '-an', 'out.mp4']
    assert ffmpeg_command('a.mkv', 'b.mp4', short_side=320, gop=32, crf=18,
                          preset='slow', keep_audio=True,
                          ffmpeg='/opt/ff') == [
        '/opt/ff', '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
        '-i', 'a.mkv', '-map', '0:v:0', '-map', '0:a?', '-vf',
        "scale=w='if(gt(iw,ih),-2,320)':h='if(gt(iw,ih),320,-2)'",
        '-c:v', 'libx264', '-preset', 'slow', '-crf', '18', '-g', '32',
        '-pix_fmt', 'yuv420p', '-c:a', 'copy', 'b.mp4']


@pytest.mark.parametrize('kwargs, message', [
    (dict(short_side=255), 'short_side must be an even int >= 2, got 255'),
    (dict(gop=0), 'gop must be an int >= 1, got 0'),
    (dict(crf=52), r'crf must be an int in \[0, 51\], got 52'),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ffmpeg_command('in.mp4', 'out.mp4', **kwargs)


def test_missing_ffmpeg_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path / 'nothing-here'))
    src = write_video(tmp_path / 'src' / 'a' / 'v.avi')
    hint = (r"executable 'ffmpeg' was not found .*"
            r'apt-get install ffmpeg.*conda install -c conda-forge ffmpeg')
    with pytest.raises(FFmpegNotFoundError, match=hint):
        find_ffmpeg()
    with pytest.raises(FFmpegNotFoundError, match=hint):
        resize_video(src, str(tmp_path / 'out' / 'v.mp4'))
    with pytest.raises(FFmpegNotFoundError, match='/no/ffmpeg'):
        resize_videos(str(tmp_path / 'src'), str(tmp_path / 'out'),
                      ext='avi', ffmpeg='/no/ffmpeg')
    assert not (tmp_path / 'out').exists()


def test_resize_video_is_atomic(tmp_path, fake_ffmpeg):
    exe, calls = fake_ffmpeg
    src = write_video(tmp_path / 'v.avi')
    dst = tmp_path / 'out' / 'v.mp4'
    resize_video(src, str(dst), gop=8, ffmpeg=exe)
    with open(src, 'rb') as f:
        assert dst.read_bytes() == f.read()
    [argv] = calls()  # argv[1:] as logged by the script
    tmp = argv[-1]
    assert re.fullmatch(
        re.escape(str(tmp_path / 'out') + os.sep) +
        r'\.v\.mp4\.partial-\d+-[0-9a-f]{8}\.mp4', tmp)
    assert [exe] + argv == ffmpeg_command(src, tmp, gop=8, ffmpeg=exe)
    assert os.listdir(tmp_path / 'out') == ['v.mp4']

    bad = write_video(tmp_path / 'bad.avi')
    with pytest.raises(FFmpegError,
                       match=r'ffmpeg failed \(exit 1\) on .*bad.avi: .*'
                       'Invalid data found'):
        resize_video(bad, str(tmp_path / 'out' / 'bad.mp4'), ffmpeg=exe)
    assert os.listdir(tmp_path / 'out') == ['v.mp4']
    with pytest.raises(FileNotFoundError, match='none.avi does not exist'):
        resize_video(str(tmp_path / 'none.avi'), str(dst), ffmpeg=exe)


def test_resize_videos_reports_and_resumes(tmp_path, fake_ffmpeg):
    exe, calls = fake_ffmpeg
    src, out = tmp_path / 'src', tmp_path / 'out'
    for rel in ('jump/x.avi', 'jump/bad.avi', 'run/y.avi'):
        write_video(src / rel, num_frames=2)
    report = resize_videos(str(src), str(out), ext='avi', short_side=128,
                           num_workers=2, ffmpeg=exe, progress=False)
    assert report.done == ['jump/x.avi', 'run/y.avi']
    assert list(report.failed) == ['jump/bad.avi']
    assert 'Invalid data found' in report.failed['jump/bad.avi']
    assert sorted(os.listdir(out / 'jump')) == ['x.mp4']
    assert all(argv[argv.index('-vf') + 1].endswith("128,-2)'")
               for argv in calls())
    again = resize_videos(str(src), str(out), ext='avi', ffmpeg=exe,
                          progress=False)
    assert again.skipped == ['jump/x.avi', 'run/y.avi']
    assert list(again.failed) == ['jump/bad.avi']
    assert len(calls()) == 4
    redo = resize_videos(str(src), str(out), ext='avi', ffmpeg=exe,
                         overwrite=True, progress=False)
    assert redo.done == ['jump/x.avi', 'run/y.avi']
    with pytest.raises(ValueError, match='would replace the inputs'):
        resize_videos(str(out), str(out), ext='mp4', ffmpeg=exe)


def real_ffmpeg() -> str:
    """The system's ffmpeg, else the static build that the test requirement
    imageio-ffmpeg ships: a real encoder on every machine."""
    import imageio_ffmpeg
    return shutil.which('ffmpeg') or imageio_ffmpeg.get_ffmpeg_exe()


def test_real_ffmpeg_reencodes(tmp_path):
    """A real re-encode (short side, even width, GOP) on every machine (the
    missing-ffmpeg error is forced in its own test above)."""
    import decord
    src = write_video(tmp_path / 'v.avi', num_frames=12)
    dst = tmp_path / 'v.mp4'
    resize_video(src, str(dst), short_side=16, gop=4, ffmpeg=real_ffmpeg())
    reader = decord.VideoReader(str(dst))
    assert len(reader) == 12
    height, width = reader[0].shape[:2]
    assert height == 16 and width % 2 == 0 and abs(width - 40 * 16 / 30) <= 1
    keys = list(reader.get_key_indices())
    assert keys[0] == 0 and {4, 8} <= set(keys)
    assert np.diff(keys + [12]).max() <= 4
