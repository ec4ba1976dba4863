"""2D -> 3D weight inflation (I3D): a 2D ResNet's weights for a ResNet3d.

A 2D kernel ``W [O, I, h, w]`` becomes ``W3 [O, I, t, h, w]`` with
``W3[:, :, k] = W / t`` for every ``k``: on a clip of identical frames the
inflated convolution gives the 2D response at every frame whose temporal
window lies inside the clip. BatchNorm parameters and statistics are copied.

Names follow torchvision's ResNet: the 3D ``ConvModule`` named ``NAME``
(``conv1``, ``layer1.0.conv2`` ...) reads the 2D conv ``NAME.weight`` and the
BN ``NAME`` with ``conv`` replaced by ``bn``; a ``downsample`` reads
``downsample.0`` (conv) and ``downsample.1`` (BN).
"""
from typing import Dict, List, Mapping, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import print_log

from mmvid.checkpoint import CheckpointError
from mmvid.checkpoint.errors import abbreviate

BN_KEYS = ('weight', 'bias', 'running_mean', 'running_var',
           'num_batches_tracked')


def _source_prefixes(name: str) -> Tuple[str, str]:
    """2D conv and BN key prefixes of the 3D ConvModule called ``name``."""
    if name.endswith('downsample'):
        return f'{name}.0', f'{name}.1'
    head, _, last = name.rpartition('.')
    bn = last.replace('conv', 'bn')
    return name, f'{head}.{bn}' if head else bn


def inflate_conv_weight(weight_2d: torch.Tensor,
                        temporal_kernel: int) -> torch.Tensor:
    """``[O, I, h, w]`` -> ``[O, I, t, h, w]``, repeated along t, divided by t."""
    return weight_2d.unsqueeze(2).repeat(1, 1, temporal_kernel, 1, 1) / \
        temporal_kernel


def inflate_2d_state_dict(state_dict_2d: Mapping[str, torch.Tensor],
                          model: nn.Module, logger: str = 'current'
                          ) -> Tuple[Dict[str, torch.Tensor], Dict[str, List]]:
    """Inflate a torchvision-style 2D ResNet state dict for ``model``.

    Args:
        state_dict_2d: 2D weights (``conv1.weight``, ``bn1.*``,
            ``layer1.0.conv1.weight`` ...).
        model: The 3D backbone (its ``ConvModule`` names drive the mapping).
        logger: Where the report is logged.

    Returns:
        ``(state_dict_3d, report)``: the inflated tensors under ``model``'s
        key names, and ``report`` with ``unused_2d`` (2D keys not used, e.g.
        ``fc.weight``) and ``missing_3d`` (3D tensors with no 2D source, e.g.
        non-local blocks).

    Raises:
        CheckpointError: a 2D tensor whose shape does not fit its 3D target.
    """
    target = model.state_dict()
    inflated: Dict[str, torch.Tensor] = {}
    used = set()
    for name, module in model.named_modules():
        if not isinstance(module, ConvModule):
            continue
        conv_2d, bn_2d = _source_prefixes(name)
        key_2d, key_3d = f'{conv_2d}.weight', f'{name}.conv.weight'
        if key_2d in state_dict_2d:
            weight = state_dict_2d[key_2d]
            shape_3d = target[key_3d].shape
            if weight.dim() != 4 or weight.shape != shape_3d[:2] + shape_3d[3:]:
                raise CheckpointError(
                    f'cannot inflate {key_2d} {tuple(weight.shape)} into '
                    f'{key_3d} {tuple(shape_3d)}')
            inflated[key_3d] = inflate_conv_weight(weight, shape_3d[2])
            used.add(key_2d)
        if module.with_norm:
            for suffix in BN_KEYS:
                src, dst = f'{bn_2d}.{suffix}', f'{name}.bn.{suffix}'
                if src in state_dict_2d and dst in target:
                    if state_dict_2d[src].shape != target[dst].shape:
                        raise CheckpointError(
                            f'cannot copy {src} {tuple(state_dict_2d[src].shape)}'
                            f' into {dst} {tuple(target[dst].shape)}')
                    inflated[dst] = state_dict_2d[src].clone()
                    used.add(src)
    report = dict(
        unused_2d=sorted(set(state_dict_2d) - used),
        missing_3d=sorted(set(target) - set(inflated)))
    print_log(
        f'inflated {len(used)} 2D tensors into {len(inflated)} 3D tensors; '
        f'2D keys not used: {report["unused_2d"]}; 3D keys with no 2D '
        f'source ({len(report["missing_3d"])}): '
        f'{abbreviate(report["missing_3d"], 8)}',
        logger=logger)
    return inflated, report

