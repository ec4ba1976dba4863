"""Fast paths: channels_last_3d numerics, the inference switches and their
accuracy guard (fast vs exact fp32) and the amp checks."""
import copy

import pytest
import torch
import torch.nn.functional as F

from mmvid.models.recognizers import recognizer3d
from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample
from mmvid.apis import fast_path
from mmvid.apis.fast_path import (FastPath, apply_fast_path, best_fast_path,
                                   check_amp, describe_fast_path)

DEMO = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=18, base_channels=16,
                  pretrained=None, conv1_kernel=(3, 7, 7), conv1_stride_t=2,
                  pool1_stride_t=2, inflate=(1, 1, 1, 1)),
    cls_head=dict(type='I3DHead', num_classes=8, in_channels=128,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]))
# I3D R50 with fewer blocks per stage (same kinds of layers)
R50 = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=50, stage_blocks=(1, 2, 2, 1),
                  base_channels=16, pretrained=None, conv1_kernel=(5, 7, 7),
                  conv1_stride_t=2, pool1_stride_t=2,
                  inflate=((1, ), (1, 0), (1, 0), (0, ))),
    cls_head=dict(type='I3DHead', num_classes=400, in_channels=512,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor',
                           mean=[114.75] * 3, std=[57.375] * 3))


def build(cfg, memory_format, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(dict(copy.deepcopy(cfg), memory_format=memory_format))
    model.init_weights()
    with torch.no_grad():  # random BN statistics, as after training
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm3d):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    return model.eval()


def clips(n, t=16, size=64, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (n, 1, 3, t, size, size), generator=gen,
                         dtype=torch.uint8)


def scores(model, inputs):
    """Softmax scores [N, K] from model.test_step on N one-view videos."""
    data = dict(inputs=list(inputs),
                data_samples=[ActionDataSample().set_gt_label(0)
                              for _ in inputs])
    with torch.no_grad():
        out = torch.stack([s.pred_score for s in model.test_step(data)])
    assert out.shape == (len(inputs), model.cls_head.num_classes)
    return out


def logits(model, inputs):
    data = model.data_preprocessor(dict(inputs=list(inputs)))
    with torch.no_grad():
        return model.cls_head(model.extract_feat(data['inputs']))


# -- memory format ------------------------------------------------------


@pytest.mark.parametrize('cfg', [DEMO, R50], ids=['demo', 'r50'])
def test_channels_last_3d_equals_ncdhw_in_fp32(cfg):
    ncdhw = build(cfg, 'contiguous')
    ndhwc = build(cfg, 'channels_last_3d')
    ndhwc.load_state_dict(ncdhw.state_dict())
    weight = ndhwc.backbone.conv1.conv.weight
    assert weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert not weight.is_contiguous()
    assert ncdhw.backbone.conv1.conv.weight.is_contiguous()
    x = clips(2)
    a, b = logits(ncdhw, x), logits(ndhwc, x)
    assert ((a - b).norm() / a.norm()).item() < 1e-5
    # one training step: the same gradients
    grads = []
    for model in (ncdhw, ndhwc):
        model.train()
        torch.manual_seed(3)  # the same dropout mask
        data = model.data_preprocessor(dict(inputs=list(x)), True)
        out = model.cls_head(model.extract_feat(data['inputs']))
        F.cross_entropy(out, torch.tensor([1, 2])).backward()
        grads.append(model.backbone.conv1.conv.weight.grad.contiguous())
    assert ((grads[0] - grads[1]).norm() / grads[0].norm()).item() < 1e-4


def test_auto_memory_format_follows_the_machine(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert recognizer3d.resolve_memory_format('auto') == 'channels_last_3d'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert recognizer3d.resolve_memory_format('auto') == 'contiguous'
    assert recognizer3d.resolve_memory_format('contiguous') == 'contiguous'
    with pytest.raises(ValueError, match="memory_format must be one of "
                       r"\('auto', 'channels_last_3d', 'contiguous'\), got "
                       "'nhwc'"):
        recognizer3d.resolve_memory_format('nhwc')


# -- the accuracy guard ---------------------------------------------------


def agreement(fast_scores, exact_scores):
    cosine = F.cosine_similarity(fast_scores, exact_scores).min().item()
    top1 = (fast_scores.argmax(1) == exact_scores.argmax(1)).float().mean()
    return cosine, top1.item()


def prototype_head(model, x, margin=2.0):
    """Make class i of ``model``'s head stand for clip i of ``x``.

    A randomly initialised net scores noise clips as near ties (top-2
    margins below bf16's error), so its top-1 says nothing about a fast
    path. Here the weights of class i are clip i's fp32 features centred on
    the clips' mean (unit length, scaled so the smallest top-2 logit margin
    is ``margin``); other classes get zeros. Clip i's top-1 is class i.
    """
    feats = []
    fc = model.cls_head.fc_cls
    hook = fc.register_forward_hook(
        lambda module, args, out: feats.append(args[0].detach()))
    logits(model, x)
    hook.remove()
    f = feats[0].double()  # [N, C]
    centre = f.mean(0)
    d = f - centre
    w = d / d.norm(dim=1, keepdim=True)
    own = (d * w).sum(1)
    other = (d @ w.T).fill_diagonal_(float('-inf')).amax(1)
    scale = margin / (own - other).min()
    with torch.no_grad():
        fc.weight.zero_()
        fc.bias.zero_()
        fc.weight[:len(x)] = (scale * w).float()
        fc.bias[:len(x)] = (-scale * w @ centre).float()
    return model


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
@pytest.mark.parametrize('cfg,t', [(DEMO, 16), (R50, 8)],
                         ids=['demo', 'r50'])
def test_fast_path_agrees_with_exact_fp32(cfg, t, native, monkeypatch):
    """What --fast picks on either kind of CPU (forced), against the default
    fp32 path: bf16 (native bf16; on a CPU without it oneDNN's reference
    kernels run it, slowly) gives a score cosine >= 0.9999; fp32 the same
    scores to float rounding; both the same top-1 on decisive predictions
    (:func:`prototype_head`)."""
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: native)
    path = best_fast_path(torch.device('cpu'))
    assert path == FastPath('bf16' if native else None, True, True)
    x = clips(6, t=t)
    exact = build(cfg, 'contiguous')
    fast = copy.deepcopy(exact)
    exact_logits, exact_scores = logits(exact, x), scores(exact, x)
    folded = apply_fast_path(fast, path)  # no allow_slow: bf16 is "native"
    assert folded > 0
    assert not any(isinstance(m, torch.nn.BatchNorm3d)
                   for m in fast.backbone.modules())
    with fast_path.autocast('cpu', path.amp):
        fast_logits = logits(fast, x)
    assert fast_logits.dtype == (torch.bfloat16 if native else torch.float32)
    fast_scores = scores(fast, x)
    assert fast_scores.dtype == torch.float32  # test_step: float32 scores
    if native:
        assert agreement(fast_logits.float(), exact_logits)[0] >= 0.9999
        assert agreement(fast_scores, exact_scores)[0] >= 0.9999
    else:
        error = (fast_logits - exact_logits).norm() / exact_logits.norm()
        assert error.item() < 1e-5
        torch.testing.assert_close(fast_scores, exact_scores, rtol=1e-4,
                                   atol=1e-6)
    # top-1 where it is decisive: the same weights, the prototype head
    prototype_head(exact, x)
    fast.cls_head.load_state_dict(exact.cls_head.state_dict())
    expected = torch.arange(len(x))
    assert torch.equal(scores(exact, x).argmax(1), expected)
    assert torch.equal(scores(fast, x).argmax(1), expected)


# -- choosing and checking ------------------------------------------------


def test_best_fast_path_by_device(monkeypatch):
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: False)
    assert best_fast_path('cpu') == FastPath(None, True, True)
    assert best_fast_path('cuda') == FastPath('fp16', True, True)
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: True)
    assert best_fast_path('cpu') == FastPath('bf16', True, True)
    assert best_fast_path('cuda') == FastPath('bf16', True, True)
    assert FastPath().describe() == 'fp32' and FastPath().is_default
    assert FastPath('bf16', True, True, True).describe() == \
        ('bf16 autocast, channels_last_3d, conv-BN folded, torch.compile '
         'with frozen weights')
    assert FastPath('bf16', True, False, True).describe() == \
        ('bf16 autocast, channels_last_3d, torch.compile with frozen '
         'weights (BN folded by inductor)')


def test_the_log_line_says_what_fast_picked_and_why(monkeypatch):
    fast = FastPath(None, True, True)
    assert describe_fast_path(fast, 'cpu') == \
        'inference fast path: fp32, channels_last_3d, conv-BN folded'
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: False)
    assert describe_fast_path(fast, 'cpu', picked_by_fast=True) == (
        'inference fast path: fp32, channels_last_3d, conv-BN folded '
        '(--fast: this CPU has no native bfloat16 (AVX512-BF16 / AMX), so '
        'fp32: bf16 would run slow reference kernels)')
    assert describe_fast_path(FastPath('fp16', True, True), 'cuda', True) \
        .endswith('(--fast: this GPU has no bf16, so fp16)')
    # --fast --amp bf16: the precision was the user's choice, no reason
    assert describe_fast_path(FastPath('bf16', True, True), 'cpu', True) == \
        ('inference fast path: bf16 autocast, channels_last_3d, conv-BN '
         'folded')
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: True)
    assert describe_fast_path(FastPath('bf16', True, True), 'cpu', True) == (
        'inference fast path: bf16 autocast, channels_last_3d, conv-BN '
        'folded (--fast: this CPU has native bfloat16 (AVX512-BF16 / AMX))')
    assert describe_fast_path(FastPath('bf16', True, True), 'cuda', True) \
        .endswith('(--fast: this GPU supports bf16)')


def test_amp_checks(monkeypatch):
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: False)
    with pytest.raises(RuntimeError, match=r'--amp bf16: this CPU has no '
                       r'native bfloat16 \(AVX512-BF16 / AMX\); bf16 would '
                       'run reference kernels'):
        check_amp('bf16', torch.device('cpu'))
    check_amp('bf16', torch.device('cpu'), allow_slow=True)
    with pytest.raises(ValueError, match='fp16 autocast is for CUDA'):
        check_amp('fp16', torch.device('cpu'))
    with pytest.raises(ValueError, match="amp must be one of"):
        check_amp('int8', torch.device('cpu'))
    check_amp(None, torch.device('cpu'))
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: True)
    check_amp('bf16', torch.device('cpu'))
