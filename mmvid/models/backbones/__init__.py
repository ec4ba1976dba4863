"""Backbones."""
from .inflate import inflate_2d_state_dict
from .resnet3d import ResNet3d
from .resnet3d_blocks import BasicBlock3d, Bottleneck3d

__all__ = ['ResNet3d', 'BasicBlock3d', 'Bottleneck3d', 'inflate_2d_state_dict']
