"""MAC counting: SDPA counted like the explicit form; zoo figures."""
import pytest
import torch.nn as nn

from mmvid.registry import MODELS
from mmvid.analysis.complexity import model_complexity
from tests.helpers import model_config


class Wrapper(nn.Module):
    """A 'recognizer' whose backbone is one non-local block."""

    def __init__(self, attention):
        super().__init__()
        self.backbone = MODELS.build(dict(
            type='NonLocal3d', in_channels=32, sub_sample=True,
            mode='embedded_gaussian', attention=attention,
            norm_cfg=None))  # no BN: the count is convs + attention only


def test_sdpa_rule_counts_like_explicit_attention():
    shape = (2, 32, 4, 8, 8)
    sdpa, _ = model_complexity(Wrapper('sdpa'), shape)
    matmul, _ = model_complexity(Wrapper('matmul'), shape)
    assert sdpa == matmul
    # 4 1x1x1 convs (g, theta, phi: 32->16; conv_out 16->32) on 256 positions
    # + attention: 256 queries x 64 keys x (16 + 16) channels, batch 2
    convs = 2 * 256 * (3 * 32 * 16 + 16 * 32)
    attention = 2 * 256 * 64 * (16 + 16)
    assert sdpa == convs + attention


@pytest.mark.parametrize('config,gmacs,params', [
    ('i3d_r50', 43.5, 28_043_472),  # mmaction2 zoo: 43.5G, 28.0M
    ('i3d_nl_embedded_gaussian_r50', 59.3, 35_397_840),  # 59.3G, 35.4M
])
def test_zoo_figures_at_256(config, gmacs, params):
    model = MODELS.build(model_config(config).model)
    macs, num_params = model_complexity(model, (1, 3, 32, 256, 256))
    assert macs / 1e9 == pytest.approx(gmacs, abs=0.05)
    assert num_params == params


def test_bad_shape():
    with pytest.raises(ValueError, match=r'input_shape must be \(N, C, T, H, '
                       r'W\)'):
        model_complexity(Wrapper('sdpa'), (1, 32, 8, 8))
