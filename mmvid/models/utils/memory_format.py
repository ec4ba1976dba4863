"""Memory layouts of a recognizer: channels_last_3d weights and inputs.

On CPUs (oneDNN) 3D convolutions run faster on channels_last_3d tensors
(``[N, C, T, H, W]`` stored as NDHWC); :class:`~mmvid.models.Recognizer3D`
uses that layout by default there.
"""
import torch
import torch.nn as nn


def to_channels_last(module: nn.Module) -> None:
    """5-D parameters to channels_last_3d, 4-D to channels_last, in place
    (other parameters and all buffers unchanged)."""
    for sub in module.modules():
        for param in sub.parameters(recurse=False):
            fmt = {5: torch.channels_last_3d,
                   4: torch.channels_last}.get(param.dim())
            if fmt is not None:
                param.data = param.data.contiguous(memory_format=fmt)


def channels_last_inputs(module: nn.Module, args: tuple) -> tuple:
    """Forward pre-hook: 5-D tensor arguments ``[N, C, T, H, W]`` become
    channels_last_3d (other arguments pass unchanged)."""
    return tuple(
        a.contiguous(memory_format=torch.channels_last_3d)
        if isinstance(a, torch.Tensor) and a.dim() == 5 else a for a in args)


def memory_format_of(model: nn.Module) -> str:
    """``'channels_last_3d'`` or ``'contiguous'``: the layout of the
    backbone's first 5-D weight."""
    for param in model.backbone.parameters():
        if param.dim() == 5:
            if param.is_contiguous(memory_format=torch.channels_last_3d) \
                    and not param.is_contiguous():
                return 'channels_last_3d'
            return 'contiguous'
    return 'contiguous'
