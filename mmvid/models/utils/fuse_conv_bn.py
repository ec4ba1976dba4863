"""Folding eval-mode batch norms into the convolutions they follow.

``bn(conv(x))`` becomes one convolution with rescaled weights and a bias
(:func:`fold_bn_into_conv`); :func:`fuse_conv_bn` does it for every
``conv -> batch norm`` pair of a network. mmcv's ``fuse_conv_bn`` only
recognises ``nn.Conv2d``, so it leaves 3D networks unfused; the functions
here handle 1D, 2D and 3D convolutions.
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def fold_bn_into_conv(conv: nn.Module, bn: _BatchNorm) -> nn.Module:
    """Fold an eval-mode batch norm applied to ``conv``'s output into
    ``conv``'s weight and bias (in place); returns ``conv``.

    ``bn(conv(x)) == conv'(x)`` with ``w' = w * g / s`` and ``b' = (b - mean)
    * g / s + beta``, ``s = sqrt(running_var + eps)``, computed in float64.

    Raises:
        TypeError: ``conv`` is not a Conv1d/2d/3d or ``bn`` not a batch norm.
        ValueError: The channel counts differ, or ``bn`` has no running
            statistics.
        RuntimeError: ``bn`` is in training mode (it would normalise with
            batch statistics, which folding cannot reproduce).
    """
    if not isinstance(conv, CONV_TYPES):
        raise TypeError('can only fold into Conv1d/2d/3d, got '
                        f'{type(conv).__name__}')
    if not isinstance(bn, _BatchNorm):
        raise TypeError(f'expected a batch norm, got {type(bn).__name__}')
    if bn.training:
        raise RuntimeError('batch norm is in training mode; call .eval() '
                           'before folding it into the convolution')
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError('batch norm without running statistics '
                         '(track_running_stats=False) cannot be folded')
    if conv.out_channels != bn.num_features:
        raise ValueError(f'conv has {conv.out_channels} output channels, '
                         f'batch norm {bn.num_features} features')
    with torch.no_grad():
        weight = conv.weight.double()
        scale = (bn.running_var.double() + bn.eps).rsqrt()
        if bn.affine:
            scale = scale * bn.weight.double()
        bias = conv.bias.double() if conv.bias is not None else \
            torch.zeros_like(scale)
        bias = (bias - bn.running_mean.double()) * scale
        if bn.affine:
            bias = bias + bn.bias.double()
        shape = (-1, ) + (1, ) * (weight.dim() - 1)
        dtype = conv.weight.dtype
        conv.weight = nn.Parameter((weight * scale.view(shape)).to(dtype))
        conv.bias = nn.Parameter(bias.to(dtype))
    return conv


def _conv_module_pair(module: nn.Module) -> Optional[Tuple[str, str]]:
    """``(conv name, norm name)`` of an mmcv ``ConvModule`` that applies a
    convolution and then a batch norm, else None."""
    order = getattr(module, 'order', None)
    norm_name = getattr(module, 'norm_name', None)
    if not (getattr(module, 'with_norm', False) and norm_name
            and isinstance(order, tuple) and 'conv' in order
            and 'norm' in order and order.index('conv') < order.index('norm')):
        return None
    conv, norm = module._modules.get('conv'), module._modules.get(norm_name)
    if isinstance(conv, CONV_TYPES) and isinstance(norm, _BatchNorm):
        return 'conv', norm_name
    return None


def fuse_conv_bn(module: nn.Module) -> nn.Module:
    """Fold every batch norm that directly follows a convolution into it,
    in place, replacing the batch norm by ``nn.Identity``; returns
    ``module``.

    Pairs are found where the order of execution is known: an mmcv
    ``ConvModule`` whose ``order`` runs ``conv`` before ``norm``, and
    consecutive ``(conv, batch norm)`` children of an ``nn.Sequential``.
    Other batch norms are left alone. The batch norms must be in eval mode.
    """
    pair = _conv_module_pair(module)
    if pair is not None:
        conv_name, norm_name = pair
        fold_bn_into_conv(module._modules[conv_name],
                          module._modules[norm_name])
        module._modules[norm_name] = nn.Identity()
    elif isinstance(module, nn.Sequential):
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, norm = module._modules[first], module._modules[second]
            if isinstance(conv, CONV_TYPES) and isinstance(norm, _BatchNorm):
                fold_bn_into_conv(conv, norm)
                module._modules[second] = nn.Identity()
    for child in module.children():
        fuse_conv_bn(child)
    return module


def count_batchnorms(module: nn.Module) -> int:
    """Number of batch-norm layers in ``module``."""
    return sum(isinstance(m, _BatchNorm) for m in module.modules())
