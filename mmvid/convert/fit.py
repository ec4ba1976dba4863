"""Fitting mapped source tensors to a model built from an mmvid config.

:func:`fit_to_model` checks the mapped keys and shapes against
``model.state_dict()`` and completes what a source legitimately lacks:

- ``num_batches_tracked`` of every BN: 0 (FAIR files have none);
- frozen-BN ("affine") layers: running_mean 0 and running_var ``1 - eps``,
  so ``sqrt(var + eps) = 1`` and the eval-mode BN is exactly
  ``x * weight + bias``; a non-local block with no BN entries at all gets an
  identity BN (weight 1, bias 0, same statistics);
- with ``drop_head`` the classifier, for a 2-D source the classifier when
  it does not fit (ImageNet's 1000 classes) and the non-local blocks when
  it has none: the model's fresh initialisation;
- a 2-D source's kernels ``[O, I, h, w]`` / ``[O, I, 1, h, w]``: inflated
  to the model's temporal size ``t``, repeated along ``t`` and divided by
  ``t``.

Anything else that differs is a :class:`~mmvid.checkpoint.
CheckpointError` explaining the likely cause (:mod:`.diagnose`).
"""
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn

from mmvid.models.backbones.inflate import inflate_conv_weight

from mmvid.checkpoint.errors import CheckpointError
from . import names
from .diagnose import explain_keys, explain_shapes
from .mapped import AFFINE, IDENTITY, MappedCheckpoint
from .report import ConversionReport, ReportEntry

NUM_BATCHES = 'num_batches_tracked'
KIND_COUNTERS = 'num_batches_tracked, set to 0'
KIND_AFFINE = ('frozen-BN layers without statistics, given running_mean 0, '
               'running_var 1 - eps')
KIND_IDENTITY = ('non-local BNs the file lacks, set to identity: weight 1, '
                 'bias 0, running_mean 0, running_var 1 - eps')
KIND_DROPPED_HEAD = 'checkpoint classifier, dropped by --drop-head'
KIND_IMAGENET_HEAD = ('classifier of a 2-D (ImageNet) network, does not fit '
                      'the config')
KIND_FRESH_HEAD = "config's freshly initialised classifier"
KIND_FRESH_NON_LOCAL = ('non-local parameters, freshly initialised: a 2-D '
                        'network has none')


def fill_frozen_bns(tensors: Dict[str, torch.Tensor],
                    fill_bns: Mapping[str, str],
                    model: nn.Module) -> List[ReportEntry]:
    """Add the missing entries of frozen-BN layers to ``tensors``.

    Args:
        tensors: mmvid key -> tensor; completed in place.
        fill_bns: BN prefix -> :data:`~.mapped.AFFINE` (has weight and
            bias: add running_mean 0, running_var ``1 - eps``) or
            :data:`~.mapped.IDENTITY` (has nothing: also weight 1, bias 0).
        model: The model; gives each BN's ``eps`` and size. BNs the model
            does not have are left alone (the key check reports them).

    Returns:
        One entry per completed BN.
    """
    filled = []
    modules = dict(model.named_modules())
    for prefix, how in fill_bns.items():
        bn = modules.get(prefix)
        if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
            continue
        size = (bn.num_features, )
        values = dict(running_mean=torch.zeros(size),
                      running_var=torch.full(size, 1.0 - bn.eps))
        if how == IDENTITY:
            values.update(weight=torch.ones(size), bias=torch.zeros(size))
        for entry, value in values.items():
            tensors.setdefault(f'{prefix}.{entry}', value)
        filled.append(
            ReportEntry(prefix, KIND_AFFINE if how == AFFINE else
                        KIND_IDENTITY))
    return filled


def inflate_kernels(tensors: Dict[str, torch.Tensor],
                    target: Mapping[str, torch.Tensor]) -> List[str]:
    """Inflate 2-D kernels in ``tensors`` (in place) to ``target``'s
    temporal size.

    ``[O, I, h, w]`` or ``[O, I, 1, h, w]`` become ``[O, I, t, h, w]``, the
    2-D kernel repeated ``t`` times and divided by ``t``. Kernels whose
    target is not 5-D or whose channels differ are left for the shape
    check.

    Returns:
        The keys inflated.
    """
    inflated = []
    for key, weight in tensors.items():
        want = target.get(key)
        if (not names.is_conv_weight(key) or want is None
                or want.dim() != 5):
            continue
        if weight.dim() == 5 and weight.shape[2] == 1:
            weight = weight[:, :, 0]
        if weight.dim() != 4 or weight.shape[:2] != want.shape[:2]:
            continue
        tensors[key] = inflate_conv_weight(weight, want.shape[2])
        inflated.append(key)
    return inflated


def fit_to_model(mapped: MappedCheckpoint,
                 model: nn.Module,
                 drop_head: bool = False,
                 config_name: str = 'the config'
                 ) -> Tuple['OrderedDict[str, torch.Tensor]',
                            ConversionReport]:
    """A complete state dict for ``model`` from ``mapped``, and a report.

    Args:
        mapped: A source's tensors under mmvid names.
        model: The model built from the config, freshly initialised (its
            values are used for the classifier with ``drop_head``).
        drop_head: Keep the model's classifier instead of the checkpoint's
            (fine-tuning to other classes). A 2-D source's classifier is
            left out (and reported) whenever it does not fit, e.g. an
            ImageNet 1000-way one; a 2-D source without non-local blocks
            keeps the model's fresh ones.
        config_name: Names the config in messages.

    Returns:
        ``(state_dict, report)``; ``state_dict`` has exactly the model's
        keys, shapes and dtypes, so it loads strictly.

    Raises:
        CheckpointError: naming the file and config, for keys on one side
            only or shapes that differ, with the likely cause (depth,
            non-local blocks, classes ...).
    """
    target = model.state_dict()
    tensors = OrderedDict(mapped.tensors)
    report = ConversionReport(mapped.basename, mapped.format, config_name)
    report.skipped.extend(mapped.skipped)
    two_d_head = mapped.two_d and not _head_fits(tensors, target)
    fresh_head = drop_head or two_d_head
    if fresh_head:
        kind = KIND_DROPPED_HEAD if drop_head else KIND_IMAGENET_HEAD
        for key in [k for k in tensors if names.is_head(k)]:
            report.dropped.append(
                ReportEntry(f'{key} {list(tensors.pop(key).shape)}', kind))
    report.filled.extend(fill_frozen_bns(tensors, mapped.fill_bns, model))
    fresh_non_local = mapped.two_d and not names.non_local_positions(tensors)
    fresh = _fresh_keys(fresh_head, fresh_non_local)

    where = f'{mapped.filename} does not fit {config_name}'
    unexpected = [k for k in tensors if k not in target]
    missing = [
        k for k in target if k not in tensors
        and not k.endswith(NUM_BATCHES) and fresh(k) is None
    ]
    if unexpected or missing:
        raise CheckpointError(f'{where}: ' + explain_keys(
            tensors, target, unexpected, missing, fresh_non_local))
    if mapped.two_d:
        report.inflated = inflate_kernels(tensors, target)
    mismatched = [k for k in tensors if tensors[k].shape != target[k].shape]
    if mismatched:
        raise CheckpointError(f'{where}: ' +
                              explain_shapes(tensors, target, mismatched))

    state: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for key, value in target.items():
        if key in tensors:
            state[key] = tensors[key].to(value.dtype)
            report.loaded.append(key)
        elif key.endswith(NUM_BATCHES):
            state[key] = torch.zeros_like(value)
            report.filled.append(ReportEntry(key, KIND_COUNTERS))
        else:
            state[key] = value.detach().clone()
            report.initialised.append(ReportEntry(key, fresh(key)))
    return state, report


def _head_fits(ckpt: Mapping[str, torch.Tensor],
               target: Mapping[str, torch.Tensor]) -> bool:
    """The checkpoint has a classifier of the model's shape."""
    keys = [k for k in target if names.is_head(k)]
    return bool(keys) and all(
        k in ckpt and ckpt[k].shape == target[k].shape for k in keys)


def _fresh_keys(fresh_head: bool,
                fresh_non_local: bool) -> Callable[[str], Optional[str]]:
    """``key -> report kind`` for model keys taken from the fresh model, or
    None for keys the checkpoint must provide."""

    def kind(key: str) -> Optional[str]:
        if fresh_head and names.is_head(key):
            return KIND_FRESH_HEAD
        if fresh_non_local and names.is_non_local(key):
            return KIND_FRESH_NON_LOCAL
        return None

    return kind
