"""torchvision ResNet (ImageNet) names -> mmvid names, for inflation.

torchvision's ResNet has Tushar-N's names without ``nl``
(``conv1.weight``, ``bn1.*``, ``layer{k}.{i}.conv{n}.weight``,
``bn{n}.*``, ``downsample.{0,1}.*``, ``fc.*``) and 2-D kernels
``[O, I, h, w]``. The mapped checkpoint is marked ``two_d``: the fit step
inflates every kernel to the config's temporal size ``t`` (repeated along
``t`` and divided by ``t``, :func:`mmvid.models.backbones.inflate.
inflate_conv_weight`, as ``ResNet3d(pretrained=..., pretrained2d=True)``
does) and keeps the config's fresh classifier and non-local blocks.
"""
from typing import List, Mapping

import torch

from mmvid.checkpoint import get_state_dict, load_file, resolve_pretrained
from mmvid.checkpoint.errors import CheckpointError
from . import names
from .mapped import MappedCheckpoint, Rule, all_kernels_2d, map_entries
from .tusharn import EXPECTED, RULES

FORMAT = 'torchvision'
RULES_2D: List[Rule] = [rule for rule in RULES
                        if r'nl\.' not in rule[0].pattern]
EXPECTED_2D = EXPECTED.replace('Tushar-N I3Res50', 'torchvision ResNet') \
    .replace(', layer<k>.<block>.nl.*', '')


def map_torchvision_state(state_dict: Mapping[str, torch.Tensor],
                          filename: str = '<state_dict>'
                          ) -> MappedCheckpoint:
    """Rename a torchvision ResNet state dict to mmvid keys, marked
    ``two_d``.

    Raises:
        CheckpointError: listing names no torchvision ResNet has, or for
            3-D kernels.
    """
    mapped = MappedCheckpoint(filename, FORMAT)
    map_entries(mapped, state_dict, RULES_2D, (), EXPECTED_2D, 'key(s)')
    kernels = [k for k in mapped.tensors if names.is_conv_weight(k)]
    if not all_kernels_2d(mapped.tensors, kernels):
        raise CheckpointError(
            f'cannot convert {filename}: its kernels are 3-D, expected a 2-D '
            'torchvision ResNet ([O, I, h, w]); a Tushar-N I3Res50 converts '
            'with tusharn_to_mmvid.py')
    mapped.two_d = True
    return mapped


def read_torchvision(filename: str) -> MappedCheckpoint:
    """Map a torchvision ``.pth``; ``filename`` may be
    ``torchvision://resnet50`` (found locally, never downloaded)."""
    path = resolve_pretrained(filename)
    return map_torchvision_state(get_state_dict(load_file(path), path), path)
