"""check_videos finds missing, empty, non-video, truncated and undecodable
files and passes good ones."""
import os
import re

import cv2
import numpy as np
import pytest

from mmvid.data_preparation.video_check import (VideoProblem,
                                                    check_video,
                                                    check_videos)


def write_video(path, fourcc, num_frames=20, width=40, height=30):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25,
                             (width, height))
    rng = np.random.default_rng(0)
    for _ in range(num_frames):
        writer.write(rng.integers(0, 255, (height, width, 3), np.uint8))
    writer.release()
    return str(path)


def cut(src, dst, fraction):
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return str(dst)


@pytest.fixture
def videos(tmp_path):
    good_mp4 = write_video(tmp_path / 'good.mp4', 'mp4v')
    good_avi = write_video(tmp_path / 'good.avi', 'FFV1')
    paths = dict(
        good_mp4=good_mp4, good_avi=good_avi,
        cut_mp4=cut(good_mp4, tmp_path / 'cut.mp4', 0.9),
        cut_avi=cut(good_avi, tmp_path / 'cut.avi', 0.5),
        empty=str(tmp_path / 'empty.mp4'), text=str(tmp_path / 'text.mp4'),
        missing=str(tmp_path / 'missing.mp4'))
    open(paths['empty'], 'wb').close()
    with open(paths['text'], 'w') as f:
        f.write('this is not a video\n' * 20)
    return paths


def test_decord_finds_each_problem(videos):
    broken = check_videos(list(videos.values()), num_workers=2,
                          progress=False)
    by_path = {p.path: p for p in broken}
    assert list(by_path) == [videos[k] for k in
                             ('cut_mp4', 'cut_avi', 'empty', 'text',
                              'missing')]
    assert by_path[videos['cut_mp4']].kind == 'unopenable'
    assert by_path[videos['cut_mp4']].detail.startswith(
        f'decord: Error reading {videos["cut_mp4"]}')
    # decord counts 10 frames in the half file and fails on the last one;
    # its decoder thread runs ahead, so the error can surface earlier
    assert by_path[videos['cut_avi']].kind == 'decode_error'
    assert re.match(r'decord failed after decoding \d of 10 frames: \w',
                    by_path[videos['cut_avi']].detail)
    assert '[' not in by_path[videos['cut_avi']].detail  # no log prefixes
    assert by_path[videos['empty']] == VideoProblem(videos['empty'], 'empty',
                                                    '0 bytes')
    assert by_path[videos['text']].kind == 'unopenable'
    assert by_path[videos['missing']] == VideoProblem(
        videos['missing'], 'missing', 'no such file')
    empty = videos['empty']
    assert str(by_path[empty]) == f'{empty}: empty: 0 bytes'


def test_opencv_compares_with_container_count(videos):
    assert check_video(videos['good_avi'], 'opencv') is None
    assert check_video(videos['good_mp4'], 'opencv') is None
    assert check_video(videos['cut_avi'], 'opencv') == VideoProblem(
        videos['cut_avi'], 'truncated',
        'opencv decoded 9 of the 20 frames the container reports')
    assert check_video(videos['cut_mp4'], 'opencv') == VideoProblem(
        videos['cut_mp4'], 'unopenable', 'opencv cannot open it')
    assert check_video(videos['text'], 'opencv').kind == 'unopenable'
    assert check_video(videos['empty'], 'opencv').kind == 'empty'


def test_good_videos_pass_and_bad_backend(videos, tmp_path):
    assert check_videos([videos['good_mp4'], videos['good_avi']],
                        progress=False) == []
    assert check_videos([], progress=False) == []
    with pytest.raises(ValueError, match="backend must be one of"):
        check_videos([videos['good_mp4']], backend='torchvision')
    with pytest.raises(ValueError, match='num_workers must be an int >= 1'):
        check_videos([videos['good_mp4']], num_workers=0)
    assert sorted(os.listdir(tmp_path)) == sorted(
        os.path.basename(p) for k, p in videos.items() if k != 'missing')
