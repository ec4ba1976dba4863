"""Why a checkpoint does not fit a config: one-line explanations.

Key mismatches are explained by the first structural difference found, in
this order: depth (blocks per stage), non-local placement, non-local block
options, classifier presence; otherwise the keys are listed. Shape
mismatches are explained per kind (classifier, 2-D kernels, temporal
kernels, channels) and joined.
"""
from typing import Dict, List, Mapping, Optional, Sequence

import torch

from mmvid.checkpoint.errors import abbreviate
from . import names

DROP_HEAD = '--drop-head (drop_head=True)'


def _depth_guess(counts: Dict[int, int], bottleneck: bool) -> str:
    """``'the checkpoint looks like depth 101'`` or its blocks per stage."""
    from mmvid.models.backbones.resnet3d import ARCH_SETTINGS
    stages = tuple(counts[layer] for layer in sorted(counts))
    for depth, (block, stage_blocks) in ARCH_SETTINGS.items():
        if (tuple(stage_blocks) == stages
                and (block.expansion == 4) == bottleneck):
            return f'the checkpoint looks like depth {depth}'
    return f'the checkpoint has {stages} blocks per stage'


def explain_depth(ckpt_keys: Sequence[str],
                  model_keys: Sequence[str]) -> Optional[str]:
    """The first stage whose number of blocks differs, or None."""
    ckpt, model = names.block_counts(ckpt_keys), names.block_counts(model_keys)
    if ckpt == model:
        return None
    bottleneck = any('.conv3.' in key for key in ckpt_keys)
    guess = _depth_guess(ckpt, bottleneck)
    for layer in sorted(set(ckpt) | set(model)):
        have, want = ckpt.get(layer, 0), model.get(layer, 0)
        if have == want:
            continue
        if not want:
            return (f'checkpoint has layer{layer}.* but the config builds '
                    f'{len(model)} stages: is the config\'s num_stages right '
                    f'({guess})?')
        if not have:
            return (f'the config builds layer{layer} but the checkpoint has '
                    f'no layer{layer}.*: is the config\'s num_stages right '
                    f'({guess})?')
        if have > want:
            return (f'checkpoint has layer{layer}.{want}.* but the config '
                    f'builds {want} blocks in layer{layer}: is the config\'s '
                    f'depth right ({guess})?')
        return (f'the config builds {want} blocks in layer{layer} but the '
                f'checkpoint has {have} (layer{layer}.0-{have - 1}): is the '
                f'config\'s depth right ({guess})?')
    return None


def explain_non_local_placement(ckpt_keys: Sequence[str],
                                model_keys: Sequence[str]) -> Optional[str]:
    """Non-local blocks in different places, or None."""
    ckpt = names.non_local_positions(ckpt_keys)
    model = names.non_local_positions(model_keys)
    if ckpt == model:
        return None
    if not model:
        return (f'checkpoint has non-local blocks at '
                f'{names.position_names(ckpt)} but the config has none: use '
                'a non-local config (backbone.non_local and non_local_cfg, '
                'e.g. _base_/models/fair_non_local.py)')
    if not ckpt:
        return (f'the config has non-local blocks at '
                f'{names.position_names(model)} but the checkpoint has none: '
                'use the config without non-local blocks')
    return (f'checkpoint has non-local blocks at '
            f'{names.position_names(ckpt)} but the config at '
            f'{names.position_names(model)}: make backbone.non_local match')


def explain_non_local_options(unexpected: Sequence[str],
                              missing: Sequence[str]) -> Optional[str]:
    """Non-local blocks in the same places with different parameters."""
    extra = [k for k in unexpected if names.is_non_local(k)]
    lacking = [k for k in missing if names.is_non_local(k)]
    if not extra and not lacking:
        return None
    if any(k.endswith('conv_out.conv.bias') for k in extra):
        return ("checkpoint's non-local output convs have a bias (FAIR's) "
                "but the config's do not: set non_local_cfg out_bias=True "
                '(see _base_/models/fair_non_local.py)')
    if any(k.endswith('conv_out.conv.bias') for k in lacking):
        return ("the config's non-local output convs have a bias "
                "(non_local_cfg out_bias=True) but the checkpoint's do not")
    if any('.phi.0.' in k or '.g.0.' in k for k in extra):
        return ("checkpoint's non-local blocks sub-sample phi and g "
                "(1x2x2 pool) but the config's do not: set non_local_cfg "
                'sub_sample=True')
    if any('.conv_out.bn.' in k for k in extra):
        return ("checkpoint's non-local blocks have a BN after the output "
                "conv but the config's do not: set non_local_cfg "
                "norm_cfg=dict(type='BN3d')")
    extra_names = abbreviate([names.short(k) for k in extra])
    lacking_names = abbreviate([names.short(k) for k in lacking])
    return (f'non-local blocks differ: checkpoint has '
            f'{extra_names or "nothing more"}, the config '
            f'{lacking_names or "nothing more"}: check non_local_cfg (mode, '
            'sub_sample, norm_cfg, out_bias)')


def explain_head_keys(ckpt: Mapping[str, torch.Tensor],
                      model: Mapping[str, torch.Tensor],
                      unexpected: Sequence[str],
                      missing: Sequence[str]) -> Optional[str]:
    """A classifier on one side only, or None."""
    weight = f'{names.HEAD}.weight'
    if weight in unexpected and not any(names.is_head(k) for k in model):
        return (f'checkpoint has a classifier ({ckpt[weight].shape[0]} '
                f'classes) but the config builds no cls_head: pass '
                f'{DROP_HEAD} to convert the backbone only')
    if weight in missing and not any(names.is_head(k) for k in ckpt):
        return (f"checkpoint has no classifier but the config's cls_head "
                f'has {model[weight].shape[0]} classes: pass {DROP_HEAD} to '
                "keep the config's freshly initialised head")
    return None


def explain_keys(ckpt: Mapping[str, torch.Tensor],
                 model: Mapping[str, torch.Tensor], unexpected: List[str],
                 missing: List[str], fresh_non_local: bool = False) -> str:
    """Why ``unexpected`` (checkpoint only) and ``missing`` (model only)
    keys differ, in one line.

    Args:
        ckpt: The mapped checkpoint.
        model: The model's state dict.
        unexpected / missing: The differing keys.
        fresh_non_local: The config's non-local blocks are kept fresh (a
            2-D source has none), so their placement is not compared.
    """
    ckpt_keys = [k for k in ckpt if not names.is_head(k)]
    model_keys = [k for k in model if not names.is_head(k)]
    reasons = [
        explain_depth(ckpt_keys, model_keys),
        None if fresh_non_local else explain_non_local_placement(
            ckpt_keys, model_keys),
        explain_non_local_options(unexpected, missing),
        explain_head_keys(ckpt, model, unexpected, missing),
    ]
    for reason in reasons:
        if reason:
            return reason
    parts = []
    if unexpected:
        parts.append(f'checkpoint has {len(unexpected)} tensor(s) the config '
                     f'does not build: {abbreviate(unexpected)}')
    if missing:
        parts.append(f'the config has {len(missing)} tensor(s) the '
                     f'checkpoint lacks: {abbreviate(missing)}')
    return '; '.join(parts)


def _shape(tensor: torch.Tensor) -> str:
    return str(list(tensor.shape))


def explain_shapes(ckpt: Mapping[str, torch.Tensor],
                   model: Mapping[str, torch.Tensor],
                   keys: List[str]) -> str:
    """Why the tensors ``keys`` differ in shape, in one line."""
    parts = []
    head = [k for k in keys if names.is_head(k)]
    weight = f'{names.HEAD}.weight'
    if head and weight in head and ckpt[weight].dim() == 2 \
            and model[weight].dim() == 2:
        (have_k, have_c), (want_k, want_c) = ckpt[weight].shape, \
            model[weight].shape
        if have_k != want_k:
            parts.append(
                f'classifier: checkpoint has {have_k} classes, the config '
                f'{want_k}: pass {DROP_HEAD} to keep the config\'s freshly '
                'initialised head and load the backbone')
        if have_c != want_c:
            parts.append(
                f'classifier: checkpoint takes {have_c} features, the '
                f"config's cls_head {want_c} (in_channels)")
    elif head:
        parts.append('classifier: ' + ', '.join(
            f'{k} {_shape(ckpt[k])} vs {_shape(model[k])}' for k in head))
    rest = [k for k in keys if not names.is_head(k)]
    flat = [k for k in rest if ckpt[k].dim() == 4 and model[k].dim() == 5]
    if flat:
        parts.append(
            f'{names.short(flat[0])} is a 2-D kernel {_shape(ckpt[flat[0]])} '
            f'in the checkpoint but {_shape(model[flat[0]])} in the config: '
            'the checkpoint is a 2-D (ImageNet) network; convert it as one '
            '(torchvision_to_mmvid.py, or the Caffe2 / PySlowFast converters, '
            'which inflate 2-D files)')
    temporal = [
        k for k in rest if k not in flat and ckpt[k].dim() == 5
        and model[k].dim() == 5 and ckpt[k].shape[2] != model[k].shape[2]
        and ckpt[k].shape[:2] + ckpt[k].shape[3:] == model[k].shape[:2] +
        model[k].shape[3:]
    ]
    if temporal:
        listed = abbreviate([
            f'{names.short(k[:-len(".conv.weight")])} ({ckpt[k].shape[2]} '
            f'vs {model[k].shape[2]})' for k in temporal
        ], 4)
        parts.append(
            f'temporal kernel sizes differ (checkpoint vs config) at '
            f"{listed}: is the config's inflate pattern (or conv1_kernel) "
            'right?')
    other = [k for k in rest if k not in flat and k not in temporal]
    if other:
        listed = abbreviate([
            f'{names.short(k)}: {_shape(ckpt[k])} vs {_shape(model[k])}'
            for k in other
        ], 4)
        parts.append(
            f'{len(other)} tensor(s) differ in shape (checkpoint vs config): '
            f"{listed}: do the config's depth, base_channels and "
            'non_local_cfg match the checkpoint?')
    return '; '.join(parts)
