"""The synthetic action dataset: layout, lists, decoding, determinism, the
motion-only class signal, reuse and atomic writes."""
import dataclasses
import hashlib
import json
import os
import os.path as osp

import cv2
import decord
import numpy as np
import pytest

from mmvid.data_preparation import synthetic
from mmvid.data_preparation.synthetic import generate_synthetic_dataset
from mmvid.data_preparation.synthetic_clips import (CLASS_NAMES,
                                                        anchor_frame,
                                                        anchor_margins,
                                                        canvas_size,
                                                        clip_states,
                                                        render_clip,
                                                        sample_appearance,
                                                        sample_motion)

TINY = dict(num_classes=4, videos_per_class_train=2, videos_per_class_val=1,
            num_frames=8, size=(32, 24), progress=False)


def tree_digest(root):
    """{relative path: md5} of every file under root."""
    digest = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = osp.join(folder, name)
            with open(path, 'rb') as f:
                digest[osp.relpath(path, root)] = hashlib.md5(
                    f.read()).hexdigest()
    return digest


def read_lines(path):
    with open(path) as f:
        return f.read().splitlines()


def test_layout_lists_and_decoding(tmp_path):
    out = str(tmp_path / 'syn')
    summary = generate_synthetic_dataset(out, **TINY)
    assert summary['reused'] is False
    assert summary['num_videos'] == dict(train=8, val=4)
    classes = list(CLASS_NAMES[:4])
    assert summary['classes'] == classes
    assert read_lines(osp.join(out, 'label_map.txt')) == classes
    assert read_lines(osp.join(out, 'train_list_videos.txt')) == [
        f'videos/train/{c}/{i:04d}.mp4 {label}'
        for label, c in enumerate(classes) for i in range(2)]
    assert read_lines(osp.join(out, 'val_list_rawframes.txt')) == [
        f'rawframes/val/{c}/0000 8 {label}' for label, c in enumerate(classes)]
    for split in ('train', 'val'):
        for line in read_lines(osp.join(out, f'{split}_list_rawframes.txt')):
            frame_dir, total, _ = line.split()
            names = sorted(os.listdir(osp.join(out, frame_dir)))
            assert names == [f'img_{i:05d}.jpg' for i in range(1, 9)]
            assert int(total) == 8
            img = cv2.imread(osp.join(out, frame_dir, names[-1]))
            assert img.shape == (24, 32, 3)
        for line in read_lines(osp.join(out, f'{split}_list_videos.txt')):
            path = osp.join(out, line.split()[0])
            reader = decord.VideoReader(path)
            assert len(reader) == 8
            assert reader.get_batch(list(range(8))).shape == (8, 24, 32, 3)
            capture = cv2.VideoCapture(path)
            assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
            capture.release()
    with open(osp.join(out, synthetic.PARAMS_FILE)) as f:
        meta = json.load(f)
    assert meta['params']['size'] == [32, 24]
    assert meta['params']['classes'] == classes
    with open(osp.join(out, 'README.md')) as f:
        readme = f.read()
    assert '- 3: move_down' in readme and 'frame 4 of 8' in readme
    # only the dataset folder is left in the parent (no partial siblings)
    assert os.listdir(tmp_path) == ['syn']


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a = generate_synthetic_dataset(str(tmp_path / 'a'), **TINY)
    b = generate_synthetic_dataset(str(tmp_path / 'b'), num_workers=2,
                                   **TINY)
    c = generate_synthetic_dataset(str(tmp_path / 'c'), seed=1, **TINY)
    da, db, dc = (tree_digest(s['out_dir']) for s in (a, b, c))
    # lists, JPEG frames and (OpenCV mp4v is deterministic) the videos
    assert da == db
    assert len(da) == 12 * 8 + 12 + 4 + 2 + 1
    assert da.keys() == dc.keys()
    for name in da:
        if name.endswith(('.jpg', '.mp4')):
            assert da[name] != dc[name], name
        elif name.endswith('.txt'):
            assert da[name] == dc[name], name  # same layout and labels


def test_single_frame_carries_no_class(tmp_path):
    """Clip k of every class shows the same middle frame (byte-identical
    JPEG), so per-class mean middle images are equal; the first frames differ
    between classes, so this check would see a class signal in a frame."""
    out = generate_synthetic_dataset(
        str(tmp_path / 's'), write_videos=False, **TINY)['out_dir']
    m = anchor_frame(8)
    classes = CLASS_NAMES[:4]

    def frame(cls, k, t):
        path = osp.join(out, 'rawframes', 'train', cls, f'{k:04d}',
                        f'img_{t + 1:05d}.jpg')
        with open(path, 'rb') as f:
            return f.read()

    for k in range(2):
        middles = {frame(c, k, m) for c in classes}
        firsts = {frame(c, k, 0) for c in classes}
        assert len(middles) == 1
        assert len(firsts) == len(classes)

    def class_mean(cls, t):
        return np.mean([cv2.imdecode(np.frombuffer(frame(cls, k, t), np.uint8),
                                     cv2.IMREAD_COLOR).astype(np.float64)
                        for k in range(2)], axis=0)

    # opposite classes: identical mean middle frame, different first frames
    for left, right in (('move_left', 'move_right'),
                        ('move_up', 'move_down')):
        assert np.array_equal(class_mean(left, m), class_mean(right, m))
        assert np.abs(class_mean(left, 0) - class_mean(right, 0)).max() > 50


def measure(frames):
    """Per frame: centroid x, y, area and principal-axis angle (degrees,
    unwrapped) of a white-on-black shape."""
    stats = []
    for frame in frames:
        w = frame[..., 0].astype(np.float64) / 255
        ys, xs = np.mgrid[:w.shape[0], :w.shape[1]]
        area = w.sum()
        x, y = (w * xs).sum() / area, (w * ys).sum() / area
        mu20 = (w * (xs - x)**2).sum()
        mu02 = (w * (ys - y)**2).sum()
        mu11 = (w * (xs - x) * (ys - y)).sum()
        stats.append((x, y, area, np.arctan2(2 * mu11, mu20 - mu02)))
    stats = np.array(stats)
    stats[:, 3] = np.degrees(np.unwrap(stats[:, 3]) / 2)
    return stats


def test_each_class_moves_as_named():
    """Render every class from one appearance (an ellipse as a white mask on
    black) and measure the motion from the pixels."""
    size, num_frames = (128, 96), 16
    app = sample_appearance(np.random.default_rng(4), size, num_frames)
    assert app.shape == 'ellipse'
    app = dataclasses.replace(
        app, premultiplied=np.repeat(app.alpha[..., None] * 255, 3, axis=2),
        background=np.zeros_like(app.background), noise=0)
    m = anchor_frame(num_frames)
    clips = []
    for label, name in enumerate(CLASS_NAMES):
        motion = sample_motion(np.random.default_rng(label), label, size)
        frames = render_clip(app, motion, num_frames)
        clips.append(frames)
        x, y, area, angle = measure(frames).T
        expected = dict(x=0.0, y=0.0, angle=0.0, zoom=1.0)
        key = {'move_left': ('x', -1), 'move_right': ('x', 1),
               'move_up': ('y', -1), 'move_down': ('y', 1),
               'rotate_cw': ('angle', 1), 'rotate_ccw': ('angle', -1),
               'approach': ('zoom', 1), 'recede': ('zoom', -1)}[name]
        if key[0] == 'zoom':
            expected['zoom'] = motion.amount**(2 * key[1])
        else:
            expected[key[0]] = key[1] * motion.amount
        assert x[-1] - x[0] == pytest.approx(expected['x'], abs=0.5), name
        assert y[-1] - y[0] == pytest.approx(expected['y'], abs=0.5), name
        assert angle[-1] - angle[0] == pytest.approx(expected['angle'],
                                                     abs=2), name
        assert area[-1] / area[0] == pytest.approx(expected['zoom'],
                                                   rel=0.06), name
    # the anchor frame is the same image for every class
    for frames in clips[1:]:
        assert np.array_equal(frames[m], clips[0][m])


def test_background_moves_with_the_shape():
    """The camera moves: a dot of the background 20 px right of the shape's
    anchor centre follows the shape's similarity transform, measured from
    the pixels (no shape, no noise)."""
    size, num_frames = (128, 96), 16
    app = sample_appearance(np.random.default_rng(4), size, num_frames)
    side = app.background.shape[0]
    half = (side - 1) / 2
    ys, xs = np.mgrid[:side, :side]
    dot = np.exp(-((xs - half - 20)**2 + (ys - half)**2) / (2 * 2.0**2))
    app = dataclasses.replace(
        app, alpha=np.zeros_like(app.alpha),
        premultiplied=np.zeros_like(app.premultiplied),
        background=np.repeat(dot[..., None] * 255, 3, axis=2).astype(
            np.float32), noise=0)
    for label in range(len(CLASS_NAMES)):
        motion = sample_motion(np.random.default_rng(label), label, size)
        frames = render_clip(app, motion, num_frames)
        for t, (x, y, angle, radius) in enumerate(
                clip_states(app, motion, num_frames)):
            k = radius / app.radius
            a = np.deg2rad(angle - app.angle)
            expected = (x + 20 * k * np.cos(a), y + 20 * k * np.sin(a))
            w = frames[t, ..., 0].astype(np.float64)
            fy, fx = np.mgrid[:w.shape[0], :w.shape[1]]
            found = ((w * fx).sum() / w.sum(), (w * fy).sum() / w.sum())
            assert found == pytest.approx(expected, abs=0.3), (label, t)


def test_background_canvas_covers_every_frame():
    """Map every image corner of every frame back into the canvas: all land
    inside, so no frame shows the canvas border."""
    size, num_frames = (128, 96), 32
    corners = np.array([[0, 0], [size[0], 0], [0, size[1]], list(size)],
                       np.float64)
    assert canvas_size(size, num_frames) == int(
        np.ceil(2 * np.hypot(*size) * 2.4**(16 / 31))) + 4
    for seed in range(10):
        app = sample_appearance(np.random.default_rng(seed), size, num_frames)
        side = app.background.shape[0]
        assert app.background.shape == (side, side, 3)
        assert side == canvas_size(size, num_frames)
        for label in range(len(CLASS_NAMES)):
            motion = sample_motion(np.random.default_rng([seed, label]),
                                   label, size)
            for x, y, angle, radius in clip_states(app, motion, num_frames):
                k = radius / app.radius
                a = -np.deg2rad(angle - app.angle)
                inv = np.array([[np.cos(a), -np.sin(a)],
                                [np.sin(a), np.cos(a)]]) / k
                q = (corners - [x, y]) @ inv.T + (side - 1) / 2
                assert (q >= 0).all() and (q <= side - 1).all()


def test_shape_stays_in_view():
    size = (128, 96)
    for seed in range(30):
        app = sample_appearance(np.random.default_rng(seed), size, 32)
        for label in range(len(CLASS_NAMES)):
            motion = sample_motion(np.random.default_rng([seed, label]),
                                   label, size)
            x, y, _, r = clip_states(app, motion, 32).T
            assert (x - r >= 0).all() and (x + r <= size[0]).all()
            assert (y - r >= 0).all() and (y + r <= size[1]).all()


def test_margins_and_too_small_frames():
    mx, my = anchor_margins((128, 96), 32)
    # largest radius + farthest half-path, 1 px spare
    assert mx == pytest.approx(0.15 * 96 + 0.4 * 128 * 16 / 31 + 1)
    assert my == pytest.approx(0.15 * 96 + 0.4 * 96 * 16 / 31 + 1)
    with pytest.raises(ValueError, match=r'size=\(10, 10\) .* too small'):
        anchor_margins((10, 10), 4)


def test_reuse_force_and_refusals(tmp_path):
    out = str(tmp_path / 's')
    generate_synthetic_dataset(out, write_videos=False, **TINY)
    stamp = os.stat(osp.join(out, 'label_map.txt')).st_mtime_ns
    again = generate_synthetic_dataset(out, write_videos=False, **TINY)
    assert again['reused'] is True
    assert again['files']['train_rawframes'] == 'train_list_rawframes.txt'
    assert os.stat(osp.join(out, 'label_map.txt')).st_mtime_ns == stamp
    with pytest.raises(FileExistsError, match=r'seed: 0 -> 3.*--force'):
        generate_synthetic_dataset(out, write_videos=False, seed=3, **TINY)
    forced = generate_synthetic_dataset(out, write_videos=False, seed=3,
                                        force=True, **TINY)
    assert forced['reused'] is False
    assert synthetic.read_synthetic_params(out)['seed'] == 3
    other = tmp_path / 'mine'
    other.mkdir()
    (other / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='not a synthetic dataset'):
        generate_synthetic_dataset(str(other), force=True, **TINY)
    assert (other / 'keep.txt').read_text() == 'x'


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / 's'
    calls = []
    real = synthetic._write_clip

    def crash_on_third(task):
        calls.append(task)
        if len(calls) == 3:
            raise KeyboardInterrupt
        real(task)

    monkeypatch.setattr(synthetic, '_write_clip', crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        generate_synthetic_dataset(str(out), **TINY)
    assert os.listdir(tmp_path) == []
    # a hard-killed run's leftover (dead pid) is cleaned by the next run
    stale = tmp_path / '.s.partial-999999999-0123abcd'
    stale.mkdir()
    monkeypatch.setattr(synthetic, '_write_clip', real)
    summary = generate_synthetic_dataset(str(out), **TINY)
    assert summary['reused'] is False
    assert os.listdir(tmp_path) == ['s']
    assert len(read_lines(out / 'train_list_videos.txt')) == 8


@pytest.mark.parametrize('kwargs, message', [
    (dict(num_classes=9), 'num_classes must be in'),
    (dict(num_frames=3), 'num_frames must be an int >= 4'),
    (dict(size=(12, 24)), r'size\[0\] \(width\) must be an int >= 16'),
    (dict(write_videos=False, write_rawframes=False), 'nothing to write'),
    (dict(codec='xvid'), "codec must be one of .*'xvid'"),
    (dict(videos_per_class_train=0), 'videos_per_class_train must be'),
])
def test_bad_arguments(tmp_path, kwargs, message):
    args = dict(TINY, **kwargs)
    with pytest.raises(ValueError, match=message):
        generate_synthetic_dataset(str(tmp_path / 's'), **args)
    assert not (tmp_path / 's').exists()
