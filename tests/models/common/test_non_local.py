"""NonLocal3d: explicit-formula equivalence, sdpa vs matmul, names, init.

The reference below is written from the paper / mmcv's formulas with plain
torch ops on copies of the module's parameters, so it shares no code with
``mmvid.models.common.non_local``.
"""
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import NonLocal3d as MMCVNonLocal3d
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from mmvid.models.common import NonLocal3d
from mmvid.models.common.non_local import reassociate_is_cheaper

MODES = ('embedded_gaussian', 'gaussian', 'dot_product', 'concatenation')
TOL = 1e-5
SHAPE = (2, 16, 4, 8, 8)  # N, C, T, H, W


def rel_err(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm()).item()


def cases():
    """(mode, sub_sample, use_scale); use_scale only matters for EG."""
    out = []
    for mode, sub_sample in itertools.product(MODES, (False, True)):
        scales = (False, True) if mode == 'embedded_gaussian' else (True, )
        out += [(mode, sub_sample, s) for s in scales]
    return out


def case_id(case):
    mode, sub_sample, use_scale = case
    return f'{mode}-sub{int(sub_sample)}-scale{int(use_scale)}'


def randomize_(module: NonLocal3d) -> None:
    """Random weights everywhere, random BN stats / affine, eval mode.

    theta/phi get std 0.5 (the rest 0.3) so that softmax attention is peaked
    even with the ``C'^-1/2`` scale.
    """
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for name, p in module.named_parameters():
            std = 0.5 if name.startswith(('theta', 'phi')) else 0.3
            p.copy_(torch.randn(p.shape, generator=gen) * std)
        bn = module.conv_out.bn
        bn.running_mean.copy_(torch.randn(bn.num_features, generator=gen) *
                              0.2)
        bn.running_var.copy_(
            torch.rand(bn.num_features, generator=gen) * 1.5 + 0.5)
        bn.weight.add_(1.0)  # well away from the zero init
    module.eval()


def build(mode, sub_sample, use_scale, attention='sdpa', channels=16,
          randomize=True):
    m = NonLocal3d(
        channels,
        sub_sample=sub_sample,
        use_scale=use_scale,
        norm_cfg=dict(type='BN3d'),
        mode=mode,
        attention=attention)
    if randomize:
        randomize_(m)
    return m


def explicit_nonlocal(params, buffers, x, mode, sub_sample, use_scale,
                      bn_eps):
    """Non-local block with an explicit ``[N, P, P']`` weight matrix.

    Returns ``(out, weights)``.
    """
    n, _, t, h, w = x.shape

    def conv(inp, prefix):
        return F.conv3d(inp, params[prefix + '.weight'],
                        params.get(prefix + '.bias'))

    def pool(inp):
        return F.max_pool3d(inp, kernel_size=(1, 2, 2))

    sub = '.0' if sub_sample else ''
    g = conv(x, f'g{sub}.conv')
    if sub_sample:
        g = pool(g)
    if mode == 'gaussian':
        theta = x
        phi = pool(x) if sub_sample else x
    else:
        theta = conv(x, 'theta.conv')
        phi = conv(x, f'phi{sub}.conv')
        if sub_sample:
            phi = pool(phi)
    theta = theta.reshape(n, theta.shape[1], -1)  # [N, Ck, P]
    phi = phi.reshape(n, phi.shape[1], -1)  # [N, Ck, P']
    g = g.reshape(n, g.shape[1], -1)  # [N, Cv, P']
    num_q, num_k = theta.shape[2], phi.shape[2]

    if mode in ('embedded_gaussian', 'gaussian'):
        logits = torch.einsum('nci,ncj->nij', theta, phi)
        if mode == 'embedded_gaussian' and use_scale:
            logits = logits / math.sqrt(theta.shape[1])
        weights = torch.softmax(logits, dim=-1)
    elif mode == 'dot_product':
        weights = torch.einsum('nci,ncj->nij', theta, phi) / num_k
    else:  # concatenation: ReLU(w . [theta_i; phi_j]) / P'
        pairs = torch.cat([
            theta[:, :, :, None].expand(-1, -1, -1, num_k),
            phi[:, :, None, :].expand(-1, -1, num_q, -1)
        ], dim=1)  # [N, 2Ck, P, P']
        proj = F.conv2d(pairs, params['concat_project.conv.weight'])
        weights = F.relu(proj[:, 0]) / num_k

    y = torch.einsum('nij,ncj->nci', weights, g).reshape(n, -1, t, h, w)
    z = F.conv3d(y, params['conv_out.conv.weight'])

    def per_channel(v):
        return v[None, :, None, None, None]

    z = (z - per_channel(buffers['conv_out.bn.running_mean'])) / torch.sqrt(
        per_channel(buffers['conv_out.bn.running_var']) + bn_eps)
    z = z * per_channel(params['conv_out.bn.weight']) + per_channel(
        params['conv_out.bn.bias'])
    return x + z, weights


def reference_and_grads(module, x, grad_out, mode, sub_sample, use_scale):
    params = {
        k: v.detach().clone().requires_grad_(True)
        for k, v in module.named_parameters()
    }
    buffers = {k: v.detach().clone() for k, v in module.named_buffers()}
    xr = x.detach().clone().requires_grad_(True)
    out, weights = explicit_nonlocal(params, buffers, xr, mode, sub_sample,
                                     use_scale, module.conv_out.bn.eps)
    out.backward(grad_out)
    grads = {k: v.grad for k, v in params.items()}
    grads['input'] = xr.grad
    return out.detach(), weights.detach(), grads


def module_and_grads(module, x, grad_out):
    module.zero_grad(set_to_none=True)
    xm = x.detach().clone().requires_grad_(True)
    out = module(xm)
    out.backward(grad_out)
    grads = {k: v.grad for k, v in module.named_parameters()}
    grads['input'] = xm.grad
    return out.detach(), grads


def assert_grads_close(grads, ref_grads, mode):
    """Every gradient within ``TOL`` relative error of the reference.

    With softmax weights, phi's bias adds ``theta_i . b`` to a whole row of
    logits, which softmax ignores: its gradient is exactly zero in exact
    arithmetic, so both sides are rounding noise, checked against the scale
    of phi's weight gradient instead.
    """
    assert set(grads) == set(ref_grads)
    for name, ref_grad in ref_grads.items():
        assert grads[name] is not None, name
        if mode == 'embedded_gaussian' and name.startswith('phi') \
                and name.endswith('bias'):
            scale = ref_grads[name.replace('bias', 'weight')].norm()
            assert ref_grad.norm() <= TOL * scale, name
            assert grads[name].norm() <= TOL * scale, name
            continue
        assert ref_grad.norm() > 0, name
        err = rel_err(grads[name], ref_grad)
        assert err <= TOL, f'grad of {name}: rel err {err:.2e}'


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('case', cases(), ids=case_id)
def test_matches_explicit_formula(case, attention):
    mode, sub_sample, use_scale = case
    m = build(mode, sub_sample, use_scale, attention)
    x = torch.randn(SHAPE)
    grad_out = torch.randn(SHAPE)

    ref, weights, ref_grads = reference_and_grads(m, x, grad_out, *case)
    out, grads = module_and_grads(m, x, grad_out)

    # The block does something non-trivial: conv_out is far from zero...
    assert rel_err(ref, x) > 0.1
    # ...and softmax attention is far from uniform.
    if mode in ('embedded_gaussian', 'gaussian'):
        num_keys = weights.shape[-1]
        assert weights.max(-1).values.mean() > 10.0 / num_keys
        entropy = -(weights * weights.clamp_min(1e-30).log()).sum(-1).mean()
        assert entropy < 0.7 * math.log(num_keys)

    assert out.shape == x.shape
    assert rel_err(out, ref) <= TOL
    assert_grads_close(grads, ref_grads, mode)


class CallRecorder(TorchFunctionMode):
    """Records the functions called and the shapes of ``matmul`` results."""

    def __init__(self):
        super().__init__()
        self.funcs = []
        self.matmul_shapes = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        self.funcs.append(func)
        if func is torch.matmul:
            self.matmul_shapes.append(tuple(out.shape))
        return out


def forward_both(mode, sub_sample, use_scale, shape):
    sdpa = build(mode, sub_sample, use_scale, 'sdpa', channels=shape[1])
    matmul = build(mode, sub_sample, use_scale, 'matmul', channels=shape[1])
    matmul.load_state_dict(sdpa.state_dict())
    x = torch.randn(shape)
    with torch.no_grad(), CallRecorder() as rec:
        a = sdpa(x)
    with torch.no_grad():
        b = matmul(x)
    return a, b, rec


@pytest.mark.parametrize('case', cases(), ids=case_id)
def test_sdpa_matches_matmul(case):
    mode, sub_sample, use_scale = case
    a, b, rec = forward_both(mode, sub_sample, use_scale, SHAPE)
    assert rel_err(a, b) <= TOL
    uses_sdpa = F.scaled_dot_product_attention in rec.funcs
    # gaussian's keys have C channels and its values C/2: PyTorch's fused CPU
    # kernel cannot take that, so on CPU it runs the explicit formula
    assert uses_sdpa == (mode == 'embedded_gaussian')


def test_gaussian_uses_sdpa_when_key_and_value_widths_match():
    sdpa = NonLocal3d(16, reduction=1, mode='gaussian',
                      norm_cfg=dict(type='BN3d'), zeros_init=False).eval()
    matmul = NonLocal3d(16, reduction=1, mode='gaussian', attention='matmul',
                        norm_cfg=dict(type='BN3d'), zeros_init=False).eval()
    matmul.load_state_dict(sdpa.state_dict())
    x = torch.randn(2, 16, 2, 4, 4)
    with torch.no_grad(), CallRecorder() as rec:
        a = sdpa(x)
    assert F.scaled_dot_product_attention in rec.funcs
    with torch.no_grad():
        assert rel_err(a, matmul(x)) <= TOL


class OutputShapeRecorder(TorchDispatchMode):
    """Shapes of every tensor any aten op returns (forward and backward)."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        outs = out if isinstance(out, (tuple, list)) else (out, )
        self.shapes += [tuple(o.shape) for o in outs
                        if isinstance(o, torch.Tensor)]
        return out


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('sub_sample', [False, True])
def test_embedded_gaussian_sdpa_is_fused(sub_sample, attention):
    """sdpa never builds the [P, P'] weights (fused kernel), matmul does."""
    m = build('embedded_gaussian', sub_sample, True, attention)
    m.train()
    x = torch.randn(SHAPE, requires_grad=True)
    num_q = SHAPE[2] * SHAPE[3] * SHAPE[4]
    num_k = num_q // 4 if sub_sample else num_q
    with OutputShapeRecorder() as rec:
        m(x).backward(torch.randn(SHAPE))
    pairwise = [
        s for s in rec.shapes
        if len(s) >= 2 and {s[-2], s[-1]} == {num_q, num_k}
    ]
    assert bool(pairwise) is (attention == 'matmul'), pairwise


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('case', cases(), ids=case_id)
def test_matches_mmcv_forward(case, attention):
    """Same state dict, same output as mmcv's NonLocal3d (eval, forward)."""
    mode, sub_sample, use_scale = case
    m = build(mode, sub_sample, use_scale, attention)
    ref = MMCVNonLocal3d(
        16,
        sub_sample=sub_sample,
        use_scale=use_scale,
        norm_cfg=dict(type='BN3d'),
        mode=mode)
    ref.load_state_dict(m.state_dict(), strict=True)
    ref.eval()
    x = torch.randn(SHAPE)
    with torch.no_grad():
        assert rel_err(m(x), ref(x)) <= TOL


# (shape, sub_sample, expected reassociate_is_cheaper(P, P', C', C'))
REASSOC_CASES = [
    # P=256, P'=64, C'=8: 256*64*16 > 64*(256+64) -> reassociate
    ((2, 16, 4, 8, 8), True, True),
    # P=P'=16, C'=32: 16*16*64 < 32*32*32 -> explicit weights
    ((2, 64, 1, 4, 4), False, False),
]


@pytest.mark.parametrize('shape,sub_sample,cheaper', REASSOC_CASES)
def test_dot_product_reassociation_branches(shape, sub_sample, cheaper):
    n, c, t, h, w = shape
    num_q = t * h * w
    num_k = num_q // 4 if sub_sample else num_q
    inter = c // 2
    assert reassociate_is_cheaper(num_q, num_k, inter, inter) is cheaper

    a, b, rec = forward_both('dot_product', sub_sample, True, shape)
    assert rel_err(a, b) <= TOL
    # The reassociated branch never builds the [N, P, P'] weights.
    built_weights = (n, num_q, num_k) in rec.matmul_shapes
    assert built_weights is (not cheaper)
    if cheaper:
        assert (n, inter, inter) in rec.matmul_shapes  # k^T v


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('mode', MODES)
def test_channels_last_3d(mode, attention):
    m = build(mode, True, True, attention)
    x = torch.randn(SHAPE)
    grad_out = torch.randn(SHAPE)
    out, grads = module_and_grads(m, x, grad_out)
    x_cl = x.to(memory_format=torch.channels_last_3d)
    assert x_cl.is_contiguous(memory_format=torch.channels_last_3d)
    out_cl, grads_cl = module_and_grads(m, x_cl, grad_out)
    assert rel_err(out_cl, out) <= TOL
    assert_grads_close(grads_cl, grads, mode)


CONV_OUT_KEYS = [
    'conv_out.conv.weight', 'conv_out.bn.weight', 'conv_out.bn.bias',
    'conv_out.bn.running_mean', 'conv_out.bn.running_var',
    'conv_out.bn.num_batches_tracked'
]
EMBEDDED_KEYS = [
    'g.0.conv.weight', 'g.0.conv.bias', 'theta.conv.weight',
    'theta.conv.bias', 'phi.0.conv.weight', 'phi.0.conv.bias'
]
EXPECTED_KEYS = {
    'embedded_gaussian': EMBEDDED_KEYS + CONV_OUT_KEYS,
    'dot_product': EMBEDDED_KEYS + CONV_OUT_KEYS,
    'gaussian': ['g.0.conv.weight', 'g.0.conv.bias'] + CONV_OUT_KEYS,
    'concatenation':
    EMBEDDED_KEYS + ['concat_project.conv.weight'] + CONV_OUT_KEYS,
}


@pytest.mark.parametrize('mode', MODES)
def test_state_dict_keys(mode):
    m = build(mode, True, True, randomize=False)
    assert sorted(m.state_dict()) == sorted(EXPECTED_KEYS[mode])
    sd = m.state_dict()
    assert sd['g.0.conv.weight'].shape == (8, 16, 1, 1, 1)
    assert sd['conv_out.conv.weight'].shape == (16, 8, 1, 1, 1)


@pytest.mark.parametrize('attention', ['sdpa', 'matmul'])
@pytest.mark.parametrize('mode', MODES)
def test_zero_init_is_identity(mode, attention):
    m = build(mode, True, True, attention, randomize=False)
    bn = m.conv_out.bn
    assert torch.count_nonzero(bn.weight) == 0
    assert torch.count_nonzero(bn.bias) == 0
    # The other convs are initialised with std=0.01, not zeros.
    assert 0 < m.g[0].conv.weight.std() < 0.02
    x = torch.randn(SHAPE)
    for train in (False, True):
        m.train(train)
        with torch.no_grad():
            assert torch.equal(m(x), x)


@pytest.mark.parametrize('kwargs,name', [
    (dict(mode='foo'), 'mode'),
    (dict(attention='bar'), 'attention'),
    (dict(reduction=0), 'reduction'),
])
def test_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=name):
        NonLocal3d(16, **kwargs)
