"""demo/demo.py prints the model's own top-5 classes with the label map's
names; draws them on the video; predicts window by window (JSON, timeline,
labelled video) on a file or a camera (a video file standing in)."""
import contextlib
import importlib.util
import io
import json
import os
import os.path as osp
import re
import subprocess
import sys

import av
import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from PIL import Image

from mmvid.data_preparation import generate_synthetic_dataset
from mmvid.registry import DATASETS, MODELS
from mmvid.apis import (fast_path, inference_recognizer, init_recognizer,
                        top_k_classes)
from mmvid.utils import register_all_modules
from mmvid.visualization import (Segment, draw_labels, label_lines,
                                 labelled_video, segment_at)
from tests.helpers import tiny_video_set

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


@pytest.fixture(scope='module')
def demo_setup(tmp_path_factory):
    """A tiny synthetic set, a demo-model checkpoint with spread scores, a
    label map, one val video and that video's scores from test_step."""
    tmp_path = tmp_path_factory.mktemp('demo')
    root = tmp_path / 'syn'
    tiny_video_set(root)
    register_all_modules()
    cfg = Config.fromfile(DEMO_CONFIG)
    torch.manual_seed(7)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # spread the scores so the ranking is clear
        for name, tensor in model.state_dict().items():
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5)
            elif tensor.is_floating_point():
                tensor.normal_(0, 0.2)
    model.eval()
    ckpt = tmp_path / 'random_demo.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    names = [f'action_{chr(ord("a") + i)}' for i in range(8)]
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('\n'.join(names) + '\n')

    # the model's own prediction, as tools/test.py computes it
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.ann_file = str(root / 'val_list_videos.txt')
    dataset_cfg.data_prefix = dict(video=str(root))
    dataset_cfg.label_file = str(root / 'label_map.txt')
    dataset = DATASETS.build(dataset_cfg)
    with torch.no_grad():
        scores = model.test_step(pseudo_collate([dataset[0]]))[0].pred_score
    video = root / 'videos' / 'val' / 'move_left' / '0000.mp4'
    return dict(video=video, ckpt=ckpt, label_map=label_map, names=names,
                scores=scores)


def printed_rows(stdout):
    return re.findall(r'^(\d)\. (\S+): ([\d.]+)$', stdout, re.M)


def test_demo_prints_the_top5_of_test_step(demo_setup):
    video, ckpt, label_map, names = (demo_setup[k] for k in (
        'video', 'ckpt', 'label_map', 'names'))
    top = demo_setup['scores'].topk(5)
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    done = subprocess.run(
        [sys.executable, osp.join(REPO, 'demo', 'demo.py'), str(video),
         DEMO_CONFIG, str(ckpt), str(label_map)],
        capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert 'inference fast path' not in done.stdout  # exact fp32
    assert f'top-5 classes of {video}:' in done.stdout
    rows = printed_rows(done.stdout)
    assert [int(r[0]) for r in rows] == [1, 2, 3, 4, 5]
    assert [r[1] for r in rows] == [names[i] for i in top.indices.tolist()]
    for (_, _, printed), score in zip(rows, top.values.tolist()):
        assert abs(float(printed) - score) < 1e-5


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_demo_fast_says_what_it_picked(demo_setup, native, monkeypatch,
                                       capsys):
    """``--fast`` on either kind of CPU (forced): the line naming the
    choice, then the top classes (bf16: the same top-1; fp32: the same
    top-5 to float rounding)."""
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: native)
    spec = importlib.util.spec_from_file_location(
        'demo_script', osp.join(REPO, 'demo', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    assert demo.main([str(demo_setup['video']), DEMO_CONFIG,
                      str(demo_setup['ckpt']), str(demo_setup['label_map']),
                      '--fast']) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    if native:
        assert first == ('inference fast path: bf16 autocast, '
                         'channels_last_3d, conv-BN folded (--fast: this CPU '
                         'has native bfloat16 (AVX512-BF16 / AMX))')
    else:
        assert first.startswith('inference fast path: fp32, channels_last_3d'
                                ', conv-BN folded (--fast: this CPU has no '
                                'native bfloat16')
    rows = printed_rows(out)
    top = demo_setup['scores'].topk(5)
    names = demo_setup['names']
    assert rows[0][1] == names[top.indices[0]]
    if not native:
        assert [r[1] for r in rows] == [names[i] for i in top.indices]
        for (_, _, printed), score in zip(rows, top.values.tolist()):
            assert abs(float(printed) - score) < 1e-5


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'demo_script', osp.join(REPO, 'demo', 'demo.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


def run_demo(*args):
    """``(exit status, stdout, stderr)`` of demo.main(args)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = load_demo().main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def decode_all(path):
    """Every frame of a video as RGB, and its frame rate, with PyAV (not
    the demo's OpenCV)."""
    with av.open(str(path)) as container:
        rate = float(container.streams.video[0].average_rate)
        return np.stack([f.to_ndarray(format='rgb24')
                         for f in container.decode(video=0)]), rate


@pytest.fixture(scope='module')
def long_video(tmp_path_factory, demo_setup):
    """A 40-frame 128x96 video at 25 fps and the demo model's args."""
    root = tmp_path_factory.mktemp('long') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=2, videos_per_class_train=1,
        videos_per_class_val=1, num_frames=40, size=(128, 96),
        write_rawframes=False, progress=False)
    video = root / 'videos' / 'val' / 'move_right' / '0000.mp4'
    model_args = [DEMO_CONFIG, demo_setup['ckpt'], demo_setup['label_map']]
    model = init_recognizer(DEMO_CONFIG, str(demo_setup['ckpt']))
    return dict(video=video, model_args=model_args, model=model,
                frames=decode_all(video)[0])


@pytest.fixture(scope='module')
def window_run(long_video, tmp_path_factory):
    out = tmp_path_factory.mktemp('window')
    paths = dict(json=out / 'segments.json', png=out / 'timeline.png',
                 video=out / 'labelled.mp4')
    status, stdout, stderr = run_demo(
        long_video['video'], *long_video['model_args'], '--window', 16,
        '--stride', 8, '--top-k', 3, '--out-json', paths['json'],
        '--timeline', paths['png'], '--out-file', paths['video'])
    assert status == 0, stderr
    return dict(paths, stdout=stdout,
                record=json.loads(paths['json'].read_text()))


def test_window_segments_equal_inference_on_each_window(
        long_video, window_run, tmp_path):
    record = window_run['record']
    assert (record['fps'], record['total_frames'], record['window'],
            record['stride']) == (25.0, 40, 16, 8)
    segments = record['segments']
    # (40 - 16) // 8 + 1 windows, every 8 frames, 16 long
    assert [(s['start_frame'], s['end_frame']) for s in segments] == \
        [(0, 16), (8, 24), (16, 32), (24, 40)]
    assert [(s['start_sec'], s['end_sec']) for s in segments] == \
        [(0.0, 0.64), (0.32, 0.96), (0.64, 1.28), (0.96, 1.6)]
    assert '4 segments of 40 frames (25 fps): window 16, stride 8' in \
        window_run['stdout']
    for index, segment in enumerate(segments):
        # the window's frames, lossless as PNG files, as a frame folder
        folder = tmp_path / f'window{index}'
        folder.mkdir()
        window = long_video['frames'][segment['start_frame']:
                                      segment['end_frame']]
        for i, frame in enumerate(window, start=1):
            cv2.imwrite(str(folder / f'img_{i:05}.png'),
                        cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        expected = top_k_classes(
            inference_recognizer(long_video['model'], str(folder),
                                 filename_tmpl='img_{:05}.png'), 3,
            [f'action_{chr(ord("a") + i)}' for i in range(8)])
        assert [(t['index'], t['label']) for t in segment['top_k']] == \
            [(i, name) for i, name, _ in expected]
        for got, (_, _, score) in zip(segment['top_k'], expected):
            assert got['score'] == pytest.approx(score, abs=1e-6)


def test_window_timeline_and_labelled_video(long_video, window_run):
    assert Image.open(window_run['png']).size == (1000, 400)
    frames, rate = decode_all(window_run['video'])
    source = long_video['frames']
    assert frames.shape == source.shape and rate == 25.0
    segments = [Segment(s['start_frame'], s['end_frame'],
                        [(t['index'], t['label'], t['score'])
                         for t in s['top_k']], ())
                for s in window_run['record']['segments']]
    for index in (0, 15, 30, 39):
        shown = segment_at(segments, index)
        lines = label_lines(shown.top, f'{shown.start / 25:.2f}-'
                            f'{shown.end / 25:.2f} s')
        drawn, (_, _, x1, y1) = draw_labels(source[index], lines)
        got = frames[index].astype(int)
        inside = np.zeros(got.shape[:2], bool)
        inside[:y1, :x1] = True
        away = np.ones(got.shape[:2], bool)  # 16 px off the box's edges
        away[:y1 + 16, :x1 + 16] = False
        assert 20 < away.sum() < inside.sum() * 2
        # the label box is drawn; the rest is the input (to codec loss)
        assert np.abs(got - source[index])[inside].mean() > 30
        assert np.abs(got - source[index])[away].mean() < 3
        # and it holds this frame's segment, not a neighbour's
        errors = {}
        for other in segments:
            other_lines = label_lines(other.top, f'{other.start / 25:.2f}-'
                                      f'{other.end / 25:.2f} s')
            errors[other.start] = np.abs(
                got - draw_labels(source[index], other_lines)[0])[
                    inside].mean()
        assert min(errors, key=errors.get) == shown.start


def test_window_longer_than_the_video_is_the_whole_video(long_video,
                                                         tmp_path):
    path = tmp_path / 'one.json'
    status, stdout, stderr = run_demo(
        long_video['video'], *long_video['model_args'], '--window', 64,
        '--out-json', path)
    assert status == 0, stderr
    assert 'note: --window 64 is longer than the video (40 frames): one ' \
        'segment of the whole video' in stdout
    segments = json.loads(path.read_text())['segments']
    assert [(s['start_frame'], s['end_frame']) for s in segments] == \
        [(0, 40)]
    # the same scores as the whole file through the test pipeline
    whole = top_k_classes(
        inference_recognizer(long_video['model'], str(long_video['video'])),
        5)
    assert [(t['index'], pytest.approx(t['score'], abs=1e-6))
            for t in segments[0]['top_k']] == [(i, s) for i, _, s in whole]


def test_camera_stand_in_equals_window_mode(long_video, window_run,
                                            tmp_path, monkeypatch):
    real = cv2.VideoCapture
    opened = []

    def capture(source):  # camera 0 is the test video
        opened.append(source)
        return real(str(long_video['video']) if source == 0 else source)

    monkeypatch.setattr(cv2, 'VideoCapture', capture)
    paths = dict(json=tmp_path / 'camera.json', video=tmp_path / 'cam.mp4')
    status, stdout, stderr = run_demo(
        '--camera', 0, *long_video['model_args'], '--window', 16, '--stride',
        8, '--top-k', 3, '--no-show', '--out-json', paths['json'],
        '--out-file', paths['video'])
    assert status == 0, stderr
    assert opened == [0]
    assert 'stopped (end of stream) after 40 frames: 4 segments' in stdout
    record = json.loads(paths['json'].read_text())
    assert record['video'] == '0'
    assert record['segments'] == window_run['record']['segments']
    frames, rate = decode_all(paths['video'])
    assert frames.shape == long_video['frames'].shape and rate == 25.0

    status, stdout, stderr = run_demo(
        '--camera', long_video['video'], *long_video['model_args'],
        '--stride', 8, '--no-show', '--max-frames', 20,
        '--out-json', paths['json'])
    assert status == 0, stderr
    # default window: the test pipeline's clip, 16 frames x interval 2
    # (32 > 20 frames: one segment of them all at the end)
    assert 'stopped (max frames) after 20 frames: 1 segments' in stdout
    segments = json.loads(paths['json'].read_text())['segments']
    assert json.loads(paths['json'].read_text())['window'] == 32
    assert [(s['start_frame'], s['end_frame']) for s in segments] == \
        [(0, 20)]


def test_whole_video_labelled_and_atomic(long_video, tmp_path, monkeypatch):
    out = tmp_path / 'whole.mp4'
    status, stdout, stderr = run_demo(
        long_video['video'], *long_video['model_args'], '--out-file', out,
        '--target-resolution', 64, -1, '--top-k', 2)
    assert status == 0, stderr
    assert 'top-2 classes of' in stdout
    frames, rate = decode_all(out)
    assert frames.shape == (40, 48, 64, 3) and rate == 25.0
    # a failure while writing leaves neither the file nor a partial one
    calls = []

    def failing(frame, lines):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError('disk full')
        return frame, (0, 0, 0, 0)

    monkeypatch.setattr(labelled_video, 'draw_labels', failing)
    failed = tmp_path / 'failed.mp4'
    status, _, stderr = run_demo(long_video['video'],
                                 *long_video['model_args'], '--out-file',
                                 failed)
    assert status == 1 and 'error: disk full' in stderr
    assert sorted(os.listdir(tmp_path)) == ['whole.mp4']


@pytest.mark.parametrize('args,message', [
    (['--window', 16, '--stride', 0], '--stride must be an int >= 1, got 0'),
    (['--window', 0], '--window must be an int >= 1, got 0'),
    (['--stride', 4], '--stride needs --window'),
    (['--out-json', 'x.json'], '--out-json needs --window (or --camera)'),
    (['--timeline', 'x.png'], '--timeline needs --window (or --camera)'),
    (['--window', 8, '--timeline', 'x.svg'], '--timeline x.svg: give a .png '
     'file'),
    (['--out-file', 'out'], '--out-file out: give a video file (.mp4, '
     '.avi, .mkv, .mov)'),
    (['--max-frames', 5], '--max-frames needs --camera'),
    (['--no-show'], '--no-show needs --camera'),
    (['--camera', 0], 'give either VIDEO or --camera SOURCE (not both)'),
    (['--target-resolution', 64, 48], '--target-resolution needs '
     '--out-file'),
    (['--out-file', 'o.mp4', '--target-resolution', 0, 48],
     '--target-resolution must be W H'),
    (['--top-k', 0], '--top-k must be >= 1')])
def test_bad_arguments(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run_demo('video.mp4', 'config.py', 'ckpt.pth',
                                      'labels.txt', *args)
    assert status == 1 and stdout == ''
    assert stderr.startswith(f'error: {message}') and \
        stderr.count('\n') == 1
    assert os.listdir(tmp_path) == []


def test_timeline_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, 'matplotlib.figure', None)
    status, _, stderr = run_demo('video.mp4', 'config.py', 'ckpt.pth',
                                 'labels.txt', '--window', 8, '--timeline',
                                 tmp_path / 't.png')
    assert (status, stderr) == (1, 'error: the timeline needs matplotlib: '
                                'pip install matplotlib\n')


def test_neither_video_nor_camera():
    status, _, stderr = run_demo('config.py', 'ckpt.pth', 'labels.txt')
    assert (status, stderr) == (1, 'error: give either VIDEO or --camera '
                                'SOURCE (not both)\n')
