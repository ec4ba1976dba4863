"""Frame extraction: counts, sizes, resizing, atomicity and resume."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmvid.datasets.errors import BadSampleError
from mmvid.data_preparation import rawframes
from mmvid.data_preparation.rawframes import (build_rawframes,
                                                  completed_frames,
                                                  extract_rawframes,
                                                  output_size)


def make_frames(num_frames=6, width=40, height=30):
    """BGR frames with a moving bright square on a gradient."""
    frames = []
    for t in range(num_frames):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[..., 1] = np.linspace(0, 200, width, dtype=np.uint8)[None]
        frame[5:15, 2 + 3 * t:12 + 3 * t] = (250, 250, 250)
        frames.append(frame)
    return frames


def write_video(path, frames, fourcc='FFV1'):
    """A lossless FFV1 .avi (decodes bit-exactly with decord and OpenCV)."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25,
                             (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()
    return str(path)


@pytest.mark.parametrize('backend', ['decord', 'opencv'])
def test_extract_counts_sizes_and_content(tmp_path, backend):
    frames = make_frames()
    video = write_video(tmp_path / 'v.avi', frames)
    out = tmp_path / 'frames' / 'v'
    assert extract_rawframes(video, str(out), backend=backend) == 6
    names = sorted(os.listdir(out))
    assert names == ['.done'] + [f'img_{i:05d}.jpg' for i in range(1, 7)]
    assert completed_frames(str(out)) == 6
    for i, frame in enumerate(frames, 1):
        img = cv2.imread(str(out / f'img_{i:05d}.jpg'))
        assert img.shape == (30, 40, 3)
        # JPEG q95 of the exact decoded frame
        assert np.abs(img.astype(int) - frame).mean() < 3
    assert os.listdir(tmp_path / 'frames') == ['v']


def test_resize_options(tmp_path):
    video = write_video(tmp_path / 'v.avi', make_frames(num_frames=3))
    short = tmp_path / 'short'
    assert extract_rawframes(video, str(short), new_short=15) == 3
    assert cv2.imread(str(short / 'img_00003.jpg')).shape == (15, 20, 3)
    fixed = tmp_path / 'fixed'
    extract_rawframes(video, str(fixed), new_width=16, new_height=18,
                      filename_tmpl='{:03d}.jpg', backend='opencv')
    assert sorted(os.listdir(fixed)) == ['.done', '001.jpg', '002.jpg',
                                         '003.jpg']
    assert cv2.imread(str(fixed / '002.jpg')).shape == (18, 16, 3)


def test_output_size():
    assert output_size(40, 30) == (40, 30)
    assert output_size(40, 30, new_short=15) == (20, 15)
    assert output_size(30, 40, new_short=15) == (15, 20)
    assert output_size(341, 256, new_short=128) == (171, 128)  # 170.5 up
    assert output_size(640, 480, new_width=340, new_height=256) == (340, 256)


@pytest.mark.parametrize('kwargs, message', [
    (dict(new_short=128, new_width=340, new_height=256), 'either new_short'),
    (dict(new_width=340), 'new_width and new_height together'),
    (dict(new_short=0), 'new_short must be None or an int >= 1'),
    (dict(backend='pyav'), "backend must be one of .*'pyav'"),
    (dict(filename_tmpl='img.jpg'), 'filename_tmpl must format'),
    (dict(jpeg_quality=101), 'jpeg_quality must be an int in'),
])
def test_bad_arguments(tmp_path, kwargs, message):
    video = write_video(tmp_path / 'v.avi', make_frames(num_frames=2))
    with pytest.raises(ValueError, match=message):
        extract_rawframes(video, str(tmp_path / 'out'), **kwargs)
    assert not (tmp_path / 'out').exists()


def test_broken_video_leaves_no_folder(tmp_path):
    bad = tmp_path / 'bad.mp4'
    bad.write_text('not a video\n')
    with pytest.raises(BadSampleError, match=f'decord could not open {bad}'):
        extract_rawframes(str(bad), str(tmp_path / 'out'))
    with pytest.raises(BadSampleError, match=f'opencv could not open {bad}'):
        extract_rawframes(str(bad), str(tmp_path / 'out'), backend='opencv')
    with pytest.raises(BadSampleError, match='does not exist'):
        extract_rawframes(str(tmp_path / 'none.mp4'), str(tmp_path / 'out'))
    assert sorted(os.listdir(tmp_path)) == ['bad.mp4']


def test_build_rawframes_reports_and_resumes(tmp_path):
    src, out = tmp_path / 'videos', tmp_path / 'rawframes'
    write_video(src / 'jump' / 'a.avi', make_frames(num_frames=4))
    write_video(src / 'jump' / 'b.avi', make_frames(num_frames=5))
    write_video(src / 'run' / 'c.avi', make_frames(num_frames=3))
    (src / 'run' / 'broken.avi').write_bytes(b'\x00' * 100)
    (src / 'run' / 'notes.txt').write_text('ignored: other extension')

    report = build_rawframes(str(src), str(out), ext='avi', num_workers=2,
                             new_short=15, progress=False)
    assert sorted(report.done) == ['jump/a.avi', 'jump/b.avi', 'run/c.avi']
    assert report.skipped == []
    assert list(report.failed) == ['run/broken.avi']
    assert 'decord could not open' in report.failed['run/broken.avi']
    assert not report.ok
    assert 'FAILED run/broken.avi' in report.summary()
    assert completed_frames(str(out / 'jump' / 'b')) == 5
    assert cv2.imread(str(out / 'run' / 'c' / 'img_00003.jpg')).shape == \
        (15, 20, 3)

    # b is left half-written (no .done, frames missing), a stale partial of
    # a killed run lies next to c; a stays complete
    os.remove(out / 'jump' / 'b' / '.done')
    os.remove(out / 'jump' / 'b' / 'img_00005.jpg')
    stale = out / 'run' / '.c.partial-999999999-0123abcd'
    stale.mkdir()
    stamp = os.stat(out / 'jump' / 'a' / 'img_00001.jpg').st_mtime_ns

    report = build_rawframes(str(src), str(out), ext='avi', new_short=15,
                             progress=False)
    assert report.skipped == ['jump/a.avi', 'run/c.avi']
    assert report.done == ['jump/b.avi']
    assert list(report.failed) == ['run/broken.avi']
    assert sorted(os.listdir(out / 'jump' / 'b')) == \
        ['.done'] + [f'img_{i:05d}.jpg' for i in range(1, 6)]
    assert not stale.exists()
    assert os.stat(out / 'jump' / 'a' / 'img_00001.jpg').st_mtime_ns == stamp

    report = build_rawframes(str(src), str(out), ext='avi', level=2,
                             overwrite=True, backend='opencv', progress=False)
    assert report.done == ['jump/a.avi', 'jump/b.avi', 'run/c.avi']
    # overwrite without resize: full-size frames again
    assert cv2.imread(str(out / 'run' / 'c' / 'img_00001.jpg')).shape == \
        (30, 40, 3)


def test_build_rawframes_level_1_and_interrupt(tmp_path, monkeypatch):
    src, out = tmp_path / 'videos', tmp_path / 'frames'
    write_video(src / 'x.avi', make_frames(num_frames=3))
    real = rawframes._write_frames

    def crash(*args):
        real(*args)
        raise KeyboardInterrupt  # after the frames, before .done

    monkeypatch.setattr(rawframes, '_write_frames', crash)
    with pytest.raises(KeyboardInterrupt):
        build_rawframes(str(src), str(out), ext='avi', level=1,
                        progress=False)
    assert os.listdir(out) == []
    monkeypatch.setattr(rawframes, '_write_frames', real)
    report = build_rawframes(str(src), str(out), ext='avi', level=1,
                             progress=False)
    assert report.done == ['x.avi']
    assert completed_frames(str(out / 'x')) == 3


def test_mid_stream_decode_error(tmp_path):
    video = write_video(tmp_path / 'v.avi', make_frames(num_frames=20))
    with open(video, 'rb') as f:
        data = f.read()
    cut = tmp_path / 'cut.avi'
    cut.write_bytes(data[:len(data) // 2])
    with pytest.raises(BadSampleError,
                       match=r'decord failed after decoding \d+ of the \d+ '
                       f'frames of {cut}: '):
        extract_rawframes(str(cut), str(tmp_path / 'out'))
    assert not (tmp_path / 'out').exists()
    # OpenCV stops at the damage: the decodable frames are extracted
    count = extract_rawframes(str(cut), str(tmp_path / 'out'),
                              backend='opencv')
    assert 0 < count < 20
    assert completed_frames(str(tmp_path / 'out')) == count
