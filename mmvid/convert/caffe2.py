"""Caffe2 blob names (video-nonlocal-net, PySlowFast model zoo ``.pkl``) ->
mmvid names.

- ``conv1_w`` [64, 3, 5, 7, 7] -> ``backbone.conv1.conv.weight``
- ``res_conv1_bn_{s,b,rm,riv}`` -> ``backbone.conv1.bn.{weight, bias,
  running_mean, running_var}``
- ``res{k+1}_{i}_branch2{a,b,c}_w`` / ``_bn_*`` ->
  ``backbone.layer{k}.{i}.conv{1,2,3}.conv.weight`` / ``.bn.*``
- ``res{k+1}_0_branch1_w`` / ``_bn_*`` ->
  ``backbone.layer{k}.0.downsample.conv.weight`` / ``.bn.*``
- ``nonlocal_conv{k+1}_{i}_{theta,phi,g,out}_{w,b}`` ->
  ``backbone.layer{k}.{i}.non_local_block.{theta.conv, phi.0.conv,
  g.0.conv, conv_out.conv}.{weight, bias}``
- ``nonlocal_conv{k+1}_{i}_bn_*`` -> ``...non_local_block.conv_out.bn.*``
- ``pred_w`` [K, C] (or a test net's [K, C, 1, 1, 1]) / ``pred_b`` [K] ->
  ``cls_head.fc_cls.{weight, bias}``
- ``*_momentum``, ``lr``, ``model_iter``, ``epoch``: skipped (optimizer
  state and counters)

``_s`` is the BN scale, ``_b`` its bias, ``_rm`` the running mean and
``_riv``, despite its name, the running *variance*. Frozen-BN ("affine")
files have only ``_s`` and ``_b`` (the statistics folded in) and non-local
blocks without any ``_bn_`` blob; :class:`~.mapped.MappedCheckpoint` marks
those BNs for the fit step to complete. A file whose kernels are all 2-D
(the Caffe2 ImageNet ResNet-50) is marked ``two_d`` for inflation.
"""
import re
from typing import Any, Dict, List, Mapping

from mmvid.checkpoint.errors import CheckpointError
from . import names
from .caffe2_pickle import load_caffe2_pickle
from .mapped import (AFFINE, IDENTITY, MappedCheckpoint, Rule,
                     all_kernels_2d, map_entries)

FORMAT = 'caffe2'
#: Caffe2 BN blob suffix -> PyTorch BN entry.
BN_SUFFIXES = {'s': 'weight', 'b': 'bias', 'rm': 'running_mean',
               'riv': 'running_var'}
_PARAM = {'w': 'weight', 'b': 'bias'}
_BN = r'bn_(s|b|rm|riv)'

SKIPS = [
    (re.compile(r'_momentum$'), '*_momentum blobs (SGD history)'),
    (re.compile(r'^lr$'), 'learning rate'),
    (re.compile(r'^model_iter$'), 'iteration counter'),
    (re.compile(r'^epoch$'), 'epoch counter'),
]

_block = names.stage_block_key
_non_local = names.stage_non_local_key
_conv = names.branch2_conv

RULES: List[Rule] = [
    (re.compile(r'^conv1_w$'), lambda m: f'{names.STEM}.conv.weight'),
    (re.compile(rf'^res_conv1_{_BN}$'),
     lambda m: f'{names.STEM}.bn.{BN_SUFFIXES[m[1]]}'),
    (re.compile(r'^res(\d+)_(\d+)_branch2([abc])_w$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.conv', 'weight')),
    (re.compile(rf'^res(\d+)_(\d+)_branch2([abc])_{_BN}$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.bn', BN_SUFFIXES[m[4]])),
    (re.compile(r'^res(\d+)_(\d+)_branch1_w$'),
     lambda m: _block(m[1], m[2], 'downsample.conv', 'weight')),
    (re.compile(rf'^res(\d+)_(\d+)_branch1_{_BN}$'),
     lambda m: _block(m[1], m[2], 'downsample.bn', BN_SUFFIXES[m[3]])),
    (re.compile(r'^nonlocal_conv(\d+)_(\d+)_(theta|phi|g|out)_(w|b)$'),
     lambda m: _non_local(m[1], m[2], m[3], _PARAM[m[4]])),
    (re.compile(rf'^nonlocal_conv(\d+)_(\d+)_{_BN}$'),
     lambda m: _non_local(m[1], m[2], 'bn', BN_SUFFIXES[m[3]])),
    (re.compile(r'^pred_(w|b)$'), lambda m: f'{names.HEAD}.{_PARAM[m[1]]}'),
]

EXPECTED = ('Caffe2 I3D blob name (conv1_w, res_conv1_bn_*, '
            'res<stage>_<block>_branch{1,2a,2b,2c}_*, '
            'nonlocal_conv<stage>_<block>_*, pred_*; *_momentum, lr, '
            'model_iter and epoch are skipped)')


def map_caffe2_blobs(blobs: Mapping[str, Any],
                     filename: str = '<blobs>') -> MappedCheckpoint:
    """Rename Caffe2 blobs to mmvid keys.

    Args:
        blobs: Blob name -> numpy array (or scalar), as
            :func:`~.caffe2_pickle.load_caffe2_pickle` returns.
        filename: The source, for messages.

    Returns:
        The mapped tensors in the blobs' shapes; optimizer blobs and
        counters in ``skipped``; frozen-BN layers in ``fill_bns``.

    Raises:
        CheckpointError: listing the blobs no rule maps, or for a BN with
            only one of its statistics.
    """
    mapped = MappedCheckpoint(filename, FORMAT)
    map_entries(mapped, blobs, RULES, SKIPS, EXPECTED, 'blob(s)')
    flatten_classifier(mapped)
    mark_frozen_bns(mapped)
    mapped.two_d = all_kernels_2d(
        mapped.tensors, [k for k in mapped.tensors if names.is_conv_weight(k)])
    return mapped


def flatten_classifier(mapped: MappedCheckpoint) -> None:
    """``pred_w`` saved from a test net, a 1x1x1 conv ``[K, C, 1, 1, 1]``,
    as the linear weight ``[K, C]``."""
    key = f'{names.HEAD}.weight'
    weight = mapped.tensors.get(key)
    if weight is not None and weight.dim() > 2 and all(
            size == 1 for size in weight.shape[2:]):
        mapped.tensors[key] = weight.reshape(weight.shape[:2])


def mark_frozen_bns(mapped: MappedCheckpoint) -> None:
    """Mark BNs with a scale and bias but no statistics as :data:`AFFINE`,
    and non-local blocks with no BN entry at all as :data:`IDENTITY`.

    Raises:
        CheckpointError: for a BN with one statistic but not the other.
    """
    entries: Dict[str, set] = {}
    for key in mapped.tensors:
        prefix, _, entry = key.rpartition('.')
        if prefix.endswith('.bn'):
            entries.setdefault(prefix, set()).add(entry)
    for prefix, found in entries.items():
        stats = found & {'running_mean', 'running_var'}
        if len(stats) == 1:
            (have, ) = stats
            lacks = ({'running_mean', 'running_var'} - stats).pop()
            raise CheckpointError(
                f'cannot convert {mapped.filename}: {prefix} has {have} '
                f'({mapped.origin[f"{prefix}.{have}"]}) but no {lacks}; '
                'expected both (a trained BN) or neither (a frozen-BN, '
                '"affine" file)')
        if not stats and {'weight', 'bias'} <= found:
            mapped.fill_bns[prefix] = AFFINE
    for layer, index in names.non_local_positions(mapped.tensors):
        prefix = names.non_local(layer, index, 'bn')
        if prefix not in entries:
            mapped.fill_bns[prefix] = IDENTITY


def read_caffe2(filename: str) -> MappedCheckpoint:
    """Load a Caffe2 ``.pkl`` safely and map its blobs."""
    return map_caffe2_blobs(load_caffe2_pickle(filename), filename)
