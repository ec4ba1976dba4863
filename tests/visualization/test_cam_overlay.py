"""The map's colours blended over the frames, and the GIF / MP4 written
from them: read back, T frames of the frames' size; nothing left behind
by a failed write."""
import os

import decord
import numpy as np
import pytest
import torch
from PIL import Image

from mmvid.visualization import video_io
from mmvid.visualization.cam_overlay import overlay_cam, write_video

# JET (OpenCV) in RGB at levels 0, 128 and 255: dark blue, green, dark red
JET_0, JET_128, JET_255 = (0, 0, 128), (130, 255, 126), (128, 0, 0)


def test_overlay_blends_the_jet_colours():
    frames = np.full((2, 3, 4, 3), 100, np.uint8)
    frames[1] = 20
    cam = torch.zeros(2, 3, 4)
    cam[0, 1, 2] = 1.0
    cam[1] = 128 / 255
    out = overlay_cam(frames, cam, alpha=0.25)
    assert out.shape == (2, 3, 4, 3) and out.dtype == np.uint8
    assert out[0, 0, 0].tolist() == [75, 75, 107]  # .75 * 100 + .25 * JET_0
    assert out[0, 1, 2].tolist() == [107, 75, 75]  # .25 * JET_255
    # 0.75 * 20 + 0.25 * (130, 255, 126) = (47.5, 78.75, 46.5), rounded
    assert (out[1] == np.array([48, 79, 46], np.uint8)).all()
    np.testing.assert_array_equal(overlay_cam(frames, cam, 0.0), frames)
    colours = overlay_cam(frames, cam, 1.0)
    assert colours[0, 0, 0].tolist() == list(JET_0)
    assert colours[0, 1, 2].tolist() == list(JET_255)
    assert colours[1, 2, 3].tolist() == list(JET_128)


def test_overlay_refuses_bad_inputs():
    frames = np.zeros((2, 3, 4, 3), np.uint8)
    with pytest.raises(ValueError, match=r'cam \(2, 3, 5\) does not match '
                       r'the frames \(2, 3, 4\)'):
        overlay_cam(frames, torch.zeros(2, 3, 5))
    with pytest.raises(ValueError, match=r'frames must be uint8 \[T, H, W, '
                       r'3\], got float32'):
        overlay_cam(frames.astype(np.float32), torch.zeros(2, 3, 4))
    with pytest.raises(ValueError, match=r'alpha must be in \[0, 1\], got 2'):
        overlay_cam(frames, torch.zeros(2, 3, 4), alpha=2)


def frames_to_write(t=5, h=24, w=32):
    """Coloured frames, each a different flat colour and a moving bar."""
    frames = np.zeros((t, h, w, 3), np.uint8)
    for i in range(t):
        frames[i] = (40 * i, 200 - 30 * i, 90)
        frames[i, :, 4 * i:4 * i + 4] = 255
    return frames


def test_write_gif(tmp_path):
    frames = frames_to_write()
    path = tmp_path / 'sub' / 'cam.gif'
    write_video(str(path), frames, fps=4)
    assert os.listdir(path.parent) == ['cam.gif']
    with Image.open(path) as gif:
        assert gif.format == 'GIF' and gif.size == (32, 24)
        assert gif.n_frames == 5
        assert gif.info['duration'] == 250 and gif.info['loop'] == 0
        for i in range(5):
            gif.seek(i)
            got = np.asarray(gif.convert('RGB')).astype(int)
            assert np.abs(got - frames[i]).max() <= 8  # palette rounding


def test_write_mp4(tmp_path):
    frames = frames_to_write(t=6, h=48, w=64)
    path = tmp_path / 'cam.mp4'
    write_video(str(path), frames, fps=8)
    assert os.listdir(tmp_path) == ['cam.mp4']
    reader = decord.VideoReader(str(path))
    assert len(reader) == 6
    assert reader[0].shape == (48, 64, 3)
    assert reader.get_avg_fps() == pytest.approx(8)
    got = reader.get_batch(list(range(6))).asnumpy().astype(int)
    assert np.abs(got - frames).mean() < 6  # lossy mp4v


def test_write_refusals_leave_nothing(tmp_path, monkeypatch):
    frames = frames_to_write()
    with pytest.raises(ValueError, match=r"cam.avi: the output must end with "
                       r"one of \('.gif', '.mp4'\), got '.avi'"):
        write_video(str(tmp_path / 'cam.avi'), frames)
    with pytest.raises(ValueError, match='fps must be > 0, got 0'):
        write_video(str(tmp_path / 'cam.gif'), frames, fps=0)
    with pytest.raises(ValueError, match=r'T >= 1, got \(0, 24, 32, 3\)'):
        write_video(str(tmp_path / 'cam.gif'), frames[:0])

    class ClosedWriter:  # an OpenCV build that cannot write mp4v
        def __init__(self, *args):
            open(args[0], 'wb').close()  # as a writer may do

        def isOpened(self):
            return False

    monkeypatch.setattr(video_io.cv2, 'VideoWriter', ClosedWriter)
    with pytest.raises(RuntimeError, match=r"OpenCV cannot encode 'mp4v' "
                       r'into .*\.cam\.partial\.mp4'):
        write_video(str(tmp_path / 'cam.mp4'), frames)
    assert os.listdir(tmp_path) == []
