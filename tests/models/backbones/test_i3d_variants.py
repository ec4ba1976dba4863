"""The four I3D R50 configs build exactly mmaction2's state-dict layout."""
import pytest
import torch

from mmvid.models import ResNet3d  # noqa: F401  (registers the models)
from mmvid.registry import MODELS

from tests.helpers import model_config
from tests.models.backbones.i3d_expected_keys import i3d_r50_keys

VARIANTS = [
    # config, non-local mode, #keys, #parameters (mmaction2 0.x measured)
    ('i3d_r50', None, 320, 28_043_472),
    ('i3d_nl_dot_product_r50', 'dot_product', 380, 35_397_840),
    ('i3d_nl_embedded_gaussian_r50', 'embedded_gaussian', 380, 35_397_840),
    ('i3d_nl_gaussian_r50', 'gaussian', 360, 31_723_728),
]


@pytest.mark.parametrize('config,mode,num_keys,num_params', VARIANTS)
def test_state_dict_layout_equals_mmaction2(config, mode, num_keys,
                                            num_params):
    model = MODELS.build(model_config(config).model)
    state = model.state_dict()
    layout = {k: tuple(v.shape) for k, v in state.items()}
    expected = i3d_r50_keys(mode)
    assert list(layout) == list(expected)  # same keys, same order
    assert layout == expected
    assert len(state) == num_keys
    assert sum(p.numel() for p in model.parameters()) == num_params


def test_i3d_stage_shapes_at_224():
    """mmaction2's measured feature-map shapes for [1, 3, 32, 224, 224]."""
    backbone = MODELS.build(model_config('i3d_r50').model.backbone).eval()
    shapes = {}
    for name in ('conv1', 'maxpool', 'layer1', 'pool2', 'layer2', 'layer3',
                 'layer4'):
        getattr(backbone, name).register_forward_hook(
            lambda m, i, o, name=name: shapes.__setitem__(
                name, list(o.shape[1:])))
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, 32, 224, 224))
    assert shapes == {
        'conv1': [64, 16, 112, 112],
        'maxpool': [64, 8, 56, 56],
        'layer1': [256, 8, 56, 56],
        'pool2': [256, 4, 56, 56],
        'layer2': [512, 4, 28, 28],
        'layer3': [1024, 4, 14, 14],
        'layer4': [2048, 4, 7, 7],
    }
    assert out.shape == (1, 2048, 4, 7, 7)


def test_heavy_variant_shapes_and_size():
    cfg = model_config('i3d_r50').model.backbone
    cfg.update(inflate=(1, 1, 1, 1), conv1_stride_t=1, pool1_stride_t=1,
               with_pool2=True)
    backbone = MODELS.build(cfg).eval()
    with torch.no_grad():
        out = backbone(torch.randn(1, 3, 8, 64, 64))
    assert out.shape == (1, 2048, 4, 2, 2)
    # mmaction2's heavy model: 33,024,208 parameters with the 400-way head
    head_params = 2048 * 400 + 400
    assert sum(p.numel() for p in backbone.parameters()) == \
        33_024_208 - head_params
