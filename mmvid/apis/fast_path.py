"""Inference fast paths: autocast precision, memory layout, conv-BN folding
and ``torch.compile``, with the checks that keep them honest.

A :class:`FastPath` says which switches to use; :func:`apply_fast_path`
applies them to a loaded recognizer in place (after its checkpoint is
loaded: folding removes the batch norms). :func:`best_fast_path` is what
``--fast`` picks for a device, from measurements (``docs/benchmark.md``):

- CPU with native bfloat16 (AVX512-BF16 / AMX, as oneDNN reports it):
  bf16 autocast + channels_last_3d + folded BN.
- CPU without it (e.g. AVX2-only): fp32 + channels_last_3d + folded BN.
  bf16 autocast there runs oneDNN's reference kernels: a 64-channel
  3x3x3 conv took 13 s instead of 40 ms, the demo model 30x longer, so
  :func:`check_amp` refuses it unless asked to allow it.
- CUDA: bf16 where the GPU supports it, else fp16, + channels_last_3d +
  folded BN.

``--compile`` compiles the backbone with frozen weights and the autocast
inside the compiled call (:mod:`mmvid.apis.compiled`); in ``tools/test.py``
and ``benchmark.py``, ``--fast`` compiles by itself when the run has at
least :data:`COMPILE_MIN_VIEWS` views (:func:`fast_compile_choice`).

The default (no switch) is exact fp32 eager.
"""
import functools
from dataclasses import dataclass, field
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn

from mmvid.models.utils import (count_batchnorms, fuse_conv_bn,
                                to_channels_last)

from .compiled import compile_backbone, cxx_compiler
from .precision import AMP_DTYPES, autocast


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 convolutions natively."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def check_amp(amp: Optional[str], device: torch.device,
              allow_slow: bool = False) -> None:
    """Refuse autocast settings that are unsupported or would be slower.

    Args:
        amp: None, ``'bf16'`` or ``'fp16'``.
        device: Where the model runs.
        allow_slow: Allow bf16 on a CPU without native bf16 (for accuracy
            checks; it is much slower than fp32 there).

    Raises:
        ValueError: unknown ``amp``, or fp16 on a CPU.
        RuntimeError: bf16 on a CPU (or GPU) without native bf16.
    """
    if amp is None:
        return
    if amp not in AMP_DTYPES:
        raise ValueError(f'amp must be one of {tuple(AMP_DTYPES)} or None, '
                         f'got {amp!r}')
    device = torch.device(device)
    if device.type == 'cpu' and amp == 'fp16':
        raise ValueError('fp16 autocast is for CUDA; on a CPU use bf16 '
                         '(where the CPU has native bf16) or --fast')
    if amp == 'bf16' and not native_bf16(device) and not allow_slow:
        what = 'this CPU has no native bfloat16 (AVX512-BF16 / AMX)' \
            if device.type == 'cpu' else 'this GPU does not support bf16'
        hint = ('bf16 would run reference kernels, measured 30x slower than '
                'fp32 on the demo model; use --fast (fp32, channels_last_3d, '
                'folded BN) instead') if device.type == 'cpu' else \
            'use --amp fp16'
        raise RuntimeError(f'--amp bf16: {what}; {hint}')


@dataclass(frozen=True)
class FastPath:
    """Inference switches.

    Attributes:
        amp: Autocast dtype, None (fp32), ``'bf16'`` or ``'fp16'``.
        channels_last: Weights and inputs in channels_last_3d.
        fuse_conv_bn: Fold batch norms into the preceding convolutions by
            hand (when compiling, inductor's freezing folds them instead).
        compile: ``torch.compile`` the backbone with frozen weights
            (:mod:`mmvid.apis.compiled`).
        compile_note: Why ``--fast`` did or did not compile, for the log
            (not compared).
    """
    amp: Optional[str] = None
    channels_last: bool = False
    fuse_conv_bn: bool = False
    compile: bool = False
    compile_note: str = field(default='', compare=False)

    def describe(self) -> str:
        parts = [{None: 'fp32', 'bf16': 'bf16 autocast',
                  'fp16': 'fp16 autocast'}[self.amp]]
        if self.channels_last:
            parts.append('channels_last_3d')
        if self.fuse_conv_bn:
            parts.append('conv-BN folded')
        if self.compile:
            parts.append('torch.compile with frozen weights' +
                         ('' if self.fuse_conv_bn else ' (BN folded by '
                          'inductor)'))
        return ', '.join(parts)

    @property
    def is_default(self) -> bool:
        return self == FastPath()


def best_fast_path(device: torch.device) -> FastPath:
    """What ``--fast`` uses on ``device`` (see the module docstring)."""
    device = torch.device(device)
    if device.type == 'cuda':
        amp = 'bf16' if native_bf16(device) else 'fp16'
    else:
        amp = 'bf16' if native_bf16(device) else None
    return FastPath(amp=amp, channels_last=True, fuse_conv_bn=True)


def fast_choice_reason(device: torch.device) -> str:
    """Why :func:`best_fast_path` picks its precision on ``device``."""
    device = torch.device(device)
    if device.type == 'cuda':
        return 'this GPU supports bf16' if native_bf16(device) else \
            'this GPU has no bf16, so fp16'
    if native_bf16(device):
        return 'this CPU has native bfloat16 (AVX512-BF16 / AMX)'
    return ('this CPU has no native bfloat16 (AVX512-BF16 / AMX), so fp32: '
            'bf16 would run slow reference kernels')


def describe_fast_path(fast: FastPath, device: torch.device,
                       picked_by_fast: bool = False) -> str:
    """The line a tool logs: ``inference fast path: <switches>`` and, where
    ``--fast`` picked the precision (not overridden by ``--amp``), why, e.g.
    ``inference fast path: fp32, channels_last_3d, conv-BN folded (--fast:
    this CPU has no native bfloat16 ...)``; then ``fast.compile_note``."""
    line = f'inference fast path: {fast.describe()}'
    if picked_by_fast and fast.amp == best_fast_path(device).amp:
        line += f' (--fast: {fast_choice_reason(device)})'
    if fast.compile_note:
        line += f'; {fast.compile_note}'
    return line


# On a 2-core Zen 4 (docs/benchmark.md) a compiled I3D R50 view with frozen
# weights saved 70-100 ms against eager at the same precision (bf16: 250 ->
# 180 ms; fp32 100 ms), and a cold compile took 18 s: the compile repays
# itself after about 200 views. A small model saves less per view, but also
# compiles faster (11 s for the demo model).
COMPILE_MIN_VIEWS = 200


def compiler_missing(device: torch.device) -> Optional[str]:
    """Why ``torch.compile`` cannot build kernels for ``device``, or None:
    inductor needs a C++ compiler for a CPU and triton for a GPU."""
    if torch.device(device).type == 'cuda':
        import importlib.util
        return None if importlib.util.find_spec('triton') else \
            'triton is not installed'
    return None if cxx_compiler() else 'no C++ compiler (g++ / CXX) found'


def fast_compile_choice(device: torch.device,
                        total_views: Optional[int]) -> Tuple[bool, str]:
    """Whether ``--fast`` compiles a run of ``total_views`` views (all the
    views of all the videos), and the reason for the log. None (unknown,
    e.g. the demo's single video) never compiles."""
    if total_views is None:
        return False, ''
    missing = compiler_missing(device)
    if missing:
        return False, f'--fast: not compiled ({missing})'
    if total_views >= COMPILE_MIN_VIEWS:
        return True, (f'--fast: compiled ({total_views} views >= '
                      f'{COMPILE_MIN_VIEWS}: the one-off compile repays '
                      'itself)')
    return False, (f'--fast: not compiled ({total_views} views < '
                   f'{COMPILE_MIN_VIEWS}: the compile would not repay '
                   'itself; add --compile to compile anyway)')


def count_run_views(dataset, videos: Optional[int] = None) -> int:
    """The views a run computes: views per video (of the pipeline's first
    sample, ``inputs`` ``[views, C, T, H, W]``) x ``videos`` (default: the
    whole dataset; at most its length). Decodes one video."""
    if len(dataset) == 0:
        return 0
    views = int(dataset[0]['inputs'].shape[0])
    return views * (len(dataset) if videos is None else
                    min(videos, len(dataset)))


def make_fast_path(device: torch.device,
                   fast: bool = False,
                   amp: Optional[str] = None,
                   channels_last: bool = False,
                   fuse_conv_bn: bool = False,
                   compile: bool = False,
                   total_views: Optional[int] = None) -> FastPath:
    """The switches of ``--fast``, ``--amp``, ``--channels-last``,
    ``--fuse-conv-bn`` and ``--compile``: ``fast`` starts from
    :func:`best_fast_path` for ``device`` and the others add to it.

    With ``fast`` and ``total_views`` (the run's views), ``--fast`` also
    compiles when the run is long enough (:func:`fast_compile_choice`).
    When compiling, batch norms are left for inductor to fold unless
    ``fuse_conv_bn`` is asked for (folding by hand was measured slower).
    """
    base = best_fast_path(device) if fast else FastPath()
    note = ''
    if fast and not compile:
        compile, note = fast_compile_choice(device, total_views)
    return FastPath(amp=amp or base.amp,
                    channels_last=channels_last or base.channels_last,
                    fuse_conv_bn=fuse_conv_bn or (base.fuse_conv_bn and
                                                  not compile),
                    compile=compile, compile_note=note)


# -- applying it --------------------------------------------------------


def _float_scores(test_step: Callable, device: torch.device,
                  amp: str) -> Callable:
    """``test_step`` under autocast, with float32 scores in the results."""

    @functools.wraps(test_step)
    def wrapped(*args, **kwargs):
        with autocast(device, amp):
            outputs = test_step(*args, **kwargs)
        for sample in outputs:
            if 'pred_score' in sample:  # [K], or [views, K] unaveraged
                sample.set_field(sample.pred_score.float(), 'pred_score',
                                 dtype=torch.Tensor)
        return outputs

    return wrapped


def apply_fast_path(model: nn.Module, fast: FastPath,
                    allow_slow_amp: bool = False,
                    log: Callable[[str], None] = print) -> int:
    """Apply ``fast`` to a loaded recognizer in place (eval mode).

    channels_last_3d: the backbone's weights, and ``model.memory_format``
    so that ``Recognizer3D.extract_feat`` converts the inputs before the
    backbone (no hook on it). With ``fast.compile`` the backbone becomes a
    :class:`~mmvid.apis.compiled.CompiledBackbone` (autocast inside it);
    otherwise with ``fast.amp`` ``model.test_step`` runs under autocast.
    Either way the scores are float32.

    Args:
        model: A ``Recognizer3D`` with its weights loaded.
        fast: The switches.
        allow_slow_amp: See :func:`check_amp`.
        log: Where the compile lines go.

    Returns:
        The number of batch norms folded by hand.

    Raises:
        RuntimeError / ValueError: from :func:`check_amp`; compiling without
        a compiler for the device.
    """
    device = next(model.parameters()).device
    check_amp(fast.amp, device, allow_slow=allow_slow_amp)
    if not hasattr(model, 'memory_format'):
        raise TypeError('apply_fast_path needs a Recognizer3D (a model with '
                        f'memory_format), got {type(model).__name__}')
    model.eval()
    fused = 0
    if fast.fuse_conv_bn:
        before = count_batchnorms(model)
        fuse_conv_bn(model)
        fused = before - count_batchnorms(model)
    if fast.channels_last:
        model.memory_format = 'channels_last_3d'
    if model.memory_format == 'channels_last_3d':
        to_channels_last(model.backbone)  # folded weights are new tensors
    if fast.compile:
        missing = compiler_missing(device)
        if missing:
            raise RuntimeError(f'--compile: {missing}; inductor needs it to '
                               'build kernels. Leave out --compile.')
        compile_backbone(model, fast.amp, log)
    elif fast.amp is not None:
        model.test_step = _float_scores(model.test_step, device, fast.amp)
    return fused
