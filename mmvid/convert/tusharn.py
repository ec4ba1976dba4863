"""Tushar-N/pytorch-resnet3d ``I3Res50`` names (torchvision's ResNet names
plus ``nl``) -> mmvid names.

- ``conv1.weight`` / ``bn1.*`` -> ``backbone.conv1.conv`` / ``.bn``
- ``layer{k}.{i}.conv{1,2,3}.weight`` / ``bn{1,2,3}.*`` ->
  ``backbone.layer{k}.{i}.conv{1,2,3}.conv`` / ``.bn``
- ``layer{k}.{i}.downsample.0.weight`` / ``downsample.1.*`` ->
  ``...downsample.conv`` / ``.bn``
- ``layer{k}.{i}.nl.{theta,phi,g,out}.{weight,bias}`` / ``nl.bn.*`` ->
  ``...non_local_block.{theta.conv, phi.0.conv, g.0.conv, conv_out.conv}``
  / ``conv_out.bn``
- ``fc.{weight,bias}`` [K, C] -> ``cls_head.fc_cls.*``

The released ``i3d_r50_kinetics.pth`` / ``i3d_r50_nl_kinetics.pth`` are bare
state dicts. A torchvision ResNet has the same names without ``nl`` (see
:mod:`.torchvision`).
"""
import re
from typing import List, Mapping, Optional

import torch

from mmvid.checkpoint import get_state_dict, load_file
from . import names
from .mapped import MappedCheckpoint, Rule, map_entries

FORMAT = 'tusharn'
_BN = names.BN_ENTRY_PATTERN
_BLOCK = r'^layer(\d+)\.(\d+)\.'


def _block(layer: str, index: str, module: str,
           entry: str) -> Optional[str]:
    if not 1 <= int(layer) <= names.NUM_STAGES:
        return None
    return names.block(int(layer), int(index), f'{module}.{entry}')


def _non_local(layer: str, index: str, part: str,
               entry: str) -> Optional[str]:
    if not 1 <= int(layer) <= names.NUM_STAGES:
        return None
    return f'{names.non_local(int(layer), int(index), part)}.{entry}'


RULES: List[Rule] = [
    (re.compile(r'^conv1\.weight$'), lambda m: f'{names.STEM}.conv.weight'),
    (re.compile(rf'^bn1\.{_BN}$'), lambda m: f'{names.STEM}.bn.{m[1]}'),
    (re.compile(_BLOCK + r'conv([123])\.weight$'),
     lambda m: _block(m[1], m[2], f'conv{m[3]}.conv', 'weight')),
    (re.compile(_BLOCK + rf'bn([123])\.{_BN}$'),
     lambda m: _block(m[1], m[2], f'conv{m[3]}.bn', m[4])),
    (re.compile(_BLOCK + r'downsample\.0\.weight$'),
     lambda m: _block(m[1], m[2], 'downsample.conv', 'weight')),
    (re.compile(_BLOCK + rf'downsample\.1\.{_BN}$'),
     lambda m: _block(m[1], m[2], 'downsample.bn', m[3])),
    (re.compile(_BLOCK + r'nl\.(theta|phi|g|out)\.(weight|bias)$'),
     lambda m: _non_local(m[1], m[2], m[3], m[4])),
    (re.compile(_BLOCK + rf'nl\.bn\.{_BN}$'),
     lambda m: _non_local(m[1], m[2], 'bn', m[3])),
    (re.compile(r'^fc\.(weight|bias)$'), lambda m: f'{names.HEAD}.{m[1]}'),
]

EXPECTED = ('Tushar-N I3Res50 name (conv1.weight, bn1.*, '
            'layer<k>.<block>.{conv,bn}{1,2,3}.*, '
            'layer<k>.<block>.downsample.{0,1}.*, layer<k>.<block>.nl.*, '
            'fc.*)')


def map_tusharn_state(state_dict: Mapping[str, torch.Tensor],
                      filename: str = '<state_dict>') -> MappedCheckpoint:
    """Rename a Tushar-N ``I3Res50`` state dict (with or without non-local
    blocks) to mmvid keys.

    Raises:
        CheckpointError: listing the keys that are no ``I3Res50`` parameter.
    """
    mapped = MappedCheckpoint(filename, FORMAT)
    map_entries(mapped, state_dict, RULES, (), EXPECTED, 'key(s)')
    return mapped


def read_tusharn(filename: str) -> MappedCheckpoint:
    """Map a Tushar-N ``.pth`` (a bare state dict)."""
    return map_tusharn_state(
        get_state_dict(load_file(filename), filename), filename)
