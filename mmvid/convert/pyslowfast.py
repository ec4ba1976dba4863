"""PySlowFast ``.pyth`` names (``ResNet`` with ``MODEL.ARCH i3d``) -> mmvid
names.

- ``s1.pathway0_stem.conv.weight`` / ``.bn.*`` ->
  ``backbone.conv1.conv.weight`` / ``backbone.conv1.bn.*``
- ``s{k+1}.pathway0_res{i}.branch2.{a,b,c}.weight`` / ``{a,b,c}_bn.*`` ->
  ``backbone.layer{k}.{i}.conv{1,2,3}.conv.weight`` / ``.bn.*``
- ``s{k+1}.pathway0_res{i}.branch1.weight`` / ``branch1_bn.*`` ->
  ``backbone.layer{k}.{i}.downsample.conv.weight`` / ``.bn.*``
- ``s{k+1}.pathway0_nonlocal{i}.conv_{theta,phi,g,out}.{weight,bias}`` ->
  ``backbone.layer{k}.{i}.non_local_block.{theta.conv, phi.0.conv,
  g.0.conv, conv_out.conv}.*``
- ``s{k+1}.pathway0_nonlocal{i}.bn.*`` -> ``...non_local_block.conv_out.bn.*``
- ``head.projection.{weight,bias}`` [K, C] -> ``cls_head.fc_cls.*``

The weights sit under ``model_state`` of a ``torch.save`` dict (read with
the allow-list of :func:`~mmvid.checkpoint.load_file`). PySlowFast's
2-D ImageNet ``R50_IN1K.pyth`` uses the same names with kernels
``[O, I, h, w]`` or ``[O, I, 1, h, w]``; it is marked ``two_d``. The model
zoo's ``.pkl`` files are Caffe2 blobs: :func:`read_pyslowfast` hands them to
:func:`~.caffe2.read_caffe2`.
"""
import re
from typing import List, Mapping

import torch

from mmvid.checkpoint import get_state_dict, load_file
from . import names
from .caffe2 import read_caffe2
from .mapped import MappedCheckpoint, Rule, all_kernels_2d, map_entries

FORMAT = 'pyslowfast'
_BN = names.BN_ENTRY_PATTERN

_RES = r'^s(\d+)\.pathway0_res(\d+)\.'
_NL = r'^s(\d+)\.pathway0_nonlocal(\d+)\.'
_block = names.stage_block_key
_non_local = names.stage_non_local_key
_conv = names.branch2_conv

RULES: List[Rule] = [
    (re.compile(r'^s1\.pathway0_stem\.conv\.weight$'),
     lambda m: f'{names.STEM}.conv.weight'),
    (re.compile(rf'^s1\.pathway0_stem\.bn\.{_BN}$'),
     lambda m: f'{names.STEM}.bn.{m[1]}'),
    (re.compile(_RES + r'branch2\.([abc])\.weight$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.conv', 'weight')),
    (re.compile(_RES + rf'branch2\.([abc])_bn\.{_BN}$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.bn', m[4])),
    (re.compile(_RES + r'branch1\.weight$'),
     lambda m: _block(m[1], m[2], 'downsample.conv', 'weight')),
    (re.compile(_RES + rf'branch1_bn\.{_BN}$'),
     lambda m: _block(m[1], m[2], 'downsample.bn', m[3])),
    (re.compile(_NL + r'conv_(theta|phi|g|out)\.(weight|bias)$'),
     lambda m: _non_local(m[1], m[2], m[3], m[4])),
    (re.compile(_NL + rf'bn\.{_BN}$'),
     lambda m: _non_local(m[1], m[2], 'bn', m[3])),
    (re.compile(r'^head\.projection\.(weight|bias)$'),
     lambda m: f'{names.HEAD}.{m[1]}'),
]

EXPECTED = ('PySlowFast I3D name (s1.pathway0_stem.*, '
            's<stage>.pathway0_res<block>.branch{1,2}*, '
            's<stage>.pathway0_nonlocal<block>.*, head.projection.*)')


def map_pyslowfast_state(state_dict: Mapping[str, torch.Tensor],
                         filename: str = '<state_dict>') -> MappedCheckpoint:
    """Rename a PySlowFast I3D state dict to mmvid keys.

    Args:
        state_dict: ``checkpoint['model_state']``, ``module.`` removed.
        filename: The source, for messages.

    Returns:
        The mapped tensors; ``two_d`` when every kernel is 2-D
        (``R50_IN1K.pyth``).

    Raises:
        CheckpointError: listing the keys that are no I3D parameter.
    """
    mapped = MappedCheckpoint(filename, FORMAT)
    map_entries(mapped, state_dict, RULES, (), EXPECTED, 'key(s)')
    mapped.two_d = all_kernels_2d(
        mapped.tensors, [k for k in mapped.tensors if names.is_conv_weight(k)])
    return mapped


def read_pyslowfast(filename: str) -> MappedCheckpoint:
    """Map a PySlowFast ``.pyth`` (or, for a ``.pkl``, its Caffe2 blobs)."""
    if filename.endswith('.pkl'):
        return read_caffe2(filename)
    return map_pyslowfast_state(
        get_state_dict(load_file(filename), filename), filename)
