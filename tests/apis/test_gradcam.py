"""Grad-CAM of one clip: equal to a computation by hand (a forward hook
keeping the layer's output, ``backward`` from the class's logit, the
formula written out), the clip's size, in [0, 1], per class, and the
refusals of bad layers and classes."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmvid.apis import init_recognizer
from mmvid.apis.gradcam import (cam_from_activation, default_target_layer,
                                grad_cam, gradcam_video, resolve_target_class)
from mmvid.apis.inference import prepare_test_inputs
from mmvid.registry import MODELS
from mmvid.utils import register_all_modules
from tests.helpers import (REPO, model_config, randomize_bns,
                           tiny_video_set)

DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')
NAMES = [f'action_{chr(ord("a") + i)}' for i in range(8)]


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """The demo model (random weights, spread batch norms), one tiny
    synthetic video and its packed test-pipeline sample."""
    root = tmp_path_factory.mktemp('gradcam') / 'syn'
    tiny_video_set(root)
    torch.manual_seed(3)
    model = randomize_bns(init_recognizer(DEMO_CONFIG))
    video = next((root / 'videos' / 'val').glob('*/0000.mp4'))
    data = prepare_test_inputs(model, str(video))
    return model, video, data


def by_hand(model, data, layer_name, target=None):
    """Grad-CAM of view 0, computed independently: the clip normalised with
    the config's mean / std, a forward hook keeping the layer's output with
    ``retain_grad``, ``backward`` from the logit, then the formula."""
    cfg = model.cfg.model.data_preprocessor
    mean = torch.tensor(cfg.mean).view(3, 1, 1, 1)
    std = torch.tensor(cfg.std).view(3, 1, 1, 1)
    clip = ((data['inputs'][0].float() - mean) / std)[None]
    clip = clip.contiguous(memory_format=torch.channels_last_3d)
    clip.requires_grad_(True)
    kept = []

    def keep(module, args, output):
        output.retain_grad()
        kept.append(output)

    layer = dict(model.named_modules())[layer_name]
    handle = layer.register_forward_hook(keep)
    try:
        logits = model.cls_head(model.backbone(clip))[0]
        target = int(logits.argmax()) if target is None else target
        logits[target].backward()
    finally:
        handle.remove()
        model.zero_grad(set_to_none=True)
    act, grad = kept[0].detach()[0], kept[0].grad[0]
    cam = torch.zeros(act.shape[1:])
    for c in range(act.shape[0]):
        cam += grad[c].mean() * act[c]
    cam = F.interpolate(cam.clamp(min=0)[None, None],
                        size=data['inputs'].shape[2:], mode='trilinear',
                        align_corners=False)[0, 0]
    return (cam - cam.min()) / (cam.max() - cam.min()), target, logits


def test_cam_equals_the_computation_by_hand(setup):
    model, _, data = setup
    result = grad_cam(model, data)
    expected, target, logits = by_hand(model, data, 'backbone.layer4.1')
    t, h, w = data['inputs'].shape[2:]
    assert (t, h, w) == (16, 64, 64)
    assert result.cam.shape == (t, h, w)
    assert result.target_layer == 'backbone.layer4.1'
    assert result.target_class == target  # the top-1 class
    torch.testing.assert_close(result.scores, logits.detach())
    torch.testing.assert_close(result.cam, expected, atol=1e-5, rtol=1e-5)
    assert float(result.cam.min()) == 0.0 and float(result.cam.max()) == 1.0
    # the frames: the first view, un-normalised, [T, H, W, RGB]
    np.testing.assert_array_equal(
        result.frames, data['inputs'][0].permute(1, 2, 3, 0).numpy())


def test_cam_depends_on_the_target_class_and_layer(setup):
    model, _, data = setup
    maps = {c: grad_cam(model, data, target_class=c).cam for c in (1, 6)}
    assert float((maps[1] - maps[6]).abs().max()) > 0.2
    # any block as target layer, checked against the computation by hand
    result = grad_cam(model, data, 'backbone.layer3.0', target_class=6)
    expected, _, _ = by_hand(model, data, 'backbone.layer3.0', 6)
    torch.testing.assert_close(result.cam, expected, atol=1e-5, rtol=1e-5)
    assert float((result.cam - maps[6]).abs().max()) > 0.2


def test_target_class_by_name_and_view(setup):
    model, video, data = setup
    by_name = gradcam_video(model, str(video), target_class='action_c',
                            class_names=NAMES)
    by_index = grad_cam(model, data, target_class=2)
    assert by_name.target_class == 2
    torch.testing.assert_close(by_name.cam, by_index.cam)
    assert by_name.scores[2] == by_index.scores[2]
    other_view = grad_cam(model, data, target_class=2, view=4)
    np.testing.assert_array_equal(
        other_view.frames, data['inputs'][4].permute(1, 2, 3, 0).numpy())
    with pytest.raises(ValueError, match=r'view 6 out of range: the '
                       r'pipeline gave 6 views'):
        grad_cam(model, data, view=6)


def test_model_state_is_restored(setup):
    model, _, data = setup
    frozen = model.backbone.conv1.conv.weight
    frozen.requires_grad_(False)
    model.train()
    try:
        grad_cam(model, data, target_class=0)
        assert model.training and model.backbone.layer4.training
        assert not frozen.requires_grad
        assert all(p.requires_grad for n, p in model.named_parameters()
                   if n != 'backbone.conv1.conv.weight')
        assert all(p.grad is None for p in model.parameters())
    finally:
        frozen.requires_grad_(True)
        model.eval()


def test_to_rgb_preprocessor_flips_the_frames(setup, monkeypatch):
    model, _, data = setup
    monkeypatch.setattr(model.data_preprocessor, 'to_rgb', True)
    result = grad_cam(model, data)
    np.testing.assert_array_equal(
        result.frames, data['inputs'][0].permute(1, 2, 3, 0).flip(-1).numpy())


def test_bad_target_layer_lists_valid_names(setup):
    model, _, data = setup
    with pytest.raises(ValueError) as error:
        grad_cam(model, data, 'backbone.layer5.0')
    message = str(error.value)
    assert message.startswith("no layer 'backbone.layer5.0' in the model; "
                              'valid target layers: backbone.conv1, ')
    for name in ('backbone.layer1.0', 'backbone.layer4', 'backbone.layer4.1'):
        assert f'{name},' in message or f'{name} (' in message
    assert 'backbone.layer4.1.conv1' not in message
    with pytest.raises(ValueError, match=r"target layer 'cls_head.fc_cls' "
                       r'gives \(1, 8\); Grad-CAM needs a \[N, C, T, H, W\]'):
        grad_cam(model, data, 'cls_head.fc_cls')



def test_layer_run_twice_is_refused(setup):
    model, _, data = setup
    layer4 = model.backbone.layer4
    model.backbone.layer4 = torch.nn.Sequential(layer4[0], layer4[1],
                                                layer4[1])
    try:
        with pytest.raises(ValueError) as error:
            grad_cam(model, data)
    finally:
        model.backbone.layer4 = layer4
    assert str(error.value) == (
        "target layer 'backbone.layer4.2' ran 2 times in one forward pass; "
        'pick a layer that runs once (a block such as backbone.layer4.1)')


def test_bad_target_class_is_refused(setup):
    model, _, data = setup
    with pytest.raises(ValueError, match=r"unknown target class 'jump'; "
                       r'classes: action_a, action_b, .*, action_h$'):
        grad_cam(model, data, target_class='jump', class_names=NAMES)
    with pytest.raises(ValueError, match=r"target class 'jump' is a name: "
                       r'give the class names'):
        grad_cam(model, data, target_class='jump')
    with pytest.raises(ValueError, match=r'target class 8 out of range: the '
                       r'model has 8 classes \(0 \.\. 7\)'):
        grad_cam(model, data, target_class='8')
    with pytest.raises(ValueError, match='3 class names for a model with 8'):
        grad_cam(model, data, class_names=NAMES[:3])


def test_resolve_target_class():
    assert resolve_target_class(None, 4) is None
    assert resolve_target_class(3, 4) == 3
    assert resolve_target_class(' 2 ', 4, ['a', 'b', 'c', 'd']) == 2
    assert resolve_target_class('c', 4, ['a', 'b', 'c', 'd']) == 2
    with pytest.raises(ValueError, match='target class -1 out of range'):
        resolve_target_class(-1, 4)
    with pytest.raises(TypeError, match='got float'):
        resolve_target_class(1.0, 4)


def test_cam_from_activation_exact():
    """Weights 1 and -0.5 (gradient means); sum [[0, 3]]; ReLU; scaled."""
    activation = torch.tensor([[[[1., 3.]]], [[[2., 0.]]]])  # [2, 1, 1, 2]
    gradient = torch.tensor([[[[0.5, 1.5]]], [[[-1., 0.]]]])
    cam = cam_from_activation(activation, gradient, (1, 1, 2))
    assert cam.tolist() == [[[0.0, 1.0]]]
    # upsampled in time, too: [1, 1, 2] -> [2, 1, 4] (trilinear)
    cam = cam_from_activation(activation, gradient, (2, 1, 4))
    assert cam.tolist() == [[[0.0, 0.25, 0.75, 1.0]]] * 2
    # one weight per channel over all of T, H, W (not one per time step,
    # which would give [1, 1] here, a constant map)
    activation_t = torch.tensor([[1., 1.], [0., 2.]]).view(2, 2, 1, 1)
    gradient_t = torch.tensor([[1., -1.], [1., 1.]]).view(2, 2, 1, 1)
    assert cam_from_activation(activation_t, gradient_t,
                               (2, 1, 1)).flatten().tolist() == [0.0, 1.0]
    # negative everywhere after the weighting: all zeros, not NaN
    assert cam_from_activation(activation, -gradient.abs(),
                               (1, 1, 2)).tolist() == [[[0.0, 0.0]]]
    with pytest.raises(ValueError, match=r'both be \[C, T, H, W\]'):
        cam_from_activation(activation[0], gradient[0], (1, 1, 2))


def test_default_target_layer_is_the_last_block():
    register_all_modules()
    r18 = MODELS.build(Config.fromfile(DEMO_CONFIG).model)
    assert default_target_layer(r18) == 'backbone.layer4.1'
    cfg = model_config('i3d_r50')
    cfg.model.backbone.pretrained2d = False
    r50 = MODELS.build(cfg.model)
    assert default_target_layer(r50) == 'backbone.layer4.2'
    assert isinstance(dict(r50.named_modules())['backbone.layer4.2'],
                      type(r50.backbone.layer4[0]))
    with pytest.raises(ValueError, match='no backbone with res_layers'):
        default_target_layer(torch.nn.Linear(2, 2))
