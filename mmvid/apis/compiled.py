"""Compiled inference: the backbone through ``torch.compile`` with inductor's
freezing, autocast inside the compiled call.

What :func:`compile_backbone` builds, and why (measured on I3D R50, one
32x224² view, by ``benchmarks/fast_path_speedup.py --compile`` and
``benchmarks/deploy_backends.py``; figures in ``docs/benchmark.md``):

- **freezing** (inductor's ``freezing`` config): the weights become
  constants, so inductor folds each batch norm into its convolution and
  prepacks the weights for oneDNN. Folding by hand before compiling was
  measured 10% slower than letting inductor do it, so the compiled path
  leaves batch norms in the model (``make_fast_path``).
- **no Python hooks inside the compiled region**: the channels_last_3d
  conversion of the input happens in ``Recognizer3D.extract_feat`` before
  the compiled call (a forward pre-hook on the compiled backbone made it
  3.6x slower).
- **autocast inside the compiled call**: :class:`InferenceBackbone` runs the
  backbone under bf16 / fp16 autocast and returns float32 features, so the
  head and the scores stay float32 and the graph holds the low-precision
  kernels.
- **the normalisation inside the compiled call**: the data preprocessor
  hands on raw pixels and inductor fuses cast, normalisation and layout
  (the eager preprocessor was 10 % of a compiled bf16 ``test_step``).
- **static shapes** (``dynamic=False``): a new clip shape (e.g. the last,
  smaller batch) compiles once more rather than a slower dynamic graph.

The first call with a shape compiles (about 18 s for I3D R50 on a 2-core
CPU with an empty cache, 10 s from the cache; 11 s for the demo model);
:class:`CompiledBackbone` logs it.
torch's compile caches (``TORCHINDUCTOR_CACHE_DIR``, by default
``/tmp/torchinductor_<user>``) make the next process start much faster.
Freezing applies in inference (``torch.no_grad``), as in ``test_step``.
"""
import getpass
import os
import shutil
import tempfile
import time
from typing import Callable, Optional, Set, Tuple

import torch
import torch._inductor.config as inductor_config
import torch.nn as nn

from .precision import autocast

# A cold compile (empty cache) on a 2-core AMD EPYC (Zen 4), measured from
# a fresh TORCHINDUCTOR_CACHE_DIR: I3D R50 (53 convolutions) 18 s, the demo
# R18 (20 convolutions) 11-12 s; about a fixed part plus a part per
# convolution. With the cache: I3D R50 10 s.
COLD_SECONDS_FIXED = 6.0
COLD_SECONDS_PER_CONV = 0.25


class InferenceBackbone(nn.Module):
    """``backbone`` under autocast, returning float32 features: the module
    :func:`compile_backbone` compiles. With ``mean`` / ``std`` it also
    normalises raw pixels first, so that inductor fuses the cast, the
    normalisation and the layout change into one pass.

    Args:
        backbone: ``[N, C, T, H, W] -> [N, C', T', H', W']``.
        device_type: ``'cpu'`` or ``'cuda'``.
        amp: None (fp32), ``'bf16'`` or ``'fp16'``.
        mean / std: Per-channel ``[C, 1, 1, 1]`` (0-255 scale), or None
            when the input is normalised already.
    """

    def __init__(self, backbone: nn.Module, device_type: str,
                 amp: Optional[str] = None,
                 mean: Optional[torch.Tensor] = None,
                 std: Optional[torch.Tensor] = None) -> None:
        super().__init__()
        if (mean is None) != (std is None):
            raise ValueError('give both mean and std, or neither')
        self.backbone = backbone
        self.device_type = device_type
        self.amp = amp
        self.normalize = mean is not None
        if self.normalize:
            self.register_buffer('mean', mean.float().clone(),
                                 persistent=False)
            self.register_buffer('std', std.float().clone(),
                                 persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, C, T, H, W]``, raw pixels (any dtype) when
        normalising, else float; returns float32 features."""
        if self.normalize:
            x = (x.float() - self.mean) / self.std
        with autocast(self.device_type, self.amp):
            return self.backbone(x).float()


class CompiledBackbone(nn.Module):
    """Calls a compiled :class:`InferenceBackbone` and logs each compile:
    ``compiling the backbone for [N, C, T, H, W] (one-off, ~N s ...)``
    before the first call with a new input shape, then ``compiled in X s``.

    The logging is plain Python around the compiled call, not inside it.
    """

    def __init__(self, inference_backbone: InferenceBackbone,
                 log: Callable[[str], None] = print) -> None:
        super().__init__()
        self.inner = inference_backbone
        # freezing must be inductor's config while it compiles: passed as
        # torch.compile(options={'freezing': True}) it is not applied (the
        # weights stay graph inputs; tests/apis/test_compiled.py)
        self.compiled = torch.compile(inference_backbone, dynamic=False)
        self.log = log
        self.compile_seconds: list = []
        self._shapes: Set[Tuple[int, ...]] = set()

    @property
    def backbone(self) -> nn.Module:
        """The original (uncompiled) backbone."""
        return self.inner.backbone

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = tuple(x.shape)
        if shape in self._shapes:
            return self._call(x)
        self.log(f'compiling the backbone for {list(shape)} '
                 f'({compile_estimate(self.backbone)})')
        start = time.perf_counter()
        out = self._call(x)
        seconds = time.perf_counter() - start
        self._shapes.add(shape)
        self.compile_seconds.append(seconds)
        self.log(f'compiled in {seconds:.1f} s (first call included)')
        return out

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        # any call may recompile (a new shape, a failed guard)
        with inductor_config.patch(freezing=True):
            return self.compiled(x)


def inductor_cache_dir() -> str:
    """Where inductor keeps its compile cache."""
    default = os.path.join(tempfile.gettempdir(),
                           f'torchinductor_{_user()}')
    return os.environ.get('TORCHINDUCTOR_CACHE_DIR', default)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        return 'unknown'


def count_convolutions(module: nn.Module) -> int:
    return sum(isinstance(m, (nn.Conv2d, nn.Conv3d))
               for m in module.modules())


def compile_estimate(backbone: nn.Module) -> str:
    """``one-off, ~N s cold ..., about half that when torch's compile cache
    (DIR) has this model`` with N from the backbone's convolution count."""
    cold = round(COLD_SECONDS_FIXED +
                 COLD_SECONDS_PER_CONV * count_convolutions(backbone))
    return (f'one-off, ~{cold} s cold on a small CPU, about half that when '
            f"torch's compile cache ({inductor_cache_dir()}) has this model")


def cxx_compiler() -> Optional[str]:
    """The C++ compiler inductor would use on a CPU, or None when there is
    none (then compiling for the CPU fails)."""
    name = os.environ.get('CXX') or 'c++'
    for candidate in (name, 'g++', 'clang++'):
        path = shutil.which(candidate)
        if path:
            return path
    return None


def compile_backbone(model: nn.Module, amp: Optional[str],
                     log: Callable[[str], None] = print) -> CompiledBackbone:
    """Replace ``model.backbone`` by its compiled inference form.

    Where the data preprocessor normalises (``mean`` / ``std``), the
    normalisation moves into the compiled call: the preprocessor then hands
    on the raw pixels (uint8 from the pipeline) and inductor fuses the
    cast, the normalisation and the layout change (measured: the eager
    preprocessor took 10% of a compiled bf16 I3D R50 ``test_step``).

    Args:
        model: A recognizer in eval mode, weights loaded (they are frozen
            into the compiled graph: later changes to them are not seen).
            For inference only: its data preprocessor is changed as above.
        amp: Autocast inside the compiled call: None, ``'bf16'``,
            ``'fp16'``.
        log: Where the compile lines go.
    """
    device = next(model.parameters()).device
    preprocessor = model.data_preprocessor
    mean = std = None
    if getattr(preprocessor, 'normalize', False) and \
            getattr(preprocessor, 'format_shape', None) == 'NCTHW':
        mean, std = preprocessor.mean, preprocessor.std  # [C, 1, 1, 1]
        preprocessor.normalize = False
        preprocessor.to_float32 = False
    compiled = CompiledBackbone(
        InferenceBackbone(model.backbone, device.type, amp, mean, std), log)
    model.backbone = compiled
    return compiled
