"""Synthetic FAIR I3D networks, their files in every source format, and an
independent forward pass.

A :class:`Net` holds random numpy weights of a Caffe2-style I3D ResNet
(bottlenecks ``Tx1x1 -> 1x3x3 (stride) -> 1x1x1``, projection shortcut on
block 0, FAIR non-local blocks after chosen blocks, a linear classifier).
The writers lay them out under each source's real names (from the source
projects' naming, never mmvid's); :func:`reference_forward` runs them with
plain ``torch.nn.functional`` calls. A converted mmvid model must reproduce
that forward pass.
"""
import os.path as osp
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from tests.helpers import REPO

EPS = 1e-5
ZOO = osp.join(REPO, 'configs', 'recognition', 'i3d')
CONFIG_32X2 = 'i3d_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py'
CONFIG_32X2_NL = ('i3d_nl_embedded_gaussian_r50_32x2x1_400k_kinetics400_rgb_'
                  'videononlocalnet.py')
CONFIG_8X8 = 'i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py'
CONFIG_8X8_NL = ('i3d_nl_embedded_gaussian_r50_8x8x1_196e_kinetics400_rgb_'
                 'pyslowfast.py')
CONFIG_HMDB = 'i3d_r50_8x8x1_200e_hmdb51_split1_rgb_pyvideoai.py'


@dataclass(frozen=True)
class Layout:
    """The stem of a FAIR I3D: conv1 temporal stride and the max pool."""
    conv1_stride_t: int
    pool1_kernel: Tuple[int, int, int]
    pool1_stride: Tuple[int, int, int]
    pool1_padding: Tuple[int, int, int]
    frames: int  # clip length used in the tests


#: PySlowFast / PyTorchVideo I3D 8x8: conv1 stride 1x2x2, pool 1x3x3 pad 0x1x1
LAYOUT_8X8 = Layout(1, (1, 3, 3), (1, 2, 2), (0, 1, 1), frames=8)
#: video-nonlocal-net resnet_video_org / Tushar-N 32x2: conv1 stride 2x2x2,
#: pool 2x3x3 stride 2x2x2 pad 0
LAYOUT_32X2 = Layout(2, (2, 3, 3), (2, 2, 2), (0, 0, 0), frames=16)


@dataclass
class Spec:
    """The shape of a synthetic network.

    ``inflate`` / ``non_local``: one tuple of 0/1 per stage, one flag per
    block (``inflate``: temporal kernel 3 on the block's first conv).
    """
    stage_blocks: Tuple[int, ...] = (1, 2, 2, 1)
    base: int = 8
    inflate: Tuple[Tuple[int, ...], ...] = ((1, ), (1, 0), (1, 0), (1, ))
    non_local: Optional[Tuple[Tuple[int, ...], ...]] = None  # None: none
    num_classes: int = 7
    two_d: bool = False  # 2-D kernels (ImageNet)
    affine: bool = False  # frozen BN: no statistics, no non-local BN

    def __post_init__(self):
        if self.non_local is None:
            self.non_local = tuple((0, ) * n for n in self.stage_blocks)

    @property
    def feat_dim(self) -> int:
        return self.base * 2**(len(self.stage_blocks) - 1) * 4


#: ResNet-50 I3D as released: every FAIR checkpoint's shapes.
I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
FAIR_NON_LOCAL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))
FULL_SIZE = dict(stage_blocks=(3, 4, 6, 3), base=64, inflate=I3D_INFLATE,
                 num_classes=400)


def nl_spec(**kwargs) -> Spec:
    """Non-local blocks after layer2.1 and layer3.1 (FAIR's pattern)."""
    return Spec(non_local=((0, ), (0, 1), (0, 1), (0, )), **kwargs)


@dataclass
class BN:
    s: np.ndarray
    b: np.ndarray
    rm: Optional[np.ndarray] = None  # None: frozen BN (affine)
    riv: Optional[np.ndarray] = None  # running variance


@dataclass
class NonLocal:
    convs: Dict[str, Tuple[np.ndarray, np.ndarray]]  # theta/phi/g/out
    bn: Optional[BN]


@dataclass
class Block:
    convs: List[np.ndarray]  # branch2 a, b, c
    bns: List[BN]
    branch1: Optional[Tuple[np.ndarray, BN]] = None
    nl: Optional[NonLocal] = None


@dataclass
class Net:
    spec: Spec
    stem_w: np.ndarray
    stem_bn: BN
    stages: List[List[Block]]
    pred_w: np.ndarray
    pred_b: np.ndarray
    extra: Dict[str, np.ndarray] = field(default_factory=dict)


class _Random:

    def __init__(self, seed: int, spec: Spec):
        self.rng = np.random.default_rng(seed)
        self.spec = spec

    def conv(self, out: int, inp: int, t: int, k: int) -> np.ndarray:
        shape = (out, inp, k, k) if self.spec.two_d else (out, inp, t, k, k)
        std = np.sqrt(2.0 / (inp * t * k * k))
        return self.rng.standard_normal(shape, np.float32) * np.float32(std)

    def vec(self, n: int, low: float, high: float) -> np.ndarray:
        return self.rng.uniform(low, high, n).astype(np.float32)

    def bn(self, n: int, affine: Optional[bool] = None) -> BN:
        affine = self.spec.affine if affine is None else affine
        bn = BN(self.vec(n, 0.5, 1.0), self.vec(n, -0.2, 0.2))
        if not affine:
            bn.rm, bn.riv = self.vec(n, -0.2, 0.2), self.vec(n, 0.5, 1.5)
        return bn

    def non_local(self, dim: int) -> NonLocal:
        inner = dim // 2
        shapes = dict(theta=(inner, dim), phi=(inner, dim), g=(inner, dim),
                      out=(dim, inner))
        convs = {}
        for part, (out, inp) in shapes.items():
            weight = (self.rng.standard_normal((out, inp, 1, 1, 1)) /
                      np.sqrt(inp)).astype(np.float32)
            convs[part] = (weight, self.vec(out, -0.1, 0.1))
        return NonLocal(convs, None if self.spec.affine else self.bn(dim))


def random_net(spec: Spec, seed: int = 0) -> Net:
    """Random weights for ``spec`` (random BN statistics too)."""
    r = _Random(seed, spec)
    stages, inp = [], spec.base
    for k, blocks in enumerate(spec.stage_blocks):
        planes = spec.base * 2**k
        out = planes * 4
        stage = []
        for i in range(blocks):
            t = 3 if spec.inflate[k][i] else 1
            block = Block(
                convs=[r.conv(planes, inp if i == 0 else out, t, 1),
                       r.conv(planes, planes, 1, 3),
                       r.conv(out, planes, 1, 1)],
                bns=[r.bn(planes), r.bn(planes), r.bn(out)])
            if i == 0:
                block.branch1 = (r.conv(out, inp, 1, 1), r.bn(out))
            if spec.non_local[k][i]:
                block.nl = r.non_local(out)
            stage.append(block)
        stages.append(stage)
        inp = out
    num_classes = 1000 if spec.two_d else spec.num_classes
    return Net(spec, r.conv(spec.base, 3, 5, 7), r.bn(spec.base), stages,
               (r.rng.standard_normal((num_classes, inp)) * 0.05).astype(
                   np.float32), r.vec(num_classes, -0.1, 0.1))


def inflate_net(net: Net, spec: Spec) -> Net:
    """A 2-D net inflated (each kernel repeated ``t`` times, divided by
    ``t``) to ``spec``'s temporal kernels: what the converter must do."""

    def inflate(w: np.ndarray, t: int) -> np.ndarray:
        return (np.repeat(w[:, :, None], t, axis=2) / t).astype(np.float32)

    stages = []
    for k, stage in enumerate(net.stages):
        new = []
        for i, block in enumerate(stage):
            t = 3 if spec.inflate[k][i] else 1
            convs = [inflate(block.convs[0], t)] + [
                inflate(w, 1) for w in block.convs[1:]
            ]
            branch1 = None if block.branch1 is None else (inflate(
                block.branch1[0], 1), block.branch1[1])
            new.append(replace(block, convs=convs, branch1=branch1))
        stages.append(new)
    return replace(net, spec=replace(spec, two_d=False),
                   stem_w=inflate(net.stem_w, 5), stages=stages)


# -- reference forward -----------------------------------------------------


def _bn(x: torch.Tensor, bn: Optional[BN]) -> torch.Tensor:
    if bn is None:  # a frozen non-local block without BN: the conv alone
        return x
    shape = (1, -1, 1, 1, 1)
    if bn.rm is None:  # Caffe2 AffineNd: y = x * s + b
        return x * torch.from_numpy(bn.s).view(shape) + torch.from_numpy(
            bn.b).view(shape)
    return F.batch_norm(x, torch.from_numpy(bn.rm), torch.from_numpy(bn.riv),
                        torch.from_numpy(bn.s), torch.from_numpy(bn.b),
                        training=False, eps=EPS)


def _conv(x: torch.Tensor, w: np.ndarray, stride=1,
          bias: Optional[np.ndarray] = None) -> torch.Tensor:
    weight = torch.from_numpy(w)
    padding = tuple(k // 2 for k in weight.shape[2:])
    bias = None if bias is None else torch.from_numpy(bias)
    return F.conv3d(x, weight, bias, stride=stride, padding=padding)


def fair_non_local(x: torch.Tensor, nl: NonLocal) -> torch.Tensor:
    """FAIR's block: ``x + BN(W_out y)``, ``y = softmax(theta^T phi /
    sqrt(d)) g``, with ``x`` max-pooled 1x2x2 *before* phi and g."""
    n, c, t, h, w = x.shape
    def conv(part, inputs):
        weight, bias = nl.convs[part]
        return _conv(inputs, weight, bias=bias)

    theta = conv('theta', x).flatten(2)  # [N, d, P]
    pooled = F.max_pool3d(x, (1, 2, 2), (1, 2, 2))
    phi = conv('phi', pooled).flatten(2)  # [N, d, P']
    g = conv('g', pooled).flatten(2)  # [N, d, P']
    d = theta.shape[1]
    affinity = torch.einsum('ndp,ndq->npq', theta, phi) * d**-0.5
    weights = torch.softmax(affinity, dim=-1)  # [N, P, P']
    y = torch.einsum('npq,ndq->ndp', weights, g).reshape(n, d, t, h, w)
    return x + _bn(conv('out', y), nl.bn)


def _block(x: torch.Tensor, block: Block, spatial_stride: int) -> torch.Tensor:
    stride = (1, spatial_stride, spatial_stride)
    out = F.relu(_bn(_conv(x, block.convs[0]), block.bns[0]))
    out = F.relu(_bn(_conv(out, block.convs[1], stride), block.bns[1]))
    out = _bn(_conv(out, block.convs[2]), block.bns[2])
    shortcut = x if block.branch1 is None else _bn(
        _conv(x, block.branch1[0], stride), block.branch1[1])
    out = F.relu(out + shortcut)
    return out if block.nl is None else fair_non_local(out, block.nl)


def reference_forward(net: Net, x: torch.Tensor,
                      layout: Layout) -> 'OrderedDict[str, torch.Tensor]':
    """Outputs after the stem (``'stem'``, max pool included), each stage
    (``'layer1'`` after the 2x1x1 pool) and the classifier (``'logits'``,
    global average pool + linear)."""
    outs = OrderedDict()
    h = F.relu(_bn(_conv(x, net.stem_w, (layout.conv1_stride_t, 2, 2)),
                   net.stem_bn))
    outs['stem'] = h = F.max_pool3d(h, layout.pool1_kernel,
                                    layout.pool1_stride, layout.pool1_padding)
    for k, stage in enumerate(net.stages):
        for i, block in enumerate(stage):
            h = _block(h, block, 2 if i == 0 and k > 0 else 1)
        if k == 0:
            h = F.max_pool3d(h, (2, 1, 1), (2, 1, 1))
        outs[f'layer{k + 1}'] = h
    feat = h.mean(dim=(2, 3, 4))
    outs['logits'] = feat @ torch.from_numpy(net.pred_w).t() + \
        torch.from_numpy(net.pred_b)
    return outs


def mmvid_forward(model, x: torch.Tensor) -> 'OrderedDict[str, torch.Tensor]':
    """The same stages of an mmvid Recognizer3D, in eval mode."""
    backbone, outs = model.backbone, OrderedDict()
    with torch.no_grad():
        outs['stem'] = h = backbone.maxpool(backbone.conv1(x))
        for i, name in enumerate(backbone.res_layers):
            h = getattr(backbone, name)(h)
            if i == 0 and backbone.with_pool2:
                h = backbone.pool2(h)
            outs[name] = h
        if model.cls_head is not None:
            outs['logits'] = model.cls_head(h)
    return outs


def assert_same_outputs(model, net: Net, layout: Layout,
                        stages: Sequence[str] = ('stem', 'layer1', 'layer2',
                                                 'layer3', 'layer4', 'logits'),
                        size: int = 64) -> None:
    """The converted ``model`` computes ``net``'s forward pass, stage by
    stage, to 1e-4 of each output's largest magnitude."""
    torch.manual_seed(1)
    x = torch.randn(1, 3, layout.frames, size, size)
    model.eval()
    with torch.no_grad():
        expected = reference_forward(net, x, layout)
    actual = mmvid_forward(model, x)
    for name in stages:
        want, got = expected[name], actual[name]
        assert got.shape == want.shape, (name, got.shape, want.shape)
        error = (got - want).abs().max() / want.abs().max()
        assert error < 1e-4, f'{name}: relative error {error:.2e}'


# -- source files ----------------------------------------------------------

BN_BLOBS = ('s', 'b', 'rm', 'riv')
BN_ENTRIES = dict(s='weight', b='bias', rm='running_mean', riv='running_var')
BRANCH2 = 'abc'


def _bn_items(bn: BN):
    """``(suffix, array)`` of a BN's blobs that exist."""
    for suffix in BN_BLOBS:
        value = getattr(bn, suffix)
        if value is not None:
            yield suffix, value


def _walk(net: Net):
    """``(stage k 1..4, block i, Block)``."""
    for k, stage in enumerate(net.stages, start=1):
        for i, block in enumerate(stage):
            yield k, i, block


def caffe2_blobs(net: Net, momentum: bool = True,
                 with_pred: bool = True) -> Dict[str, object]:
    """video-nonlocal-net's blob names (``checkpoints.save_model_params``):
    params, BN statistics, ``*_momentum`` of the trainable ones, ``lr``,
    ``model_iter``."""
    blobs: Dict[str, object] = OrderedDict()
    trainable = []

    def put(name, value, train=True):
        blobs[name] = value
        if train:
            trainable.append(name)

    def put_bn(prefix, bn):
        for suffix, value in _bn_items(bn):
            put(f'{prefix}_bn_{suffix}', value, suffix in ('s', 'b'))

    put('conv1_w', net.stem_w)
    put_bn('res_conv1', net.stem_bn)
    for k, i, block in _walk(net):
        for letter, w, bn in zip(BRANCH2, block.convs, block.bns):
            put(f'res{k + 1}_{i}_branch2{letter}_w', w)
            put_bn(f'res{k + 1}_{i}_branch2{letter}', bn)
        if block.branch1 is not None:
            put(f'res{k + 1}_{i}_branch1_w', block.branch1[0])
            put_bn(f'res{k + 1}_{i}_branch1', block.branch1[1])
        if block.nl is not None:
            prefix = f'nonlocal_conv{k + 1}_{i}'
            for part, (w, b) in block.nl.convs.items():
                put(f'{prefix}_{part}_w', w)
                put(f'{prefix}_{part}_b', b)
            if block.nl.bn is not None:
                put_bn(prefix, block.nl.bn)
    if with_pred:
        put('pred_w', net.pred_w)
        put('pred_b', net.pred_b)
    if momentum:
        for name in trainable:
            blobs[f'{name}_momentum'] = np.zeros_like(blobs[name])
        blobs['lr'] = np.float32(0.0001)
        blobs['model_iter'] = 400000
    return blobs


def _t(value: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(value.copy())


def _torch_bn(state, prefix: str, bn: BN, counters: bool) -> None:
    for suffix, value in _bn_items(bn):
        state[f'{prefix}.{BN_ENTRIES[suffix]}'] = _t(value)
    if counters:
        state[f'{prefix}.num_batches_tracked'] = torch.tensor(1234)


def pyslowfast_state(net: Net, five_d: bool = True,
                     counters: bool = True) -> 'OrderedDict':
    """PySlowFast ``ResNet`` (``pathway0``) names; for a 2-D net
    (``R50_IN1K.pyth``) kernels are ``[O, I, 1, h, w]`` if ``five_d``."""

    def kernel(w):
        return _t(w[:, :, None] if w.ndim == 4 and five_d else w)

    state = OrderedDict()
    state['s1.pathway0_stem.conv.weight'] = kernel(net.stem_w)
    _torch_bn(state, 's1.pathway0_stem.bn', net.stem_bn, counters)
    for k, i, block in _walk(net):
        res = f's{k + 1}.pathway0_res{i}'
        for letter, w, bn in zip(BRANCH2, block.convs, block.bns):
            state[f'{res}.branch2.{letter}.weight'] = kernel(w)
            _torch_bn(state, f'{res}.branch2.{letter}_bn', bn, counters)
        if block.branch1 is not None:
            state[f'{res}.branch1.weight'] = kernel(block.branch1[0])
            _torch_bn(state, f'{res}.branch1_bn', block.branch1[1], counters)
        if block.nl is not None:
            nl = f's{k + 1}.pathway0_nonlocal{i}'
            for part, (w, b) in block.nl.convs.items():
                state[f'{nl}.conv_{part}.weight'] = _t(w)
                state[f'{nl}.conv_{part}.bias'] = _t(b)
            _torch_bn(state, f'{nl}.bn', block.nl.bn, counters)
    state['head.projection.weight'] = _t(net.pred_w)
    state['head.projection.bias'] = _t(net.pred_b)
    return state


def pytorchvideo_state(net: Net) -> 'OrderedDict':
    """PyTorchVideo ``create_resnet`` names (``blocks.2`` is the pool)."""
    state = OrderedDict()
    state['blocks.0.conv.weight'] = _t(net.stem_w)
    _torch_bn(state, 'blocks.0.norm', net.stem_bn, True)
    stage_block = {1: 1, 2: 3, 3: 4, 4: 5}
    for k, i, block in _walk(net):
        res = f'blocks.{stage_block[k]}.res_blocks.{i}'
        if block.branch1 is not None:
            state[f'{res}.branch1_conv.weight'] = _t(block.branch1[0])
            _torch_bn(state, f'{res}.branch1_norm', block.branch1[1], True)
        for letter, w, bn in zip(BRANCH2, block.convs, block.bns):
            state[f'{res}.branch2.conv_{letter}.weight'] = _t(w)
            _torch_bn(state, f'{res}.branch2.norm_{letter}', bn, True)
    state['blocks.6.proj.weight'] = _t(net.pred_w)
    state['blocks.6.proj.bias'] = _t(net.pred_b)
    return state


def tusharn_state(net: Net, counters: bool = False) -> 'OrderedDict':
    """Tushar-N ``I3Res50`` names (torchvision's plus ``nl``); a 2-D net
    gives a torchvision ResNet state dict."""
    state = OrderedDict()
    state['conv1.weight'] = _t(net.stem_w)
    _torch_bn(state, 'bn1', net.stem_bn, counters)
    for k, i, block in _walk(net):
        layer = f'layer{k}.{i}'
        for n, (w, bn) in enumerate(zip(block.convs, block.bns), start=1):
            state[f'{layer}.conv{n}.weight'] = _t(w)
            _torch_bn(state, f'{layer}.bn{n}', bn, counters)
        if block.branch1 is not None:
            state[f'{layer}.downsample.0.weight'] = _t(block.branch1[0])
            _torch_bn(state, f'{layer}.downsample.1', block.branch1[1],
                      counters)
        if block.nl is not None:
            for part, (w, b) in block.nl.convs.items():
                state[f'{layer}.nl.{part}.weight'] = _t(w)
                state[f'{layer}.nl.{part}.bias'] = _t(b)
            _torch_bn(state, f'{layer}.nl.bn', block.nl.bn, counters)
    state['fc.weight'] = _t(net.pred_w)
    state['fc.bias'] = _t(net.pred_b)
    return state


# -- configs ---------------------------------------------------------------


def write_config(folder, base: str, spec: Spec,
                 num_classes: Optional[int] = None,
                 name: str = 'tiny_config.py', **backbone) -> str:
    """A config file: the zoo config ``base`` reduced to ``spec``'s depth
    and width (same naming scheme, small tensors)."""
    overrides = dict(stage_blocks=spec.stage_blocks,
                     base_channels=spec.base, inflate=spec.inflate,
                     non_local=spec.non_local, **backbone)
    head = dict(num_classes=num_classes or spec.num_classes,
                in_channels=spec.feat_dim)
    path = osp.join(str(folder), name)
    with open(path, 'w') as file:
        file.write(f'_base_ = [{osp.join(ZOO, base)!r}]\n'
                   f'model = dict(backbone=dict(**{overrides!r}), '
                   f'cls_head=dict(**{head!r}))\n')
    return path
