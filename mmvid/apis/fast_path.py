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

The default (no switch) is exact fp32 eager.
"""
import contextlib
import functools
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import torch
import torch.nn as nn

from mmvid.models.utils import (channels_last_inputs, count_batchnorms,
                                fuse_conv_bn, to_channels_last)

AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


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
        fuse_conv_bn: Fold batch norms into the preceding convolutions.
        compile: ``torch.compile`` the backbone.
    """
    amp: Optional[str] = None
    channels_last: bool = False
    fuse_conv_bn: bool = False
    compile: bool = False

    def describe(self) -> str:
        parts = [{None: 'fp32', 'bf16': 'bf16 autocast',
                  'fp16': 'fp16 autocast'}[self.amp]]
        if self.channels_last:
            parts.append('channels_last_3d')
        if self.fuse_conv_bn:
            parts.append('conv-BN folded')
        if self.compile:
            parts.append('torch.compile')
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
    this CPU has no native bfloat16 ...)``."""
    line = f'inference fast path: {fast.describe()}'
    if picked_by_fast and fast.amp == best_fast_path(device).amp:
        line += f' (--fast: {fast_choice_reason(device)})'
    return line


def make_fast_path(device: torch.device,
                   fast: bool = False,
                   amp: Optional[str] = None,
                   channels_last: bool = False,
                   fuse_conv_bn: bool = False,
                   compile: bool = False) -> FastPath:
    """The switches of ``--fast``, ``--amp``, ``--channels-last``,
    ``--fuse-conv-bn`` and ``--compile``: ``fast`` starts from
    :func:`best_fast_path` for ``device`` and the others add to it."""
    base = best_fast_path(device) if fast else FastPath()
    return FastPath(amp=amp or base.amp,
                    channels_last=channels_last or base.channels_last,
                    fuse_conv_bn=fuse_conv_bn or base.fuse_conv_bn,
                    compile=compile)


# -- applying it --------------------------------------------------------


@contextlib.contextmanager
def autocast(device: torch.device, amp: Optional[str]) -> Iterator[None]:
    """``torch.autocast`` to ``amp``'s dtype on ``device``; nothing for
    None."""
    if amp is None:
        yield
        return
    with torch.autocast(torch.device(device).type, dtype=AMP_DTYPES[amp]):
        yield


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
                    allow_slow_amp: bool = False) -> int:
    """Apply ``fast`` to a loaded recognizer in place (eval mode).

    With ``fast.amp``, ``model.test_step`` runs under autocast and returns
    float32 scores.

    Returns:
        The number of batch norms folded.

    Raises:
        RuntimeError / ValueError: from :func:`check_amp`.
    """
    device = next(model.parameters()).device
    check_amp(fast.amp, device, allow_slow=allow_slow_amp)
    model.eval()
    fused = 0
    if fast.fuse_conv_bn:
        before = count_batchnorms(model)
        fuse_conv_bn(model)
        fused = before - count_batchnorms(model)
    if fast.channels_last or \
            getattr(model, 'memory_format', None) == 'channels_last_3d':
        to_channels_last(model.backbone)  # folded weights are new tensors
    if fast.channels_last:
        model.backbone.register_forward_pre_hook(channels_last_inputs)
    if fast.compile:
        model.backbone = torch.compile(model.backbone)
    if fast.amp is not None:
        model.test_step = _float_scores(model.test_step, device, fast.amp)
    return fused
