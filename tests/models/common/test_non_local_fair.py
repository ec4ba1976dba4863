"""NonLocal3d's FAIR options: pool x before the phi / g convs, and a bias on
the output conv.

The reference is FAIR's block written from the paper and the Caffe2 /
PySlowFast formulas with plain torch ops on the module's raw parameters:
``P = maxpool_1x2x2(x)``, ``theta = W_t x + b_t``, ``phi = W_p P + b_p``,
``g = W_g P + b_g``, ``y = softmax(theta^T phi * d^-1/2) g^T``,
``z = x + BN(W_o y + b_o)``.
"""
import pytest
import torch
import torch.nn.functional as F

from mmvid.models.common import NonLocal3d

SHAPE = (2, 16, 4, 8, 8)  # N, C, T, H, W
FAIR = dict(sub_sample=True, pool_before_conv=True, out_bias=True,
            use_scale=True, norm_cfg=dict(type='BN3d'))


def randomize_(module: NonLocal3d) -> None:
    gen = torch.Generator().manual_seed(7)
    with torch.no_grad():
        for name, p in module.named_parameters():
            std = 0.5 if name.startswith(('theta', 'phi')) else 0.3
            p.copy_(torch.randn(p.shape, generator=gen) * std)
        bn = module.conv_out.bn
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen))
        bn.running_var.copy_(torch.rand(bn.num_features, generator=gen) + .5)
        bn.weight.add_(1.0)
    module.eval()


def conv1x1(x, sd, name):
    return F.conv3d(x, sd[f'{name}.weight'], sd.get(f'{name}.bias'))


def fair_reference(x: torch.Tensor, sd: dict, mode: str) -> torch.Tensor:
    """FAIR's non-local block from raw parameters (names as in mmvid)."""
    n, c, t, h, w = x.shape
    pooled = F.max_pool3d(x, (1, 2, 2))
    g = conv1x1(pooled, sd, 'g.0.conv').flatten(2)  # [N, C', P']
    if mode == 'gaussian':
        theta, phi = x.flatten(2), pooled.flatten(2)
    else:
        theta = conv1x1(x, sd, 'theta.conv').flatten(2)  # [N, C', P]
        phi = conv1x1(pooled, sd, 'phi.0.conv').flatten(2)  # [N, C', P']
    f = torch.einsum('ncp,ncq->npq', theta, phi)  # [N, P, P']
    if mode == 'embedded_gaussian':
        weights = torch.softmax(f * theta.shape[1]**-0.5, dim=-1)
    elif mode == 'gaussian':
        weights = torch.softmax(f, dim=-1)
    else:  # dot_product
        weights = f / f.shape[-1]
    y = torch.einsum('npq,ncq->ncp', weights, g).reshape(n, -1, t, h, w)
    z = conv1x1(y, sd, 'conv_out.conv')
    z = F.batch_norm(z, sd['conv_out.bn.running_mean'],
                     sd['conv_out.bn.running_var'], sd['conv_out.bn.weight'],
                     sd['conv_out.bn.bias'], eps=1e-5)
    return x + z


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('mode',
                         ['embedded_gaussian', 'gaussian', 'dot_product'])
def test_fair_block_matches_the_fair_formula(mode, attention):
    m = NonLocal3d(16, mode=mode, attention=attention, **FAIR)
    randomize_(m)
    x = torch.randn(SHAPE, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = m(x)
        ref = fair_reference(x, dict(m.state_dict()), mode)
    assert ((out - ref).norm() / ref.norm()).item() < 1e-5
    # pooling after the convs (mmcv) is a different function
    m.pool_before_conv = False
    with torch.no_grad():
        assert ((m(x) - ref).norm() / ref.norm()).item() > 1e-3


def test_out_bias_adds_one_key_and_keeps_the_zero_init():
    plain = NonLocal3d(16, sub_sample=True, norm_cfg=dict(type='BN3d'))
    fair = NonLocal3d(16, **FAIR)
    extra = set(fair.state_dict()) - set(plain.state_dict())
    assert extra == {'conv_out.conv.bias'}
    assert set(plain.state_dict()) <= set(fair.state_dict())
    assert fair.conv_out.conv.bias.shape == (16, )
    # the BN still starts at zero, so the block starts as the identity
    x = torch.randn(SHAPE)
    fair.eval()
    with torch.no_grad():
        assert torch.equal(fair(x), x)


def test_fair_block_trains():
    m = NonLocal3d(16, **FAIR)
    randomize_(m)
    m.train()
    x = torch.randn(SHAPE, requires_grad=True)
    m(x).square().sum().backward()
    assert m.phi[0].conv.weight.grad.abs().sum() > 0
    assert m.conv_out.conv.bias.grad.abs().sum() > 0


@pytest.mark.parametrize('kwargs,message', [
    (dict(pool_before_conv=True), 'pool_before_conv=True needs sub_sample'),
    (dict(pool_before_conv=True, sub_sample=True, mode='concatenation'),
     'not supported'),
])
def test_bad_fair_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NonLocal3d(16, **kwargs)
