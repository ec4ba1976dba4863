"""mmvid's parameter names for an I3D ``Recognizer3D`` (mmaction2's), and
what a set of names tells about the network that has them.

::

    backbone.conv1.{conv,bn}                         stem
    backbone.layer{k}.{i}.conv{1,2,3}.{conv,bn}      block i of stage k (1..4)
    backbone.layer{k}.0.downsample.{conv,bn}         projection shortcut
    backbone.layer{k}.{i}.non_local_block.           non-local after block i
        {theta.conv, phi.0.conv, g.0.conv, conv_out.conv, conv_out.bn}
    cls_head.fc_cls                                  classifier [K, C]

Stage k is Caffe2's ``res{k+1}``, PySlowFast's ``s{k+1}`` and Tushar-N's
(torchvision's) ``layer{k}``.
"""
import re
from typing import Dict, Iterable, List, Optional, Tuple

HEAD = 'cls_head.fc_cls'
HEAD_PREFIX = 'cls_head.'
STEM = 'backbone.conv1'
#: A BN's entries in a state dict.
BN_ENTRIES = ('weight', 'bias', 'running_mean', 'running_var',
              'num_batches_tracked')
#: FAIR's non-local parts -> the submodule of mmvid's ``NonLocal3d``
#: (``sub_sample=True``: ``phi`` and ``g`` are ``Sequential(conv, pool)``).
NON_LOCAL_PARTS = {
    'theta': 'theta.conv',
    'phi': 'phi.0.conv',
    'g': 'g.0.conv',
    'out': 'conv_out.conv',
    'bn': 'conv_out.bn',
}
#: A regex group matching one of :data:`BN_ENTRIES`.
BN_ENTRY_PATTERN = '(' + '|'.join(BN_ENTRIES) + ')'
#: Branch letter of a bottleneck conv -> its number.
BRANCH2 = {'a': 1, 'b': 2, 'c': 3}
NUM_STAGES = 4

_BLOCK = re.compile(r'^backbone\.layer(\d+)\.(\d+)\.')
_NON_LOCAL = re.compile(r'^backbone\.layer(\d+)\.(\d+)\.non_local_block\.')

Position = Tuple[int, int]


def branch2_conv(letter: str) -> str:
    """mmvid's conv of a bottleneck branch letter: ``'b'`` -> ``'conv2'``."""
    return f'conv{BRANCH2[letter]}'


def layer_of_stage(stage: int) -> Optional[int]:
    """mmvid's layer of FAIR's stage ``res2..res5`` / ``s2..s5``: 1..4, or
    None for another number."""
    layer = stage - 1
    return layer if 1 <= layer <= NUM_STAGES else None


def block(layer: int, index: int, module: str) -> str:
    """``backbone.layer{layer}.{index}.{module}`` (``module``: ``conv1.conv``,
    ``downsample.bn`` ...)."""
    return f'backbone.layer{layer}.{index}.{module}'


def block_conv(layer: int, index: int, number: int) -> str:
    """The ConvModule ``conv{number}`` (1, 2 or 3) of a block."""
    return block(layer, index, f'conv{number}')


def downsample(layer: int, index: int) -> str:
    """The projection shortcut (a ConvModule) of a block."""
    return block(layer, index, 'downsample')


def non_local(layer: int, index: int, part: str) -> str:
    """The module of a non-local block for FAIR's ``part`` (``theta``,
    ``phi``, ``g``, ``out`` or ``bn``)."""
    return block(layer, index, f'non_local_block.{NON_LOCAL_PARTS[part]}')


def stage_block_key(stage: str, index: str, module: str,
                    entry: str) -> Optional[str]:
    """``block(layer, index, 'module.entry')`` for FAIR's stage number
    (``'2'``..``'5'``), or None for another stage."""
    layer = layer_of_stage(int(stage))
    if layer is None:
        return None
    return block(layer, int(index), f'{module}.{entry}')


def stage_non_local_key(stage: str, index: str, part: str,
                        entry: str) -> Optional[str]:
    """``non_local(layer, index, part) + '.entry'`` for FAIR's stage number,
    or None for another stage."""
    layer = layer_of_stage(int(stage))
    if layer is None:
        return None
    return f'{non_local(layer, int(index), part)}.{entry}'


def position_name(position: Position) -> str:
    """``(2, 1)`` -> ``'layer2.1'``."""
    return f'layer{position[0]}.{position[1]}'


def position_names(positions: Iterable[Position]) -> str:
    """``'layer2.1, layer2.3'``."""
    return ', '.join(position_name(p) for p in positions)


def block_counts(keys: Iterable[str]) -> Dict[int, int]:
    """Blocks per layer that ``keys`` reach: ``{1: 3, 2: 4, ...}`` (one more
    than the highest block index seen)."""
    counts: Dict[int, int] = {}
    for key in keys:
        match = _BLOCK.match(key)
        if match:
            layer, index = int(match.group(1)), int(match.group(2))
            counts[layer] = max(counts.get(layer, 0), index + 1)
    return counts


def non_local_positions(keys: Iterable[str]) -> List[Position]:
    """Sorted ``(layer, block)`` of the non-local blocks ``keys`` have."""
    found = set()
    for key in keys:
        match = _NON_LOCAL.match(key)
        if match:
            found.add((int(match.group(1)), int(match.group(2))))
    return sorted(found)


def is_head(key: str) -> bool:
    return key.startswith(HEAD_PREFIX)


def is_non_local(key: str) -> bool:
    return '.non_local_block.' in key


def is_conv_weight(key: str) -> bool:
    """A backbone convolution kernel ``[O, I, (t,) h, w]``."""
    return key.startswith('backbone.') and key.endswith('.conv.weight')


def short(key: str) -> str:
    """A key without ``backbone.`` for messages."""
    return key[len('backbone.'):] if key.startswith('backbone.') else key
