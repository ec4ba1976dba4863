"""OpenCV video in and out: sources, sizes, the writer round trip."""
import av
import cv2
import numpy as np
import pytest

from mmvid.visualization import (VideoWriter, capture_fps, iter_frames,
                                 open_capture, output_size, parse_source)
from mmvid.visualization import video_io


def test_parse_source_and_output_size():
    assert parse_source('0') == 0 and parse_source(' 2 ') == 2
    assert parse_source(1) == 1
    assert parse_source('cam.mp4') == 'cam.mp4'
    assert output_size((640, 272), None) == (640, 272)
    assert output_size((640, 272), (320, 200)) == (320, 200)
    assert output_size((640, 272), (320, -1)) == (320, 136)
    assert output_size((640, 272), (-1, 100)) == (236, 100)
    for bad in ((0, 100), (-1, -1), (-2, 10)):
        with pytest.raises(ValueError, match='--target-resolution must be '
                           'W H'):
            output_size((640, 272), bad)


def test_writer_round_trip(tmp_path):
    path = str(tmp_path / 'out.mp4')
    frames = [np.full((48, 64, 3), (40 * i, 100, 200 - 40 * i), np.uint8)
              for i in range(5)]
    with VideoWriter(path, 12.5, (64, 48)) as writer:
        for frame in frames:
            writer.write(frame)
        writer.write(np.zeros((24, 32, 3), np.uint8))  # resized
    assert writer.frames == 6
    with av.open(path) as container:  # playable by another decoder
        stream = container.streams.video[0]
        assert float(stream.average_rate) == 12.5
        decoded = [f.to_ndarray(format='rgb24')
                   for f in container.decode(video=0)]
    assert len(decoded) == 6 and decoded[0].shape == (48, 64, 3)
    for got, want in zip(decoded, frames):  # RGB order kept (lossy codec)
        assert np.abs(got.astype(int) - want).mean() < 4
    capture = open_capture(path)
    assert capture_fps(capture) == 12.5
    read = list(iter_frames(capture, max_frames=4))
    capture.release()
    assert len(read) == 4
    assert np.array_equal(read[2], decoded[2])  # the same RGB frames


def test_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match='no video file'):
        open_capture(str(tmp_path / 'missing.mp4'))
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video')
    with pytest.raises(RuntimeError, match='OpenCV cannot open'):
        open_capture(str(bad))

    class Closed:
        def __init__(self, *args):
            pass

        def isOpened(self):
            return False

    monkeypatch.setattr(video_io.cv2, 'VideoWriter', Closed)
    with pytest.raises(RuntimeError, match="cannot encode 'avc1' into .*; "
                       'use --fourcc mp4v'):
        VideoWriter(str(tmp_path / 'x.mp4'), 25, (8, 8), 'avc1')
    with pytest.raises(ValueError, match='4 characters'):
        VideoWriter(str(tmp_path / 'x.mp4'), 25, (8, 8), 'h264x')


def test_capture_fps_default():
    class NoFps:
        def get(self, prop):
            assert prop == cv2.CAP_PROP_FPS
            return 0.0

    assert capture_fps(NoFps()) == 30.0
    assert capture_fps(NoFps(), default=10) == 10
