"""demo/gradcam.py writes the map of ``mmvid.apis.gradcam`` blended over the
clip's frames, and names what it explained; bad layers and classes are
refused with a message."""
import importlib.util
import os.path as osp

import decord
import numpy as np
import pytest
import torch
from PIL import Image

from mmvid.apis import init_recognizer
from mmvid.visualization.cam_overlay import overlay_cam
from mmvid.apis.gradcam import gradcam_video
from tests.helpers import REPO, randomize_bns, tiny_video_set

DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'gradcam_demo', osp.join(REPO, 'demo', 'gradcam.py'))
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    return demo


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A random demo-model checkpoint, its label map and a tiny video."""
    tmp_path = tmp_path_factory.mktemp('gradcam_demo')
    root = tmp_path / 'syn'
    tiny_video_set(root)
    torch.manual_seed(11)
    model = randomize_bns(init_recognizer(DEMO_CONFIG))
    ckpt = tmp_path / 'random_demo.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    names = [f'class_{i}' for i in range(8)]
    label_map = tmp_path / 'labels.txt'
    label_map.write_text('\n'.join(names) + '\n')
    video = root / 'videos' / 'val' / 'move_left' / '0000.mp4'
    return dict(model=model, ckpt=str(ckpt), label_map=str(label_map),
                names=names, video=str(video))


def test_gif_of_a_named_class(setup, tmp_path, capsys):
    out = tmp_path / 'cam.gif'
    assert load_demo().main([
        setup['video'], DEMO_CONFIG, setup['ckpt'], '--label-map',
        setup['label_map'], '--target-class', 'class_5', '--out-file',
        str(out), '--fps', '5']) == 0
    expected = gradcam_video(setup['model'], setup['video'], target_class=5)
    blended = overlay_cam(expected.frames, expected.cam, 0.5)
    score = expected.scores[5].item()
    assert capsys.readouterr().out.splitlines()[-1] == (
        f'Grad-CAM of class 5 (class_5), score {score:.6f}, at '
        f'backbone.layer4.1: 16 frames of 64x64 written to {out}')
    with Image.open(out) as gif:
        assert gif.n_frames == 16 and gif.size == (64, 64)
        assert gif.info['duration'] == 200
        gif.seek(7)
        got = np.asarray(gif.convert('RGB')).astype(int)
    assert np.abs(got - blended[7]).mean() < 4  # GIF palette


def test_mp4_of_the_top1_class(setup, tmp_path, capsys):
    out = tmp_path / 'cam.mp4'
    assert load_demo().main([
        setup['video'], DEMO_CONFIG, setup['ckpt'], '--out-file', str(out),
        '--target-layer', 'backbone.layer3.1']) == 0
    top1 = int(gradcam_video(setup['model'], setup['video']).scores.argmax())
    assert capsys.readouterr().out.splitlines()[-1].startswith(
        f'Grad-CAM of class {top1}, score ')
    reader = decord.VideoReader(str(out))
    assert len(reader) == 16 and reader[0].shape == (64, 64, 3)


@pytest.mark.parametrize('args, message', [
    (['--target-layer', 'backbone.layer9'],
     "error: no layer 'backbone.layer9' in the model; valid target layers: "
     'backbone.conv1, '),
    (['--target-class', 'jump', '--label-map', None],
     "error: unknown target class 'jump'; classes: class_0, class_1, "),
    (['--target-class', 'jump'], "error: target class 'jump' is a name"),
])
def test_refusals(setup, tmp_path, capsys, args, message):
    args = [setup['label_map'] if a is None else a for a in args]
    out = tmp_path / 'cam.gif'
    assert load_demo().main([setup['video'], DEMO_CONFIG, setup['ckpt'],
                             '--out-file', str(out)] + args) == 1
    # the error line itself: a logger left by an earlier test may write a
    # '--- Logging error ---' report to stderr first
    errors = [line for line in capsys.readouterr().err.splitlines()
              if line.startswith('error: ')]
    assert len(errors) == 1 and errors[0].startswith(message)
    assert not out.exists()
