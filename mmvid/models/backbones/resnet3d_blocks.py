"""Residual blocks of ResNet3d: ``BasicBlock3d`` and ``Bottleneck3d``.

Both keep mmaction2's module names (``conv1``/``conv2``/``conv3`` as mmcv
``ConvModule`` with ``.conv`` and ``.bn``, ``downsample``,
``non_local_block``) so mmaction2 checkpoints load unchanged.
"""
from abc import ABCMeta, abstractmethod
from typing import Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer

from .._layer_cfg import default_act_cfg, default_conv_cfg, default_norm_cfg
from ..common import NonLocal3d


class _ResidualBlock3d(nn.Module, metaclass=ABCMeta):
    """What both residual blocks share: arguments, shortcut, final ReLU,
    optional non-local block, gradient checkpointing.

    ``forward`` computes ``relu(residual(x) + shortcut(x))`` and then the
    non-local block; subclasses build their convolutions in ``build_convs``
    and chain them in ``residual``.

    Args:
        inplanes: Input channels.
        planes: Block width; the output has ``planes * expansion`` channels.
        spatial_stride / temporal_stride: Strides of the block.
        dilation: Spatial dilation of the 3x3 convolution(s).
        downsample: Shortcut module, or None for identity.
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the
            first conv; Bottleneck3d only, BasicBlock3d strides its first conv
            in both styles).
        inflate: Give the block a temporal kernel of 3.
        inflate_style: ``'3x1x1'`` or ``'3x3x3'``: which Bottleneck3d conv
            gets it (BasicBlock3d inflates both of its convs).
        non_local / non_local_cfg: Append a ``NonLocal3d`` and its arguments.
        conv_cfg / norm_cfg / act_cfg: mmcv layer configs.
        with_cp: Gradient checkpointing of the residual branch.
    """
    expansion = 1

    def __init__(self,
                 inplanes: int,
                 planes: int,
                 spatial_stride: int = 1,
                 temporal_stride: int = 1,
                 dilation: int = 1,
                 downsample: Optional[nn.Module] = None,
                 style: str = 'pytorch',
                 inflate: bool = True,
                 inflate_style: str = '3x1x1',
                 non_local: bool = False,
                 non_local_cfg: Optional[dict] = None,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 with_cp: bool = False) -> None:
        super().__init__()
        if style not in ('pytorch', 'caffe'):
            raise ValueError(
                f"style must be 'pytorch' or 'caffe', got {style!r}")
        if inflate_style not in ('3x1x1', '3x3x3'):
            raise ValueError("inflate_style must be '3x1x1' or '3x3x3', "
                             f'got {inflate_style!r}')
        self.inflate = inflate
        self.inflate_style = inflate_style
        self.style = style
        act_cfg = act_cfg or default_act_cfg()
        self.build_convs(
            inplanes, planes, (temporal_stride, spatial_stride,
                               spatial_stride), dilation,
            dict(conv_cfg=conv_cfg or default_conv_cfg(),
                 norm_cfg=norm_cfg or default_norm_cfg()), act_cfg)
        self.downsample = downsample
        self.with_cp = with_cp
        self.relu = build_activation_layer(act_cfg)
        self.non_local = non_local
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion,
                                              **(non_local_cfg or {}))

    @abstractmethod
    def build_convs(self, inplanes: int, planes: int, stride: tuple,
                    dilation: int, layer_cfgs: dict, act_cfg: dict) -> None:
        """Create the block's ConvModules (``conv1``, ``conv2``, ...)."""

    @abstractmethod
    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """The residual branch: the convolutions in order."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, C_in, T, H, W]`` -> ``[N, C_out, T', H', W']``."""

        def inner(x):
            identity = x if self.downsample is None else self.downsample(x)
            return self.residual(x) + identity

        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(inner, x, use_reentrant=False)
        else:
            out = inner(x)
        out = self.relu(out)
        if self.non_local:
            out = self.non_local_block(out)
        return out


class BasicBlock3d(_ResidualBlock3d):
    """Two 3D convolutions (ResNet-18/34); arguments as ``_ResidualBlock3d``.

    ::

        x ─ conv1 (3x3x3 if inflate else 1x3x3, BN, ReLU)
          ─ conv2 (3x3x3 if inflate else 1x3x3, BN) ─ (+ shortcut) ─ ReLU
          ─ [non_local_block]
    """
    expansion = 1

    def build_convs(self, inplanes: int, planes: int, stride: tuple,
                    dilation: int, layer_cfgs: dict, act_cfg: dict) -> None:
        kt = 3 if self.inflate else 1
        self.conv1 = ConvModule(
            inplanes, planes, (kt, 3, 3), stride=stride,
            padding=(kt // 2, dilation, dilation),
            dilation=(1, dilation, dilation), bias=False, act_cfg=act_cfg,
            **layer_cfgs)
        self.conv2 = ConvModule(
            planes, planes * self.expansion, (kt, 3, 3), stride=1,
            padding=(kt // 2, 1, 1), bias=False, act_cfg=None, **layer_cfgs)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))

    @property
    def last_norm(self) -> nn.Module:
        return self.conv2.bn


class Bottleneck3d(_ResidualBlock3d):
    """1x1 reduce, 3x3 spatial, 1x1 expand (ResNet-50/101/152); arguments as
    ``_ResidualBlock3d``, output ``planes * 4`` channels.

    ::

        x ─ conv1 (kt1 x1x1, BN, ReLU) ─ conv2 (kt2 x3x3, BN, ReLU)
          ─ conv3 (1x1x1, BN) ─ (+ shortcut) ─ ReLU ─ [non_local_block]

    With ``inflate`` the temporal kernel 3 goes to ``conv1`` (``'3x1x1'``,
    I3D) or to ``conv2`` (``'3x3x3'``). The stride sits on ``conv2``
    (``style='pytorch'``) or on ``conv1`` (``'caffe'``).
    """
    expansion = 4

    def build_convs(self, inplanes: int, planes: int, stride: tuple,
                    dilation: int, layer_cfgs: dict, act_cfg: dict) -> None:
        stride1, stride2 = ((1, 1, 1), stride) if self.style == 'pytorch' \
            else (stride, (1, 1, 1))
        kt1 = 3 if self.inflate and self.inflate_style == '3x1x1' else 1
        kt2 = 3 if self.inflate and self.inflate_style == '3x3x3' else 1
        self.conv1 = ConvModule(
            inplanes, planes, (kt1, 1, 1), stride=stride1,
            padding=(kt1 // 2, 0, 0), bias=False, act_cfg=act_cfg,
            **layer_cfgs)
        self.conv2 = ConvModule(
            planes, planes, (kt2, 3, 3), stride=stride2,
            padding=(kt2 // 2, dilation, dilation),
            dilation=(1, dilation, dilation), bias=False, act_cfg=act_cfg,
            **layer_cfgs)
        self.conv3 = ConvModule(
            planes, planes * self.expansion, 1, bias=False, act_cfg=None,
            **layer_cfgs)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))

    @property
    def last_norm(self) -> nn.Module:
        return self.conv3.bn
