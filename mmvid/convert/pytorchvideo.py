"""PyTorchVideo ``i3d_r50`` (``create_resnet``) names -> mmvid names.

The network is ``Net.blocks``: ``blocks.0`` the stem, ``blocks.1`` stage 1,
``blocks.2`` the parameter-free temporal pool after it, ``blocks.3..5``
stages 2-4 and ``blocks.6`` the head:

- ``blocks.0.conv.weight`` / ``blocks.0.norm.*`` -> ``backbone.conv1.conv``
  / ``backbone.conv1.bn``
- ``blocks.{1,3,4,5}.res_blocks.{i}.branch2.conv_{a,b,c}.weight`` /
  ``branch2.norm_{a,b,c}.*`` -> ``backbone.layer{1..4}.{i}.conv{1,2,3}.conv``
  / ``.bn``
- ``....res_blocks.0.branch1_conv.weight`` / ``branch1_norm.*`` ->
  ``...downsample.conv`` / ``.bn``
- ``blocks.6.proj.{weight,bias}`` [K, C] -> ``cls_head.fc_cls.*``

The hub's ``I3D_8x8_R50.pyth`` keeps them under ``model_state``.
"""
import re
from typing import List, Mapping, Optional

import torch

from mmvid.checkpoint import get_state_dict, load_file
from . import names
from .mapped import MappedCheckpoint, Rule, map_entries

FORMAT = 'pytorchvideo'
#: ``blocks.{n}`` -> mmvid layer (``blocks.2`` is the pool).
STAGE_BLOCKS = {'1': 1, '3': 2, '4': 3, '5': 4}
HEAD_BLOCK = '6'
_BN = names.BN_ENTRY_PATTERN
_RES = r'^blocks\.(\d+)\.res_blocks\.(\d+)\.'


def _block(stage_block: str, index: str, module: str,
           entry: str) -> Optional[str]:
    layer = STAGE_BLOCKS.get(stage_block)
    if layer is None:
        return None
    return names.block(layer, int(index), f'{module}.{entry}')
_conv = names.branch2_conv

RULES: List[Rule] = [
    (re.compile(r'^blocks\.0\.conv\.weight$'),
     lambda m: f'{names.STEM}.conv.weight'),
    (re.compile(rf'^blocks\.0\.norm\.{_BN}$'),
     lambda m: f'{names.STEM}.bn.{m[1]}'),
    (re.compile(_RES + r'branch2\.conv_([abc])\.weight$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.conv', 'weight')),
    (re.compile(_RES + rf'branch2\.norm_([abc])\.{_BN}$'),
     lambda m: _block(m[1], m[2], f'{_conv(m[3])}.bn', m[4])),
    (re.compile(_RES + r'branch1_conv\.weight$'),
     lambda m: _block(m[1], m[2], 'downsample.conv', 'weight')),
    (re.compile(_RES + rf'branch1_norm\.{_BN}$'),
     lambda m: _block(m[1], m[2], 'downsample.bn', m[3])),
    (re.compile(rf'^blocks\.{HEAD_BLOCK}\.proj\.(weight|bias)$'),
     lambda m: f'{names.HEAD}.{m[1]}'),
]

EXPECTED = ('PyTorchVideo i3d_r50 name (blocks.0.{conv,norm}.*, '
            'blocks.{1,3,4,5}.res_blocks.<block>.{branch1_*,branch2.*}, '
            'blocks.6.proj.*)')


def map_pytorchvideo_state(state_dict: Mapping[str, torch.Tensor],
                           filename: str = '<state_dict>'
                           ) -> MappedCheckpoint:
    """Rename a PyTorchVideo ``i3d_r50`` state dict to mmvid keys.

    Raises:
        CheckpointError: listing the keys that are no ``i3d_r50``
            parameter (PyTorchVideo's I3D has no non-local blocks).
    """
    mapped = MappedCheckpoint(filename, FORMAT)
    map_entries(mapped, state_dict, RULES, (), EXPECTED, 'key(s)')
    return mapped


def read_pytorchvideo(filename: str) -> MappedCheckpoint:
    """Map a PyTorchVideo ``.pyth`` (``{'model_state': ...}``)."""
    return map_pytorchvideo_state(
        get_state_dict(load_file(filename), filename), filename)
