"""Compiled inference (frozen weights, autocast inside the compiled call):
the accuracy guard against eager fp32, what is compiled, the logs, and
when ``--fast`` compiles."""
import copy

import pytest
import torch
import torch.nn.functional as F

from mmvid.apis import compiled, fast_path
from mmvid.apis.compiled import (CompiledBackbone, InferenceBackbone,
                                 compile_estimate, inductor_cache_dir)
from mmvid.apis.fast_path import (FastPath, apply_fast_path,
                                   count_run_views, describe_fast_path,
                                   fast_compile_choice, make_fast_path)
from tests.apis.test_fast_path import (DEMO, build, clips, logits,
                                       prototype_head, scores)


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_compiled_path_agrees_with_exact_fp32(native, monkeypatch):
    """``--fast --compile`` on either kind of CPU (forced): bf16 inside the
    compiled call with native bf16 (score cosine >= 0.9999), exact fp32
    without (cosine >= 0.99999, scores to float rounding); the same top-1
    on decisive predictions; batch norms left for inductor; compiled once
    per shape, with the log lines; the weights really frozen."""
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: native)
    path = make_fast_path(torch.device('cpu'), fast=True, compile=True)
    assert path == FastPath('bf16' if native else None, True, False, True)
    x = clips(6)
    exact = build(DEMO, 'contiguous')
    fast = copy.deepcopy(exact)
    exact_scores = scores(exact, x)
    lines = []
    assert apply_fast_path(fast, path, log=lines.append) == 0
    assert isinstance(fast.backbone, CompiledBackbone)
    assert fast.memory_format == 'channels_last_3d'
    assert any(isinstance(m, torch.nn.BatchNorm3d)
               for m in fast.backbone.backbone.modules())
    assert not any(m._forward_pre_hooks or m._forward_hooks
                   for m in fast.modules())  # nothing Python in the graph
    # the normalisation moved into the compiled call: raw pixels go in
    assert fast.backbone.inner.normalize
    assert not fast.data_preprocessor.normalize
    assert fast.data_preprocessor(dict(inputs=list(x)))['inputs'].dtype == \
        torch.uint8
    fast_scores = scores(fast, x)
    assert fast_scores.dtype == torch.float32
    cosine = F.cosine_similarity(fast_scores, exact_scores).min().item()
    if native:
        assert cosine >= 0.9999
    else:
        assert cosine >= 0.99999
        torch.testing.assert_close(fast_scores, exact_scores, rtol=1e-4,
                                   atol=1e-6)
    assert lines[0].startswith(
        'compiling the backbone for [6, 3, 16, 64, 64] (one-off, ~11 s cold')
    assert lines[1].startswith('compiled in ') and len(lines) == 2
    # top-1 where it is decisive (the head is not compiled: it can change)
    prototype_head(exact, x)
    fast.cls_head.load_state_dict(exact.cls_head.state_dict())
    expected = torch.arange(len(x))
    assert torch.equal(scores(exact, x).argmax(1), expected)
    assert torch.equal(scores(fast, x).argmax(1), expected)
    assert len(lines) == 2  # same shape: no second compile
    # frozen: the compiled graph holds the weights as constants
    before = scores(fast, x)
    with torch.no_grad():
        fast.backbone.backbone.conv1.conv.weight.zero_()
    torch.testing.assert_close(scores(fast, x), before, rtol=0, atol=0)
    eager = fast.backbone.inner  # the same module, not compiled
    with torch.no_grad():
        assert not torch.equal(
            eager(logits_input(fast, x)),
            fast.backbone.compiled(logits_input(fast, x)))


def logits_input(model, x):
    """The backbone's input for clips ``x``: ``[N, C, T, H, W]``
    channels_last_3d, as ``extract_feat`` passes it (raw pixels to a
    compiled backbone, normalised ones to an eager one)."""
    data = model.data_preprocessor(dict(inputs=list(x)))
    return data['inputs'].flatten(0, 1).contiguous(
        memory_format=torch.channels_last_3d)


def test_inference_backbone_returns_float32_under_autocast():
    model = build(DEMO, 'contiguous')
    x = logits_input(model, clips(2))
    wrapped = InferenceBackbone(model.backbone, 'cpu', 'bf16')
    with torch.no_grad():
        out = wrapped(x)
        ref = model.backbone(x)
    assert out.dtype == torch.float32 and out.shape == ref.shape == \
        (2, 128, 2, 2, 2)
    assert F.cosine_similarity(out.flatten(), ref.flatten(), 0) > 0.999
    assert not torch.equal(out, ref)  # it did run in bf16
    with torch.no_grad():
        assert torch.equal(InferenceBackbone(model.backbone, 'cpu')(x), ref)
    # raw pixels normalised inside: the preprocessor's numbers
    raw = clips(2).flatten(0, 1)  # [2, 3, 16, 64, 64] uint8
    pre = model.data_preprocessor
    inside = InferenceBackbone(model.backbone, 'cpu', None,
                               pre.mean, pre.std)
    with torch.no_grad():
        torch.testing.assert_close(
            inside(raw), model.backbone(logits_input(model, clips(2))),
            rtol=1e-4, atol=1e-4)  # NCDHW vs channels_last summation
    with pytest.raises(ValueError, match='give both mean and std'):
        InferenceBackbone(model.backbone, 'cpu', None, pre.mean)


# -- when --fast compiles -------------------------------------------------


@pytest.mark.parametrize('has_cxx', [True, False], ids=['cxx', 'no-cxx'])
def test_fast_compiles_long_runs_where_a_compiler_exists(has_cxx,
                                                         monkeypatch):
    monkeypatch.setattr(fast_path, 'cxx_compiler',
                        lambda: '/usr/bin/g++' if has_cxx else None)
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: True)
    cpu = torch.device('cpu')
    assert fast_compile_choice(cpu, None) == (False, '')  # demo: unknown
    long_run = make_fast_path(cpu, fast=True, total_views=1920)
    short_run = make_fast_path(cpu, fast=True, total_views=199)
    if has_cxx:
        assert long_run == FastPath('bf16', True, False, True)
        assert long_run.compile_note == (
            '--fast: compiled (1920 views >= 200: the one-off compile '
            'repays itself)')
    else:
        assert long_run == FastPath('bf16', True, True, False)
        assert long_run.compile_note == (
            '--fast: not compiled (no C++ compiler (g++ / CXX) found)')
    assert short_run == FastPath('bf16', True, True, False)
    assert short_run.compile_note == (
        '--fast: not compiled (199 views < 200: the compile would not repay '
        'itself; add --compile to compile anyway)' if has_cxx else
        '--fast: not compiled (no C++ compiler (g++ / CXX) found)')
    assert describe_fast_path(short_run, cpu, True).endswith(
        f'AMX)); {short_run.compile_note}')
    # --compile is the user's: always, BN folded only when asked for
    assert make_fast_path(cpu, compile=True) == FastPath(None, False,
                                                         False, True)
    assert make_fast_path(cpu, fast=True, compile=True,
                          fuse_conv_bn=True) == FastPath('bf16', True,
                                                         True, True)
    assert make_fast_path(cpu, total_views=10**6) == FastPath()  # no --fast


@pytest.mark.parametrize('has_triton', [True, False],
                         ids=['triton', 'no-triton'])
def test_gpu_compile_needs_triton(has_triton, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec',
        lambda name, *a: (object() if has_triton else None)
        if name == 'triton' else real(name, *a))
    assert fast_path.compiler_missing('cuda') == (
        None if has_triton else 'triton is not installed')


def test_compile_without_a_compiler_is_refused(monkeypatch):
    monkeypatch.setattr(fast_path, 'cxx_compiler', lambda: None)
    model = build(DEMO, 'contiguous')
    with pytest.raises(RuntimeError, match=r'--compile: no C\+\+ compiler '
                       r'\(g\+\+ / CXX\) found; inductor needs it'):
        apply_fast_path(model, FastPath(compile=True))
    assert not isinstance(model.backbone, CompiledBackbone)


def test_apply_fast_path_needs_a_recognizer():
    with pytest.raises(TypeError, match='needs a Recognizer3D .* got '
                       'Linear'):
        apply_fast_path(torch.nn.Linear(2, 2), FastPath(channels_last=True))


def test_channels_last_without_hooks():
    """channels_last_3d through the recognizer's own input conversion:
    no forward hook anywhere, fp32 features as NCDHW's."""
    exact = build(DEMO, 'contiguous')
    fast = copy.deepcopy(exact)
    apply_fast_path(fast, FastPath(channels_last=True))
    assert fast.memory_format == 'channels_last_3d'
    assert fast.backbone.conv1.conv.weight.is_contiguous(
        memory_format=torch.channels_last_3d)
    assert not any(m._forward_pre_hooks for m in fast.modules())
    x = clips(2)
    torch.testing.assert_close(logits(fast, x), logits(exact, x),
                               rtol=1e-5, atol=1e-5)


def test_compile_estimate_and_cache_dir(monkeypatch):
    monkeypatch.setenv('TORCHINDUCTOR_CACHE_DIR', '/somewhere/cache')
    assert inductor_cache_dir() == '/somewhere/cache'
    model = build(DEMO, 'contiguous')  # 20 convolutions: 6 + 0.25 s each
    assert compile_estimate(model.backbone) == (
        "one-off, ~11 s cold on a small CPU, about half that when torch's "
        'compile cache (/somewhere/cache) has this model')
    monkeypatch.delenv('TORCHINDUCTOR_CACHE_DIR')
    assert inductor_cache_dir().endswith(f'torchinductor_{compiled._user()}')


def test_count_run_views():
    """views per video of the first sample x videos (at most the set)."""

    class Set:
        def __len__(self):
            return 5

        def __getitem__(self, index):
            return dict(inputs=torch.zeros(30, 3, 4, 8, 8))

    assert count_run_views(Set()) == 150
    assert count_run_views(Set(), videos=2) == 60
    assert count_run_views(Set(), videos=9) == 150
    assert count_run_views([]) == 0
