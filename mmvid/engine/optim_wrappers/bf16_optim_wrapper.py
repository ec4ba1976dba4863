"""bfloat16 mixed-precision training on any device, CPU included.

mmengine's ``AmpOptimWrapper`` only runs on GPUs (and NPU/MLU/MUSA). bf16
has float32's exponent range, so it needs no loss scaling: this wrapper
only runs the forward (and loss) under ``torch.autocast(device_type,
bfloat16)``; weights, gradients and the optimizer stay float32.
"""
import contextlib

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmvid.registry import OPTIM_WRAPPERS

DEVICE_TYPES = ('cpu', 'cuda')


@OPTIM_WRAPPERS.register_module()
class BF16OptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` whose ``optim_context`` autocasts to bfloat16.

    Args:
        device_type: ``'cpu'`` or ``'cuda'``: where the model trains.
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    def __init__(self, device_type: str = 'cpu', **kwargs) -> None:
        if device_type not in DEVICE_TYPES:
            raise ValueError(f'optim_wrapper.device_type must be one of '
                             f'{DEVICE_TYPES}, got {device_type!r}')
        super().__init__(**kwargs)
        self.device_type = device_type

    @contextlib.contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(
                self.device_type, dtype=torch.bfloat16):
            yield
