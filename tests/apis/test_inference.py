"""init_recognizer loads mmaction2-style checkpoints strictly."""
import os.path as osp
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mmvid.apis import init_recognizer
from mmvid.registry import MODELS
from mmvid.checkpoint import CheckpointError
from tests.helpers import MODEL_CONFIGS, model_config

NL_CONFIG = osp.join(MODEL_CONFIGS, 'i3d_nl_embedded_gaussian_r50.py')


def randomized(model):
    """Random weights and BN statistics everywhere (non-local too)."""
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                if name.endswith('running_var'):
                    tensor.uniform_(0.5, 1.5)
                elif '.bn.weight' in name:
                    tensor.uniform_(0.5, 1.5)
                else:
                    tensor.normal_(0, 0.05)
    return model.eval()


@pytest.fixture(scope='module')
def nl_model_and_file(tmp_path_factory):
    """An NL embedded-gaussian I3D saved as mmaction2 0.x saves it."""
    torch.manual_seed(1)
    model = randomized(MODELS.build(
        model_config('i3d_nl_embedded_gaussian_r50').model))
    path = tmp_path_factory.mktemp('ckpt') / 'i3d_nl_eg_mmaction2.pth'
    state = OrderedDict(
        (f'module.{k}', v) for k, v in model.state_dict().items())
    torch.save(
        dict(meta=dict(mmcv_version='1.7.0', epoch=100,
                       hook_msgs=dict(best_score=np.float64(0.747))),
             state_dict=state), path)
    return model, str(path)


def test_mmaction2_checkpoint_loads_strictly_with_same_logits(
        nl_model_and_file):
    reference, path = nl_model_and_file
    model = init_recognizer(NL_CONFIG, path)  # pretrained is turned off
    assert not model.training
    x = torch.randn(2, 3, 8, 64, 64)
    with torch.no_grad():
        expected = reference.cls_head(reference.backbone(x))
        actual = model.cls_head(model.backbone(x))
    torch.testing.assert_close(actual, expected, rtol=0, atol=0)
    assert model.cfg.model.backbone.pretrained is None


def test_strict_load_names_missing_keys(nl_model_and_file, tmp_path):
    reference, _ = nl_model_and_file
    state = reference.state_dict()
    del state['backbone.layer3.5.non_local_block.theta.conv.bias']
    path = tmp_path / 'incomplete.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointError,
                       match='layer3.5.non_local_block.theta.conv.bias'):
        init_recognizer(NL_CONFIG, str(path))
    model = init_recognizer(NL_CONFIG, str(path), strict=False)
    assert not model.training


def test_no_checkpoint_initialises_randomly():
    model = init_recognizer(NL_CONFIG,
                            cfg_options={'model.cls_head.num_classes': 7})
    assert model.cls_head.fc_cls.weight.shape == (7, 2048)
    assert abs(model.cls_head.fc_cls.weight.std().item() - 0.01) < 2e-3


def test_bad_config_argument():
    with pytest.raises(TypeError, match='config must be a path'):
        init_recognizer(dict(model=dict()))
