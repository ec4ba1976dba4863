"""Residual blocks of ResNet3d: ``BasicBlock3d`` and ``Bottleneck3d``.

Both keep mmaction2's module names (``conv1``/``conv2``/``conv3`` as mmcv
``ConvModule`` with ``.conv`` and ``.bn``, ``downsample``,
``non_local_block``) so mmaction2 checkpoints load unchanged.
"""
from typing import Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer

from .._layer_cfg import default_act_cfg, default_conv_cfg, default_norm_cfg
from ..common import NonLocal3d


def _check_style(style: str) -> None:
    if style not in ('pytorch', 'caffe'):
        raise ValueError(f"style must be 'pytorch' or 'caffe', got {style!r}")


class _ResidualBlock3d(nn.Module):
    """Shared forward of the residual blocks: ``relu(f(x) + shortcut(x))``,
    then the optional non-local block; gradient checkpointing if ``with_cp``.

    Subclasses build their convolutions and define ``residual(x)``.
    """

    def _init_common(self, downsample: Optional[nn.Module], with_cp: bool,
                     non_local: bool, non_local_cfg: Optional[dict],
                     out_channels: int, act_cfg: dict) -> None:
        self.downsample = downsample
        self.with_cp = with_cp
        self.relu = build_activation_layer(act_cfg)
        if non_local:
            self.non_local_block = NonLocal3d(out_channels,
                                              **(non_local_cfg or {}))
        self.non_local = non_local

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

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
    """Two 3D convolutions (ResNet-18/34).

    ::

        x ─ conv1 (3x3x3 if inflate else 1x3x3, BN, ReLU)
          ─ conv2 (3x3x3 if inflate else 1x3x3, BN) ─ (+ shortcut) ─ ReLU
          ─ [non_local_block]

    Args:
        inplanes: Input channels.
        planes: Output channels (``expansion`` is 1).
        spatial_stride / temporal_stride: Strides of ``conv1``.
        dilation: Spatial dilation of both convolutions.
        downsample: Shortcut module, or None for identity.
        style: Accepted for symmetry with ``Bottleneck3d``; BasicBlock
            strides ``conv1`` in both styles.
        inflate: Use temporal kernel 3 in both convolutions.
        inflate_style: Ignored by this block (only Bottleneck3d has a choice).
        non_local / non_local_cfg: Append a ``NonLocal3d`` after the block.
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
        _check_style(style)
        conv_cfg = conv_cfg or default_conv_cfg()
        norm_cfg = norm_cfg or default_norm_cfg()
        act_cfg = act_cfg or default_act_cfg()
        kt = 3 if inflate else 1
        self.inflate = inflate
        self.conv1 = ConvModule(
            inplanes, planes, (kt, 3, 3),
            stride=(temporal_stride, spatial_stride, spatial_stride),
            padding=(kt // 2, dilation, dilation),
            dilation=(1, dilation, dilation), bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvModule(
            planes, planes * self.expansion, (kt, 3, 3), stride=1,
            padding=(kt // 2, 1, 1), bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
        self._init_common(downsample, with_cp, non_local, non_local_cfg,
                          planes * self.expansion, act_cfg)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))

    @property
    def last_norm(self) -> nn.Module:
        return self.conv2.bn


class Bottleneck3d(_ResidualBlock3d):
    """1x1 reduce, 3x3 spatial, 1x1 expand (ResNet-50/101/152).

    ::

        x ─ conv1 (kt x1x1, BN, ReLU) ─ conv2 (kt2 x3x3, BN, ReLU)
          ─ conv3 (1x1x1, BN) ─ (+ shortcut) ─ ReLU ─ [non_local_block]

    With ``inflate`` the temporal kernel 3 goes to ``conv1`` (``'3x1x1'``,
    I3D) or to ``conv2`` (``'3x3x3'``). The stride sits on ``conv2``
    (``style='pytorch'``) or on ``conv1`` (``'caffe'``).

    Args: as ``BasicBlock3d``; ``planes * 4`` output channels.
    """
    expansion = 4

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
        _check_style(style)
        if inflate_style not in ('3x1x1', '3x3x3'):
            raise ValueError("inflate_style must be '3x1x1' or '3x3x3', "
                             f'got {inflate_style!r}')
        conv_cfg = conv_cfg or default_conv_cfg()
        norm_cfg = norm_cfg or default_norm_cfg()
        act_cfg = act_cfg or default_act_cfg()
        self.inflate = inflate
        self.inflate_style = inflate_style
        if style == 'pytorch':
            stride1, stride2 = (1, 1, 1), (temporal_stride, spatial_stride,
                                           spatial_stride)
        else:
            stride1, stride2 = (temporal_stride, spatial_stride,
                                spatial_stride), (1, 1, 1)
        kt1 = 3 if inflate and inflate_style == '3x1x1' else 1
        kt2 = 3 if inflate and inflate_style == '3x3x3' else 1
        self.conv1 = ConvModule(
            inplanes, planes, (kt1, 1, 1), stride=stride1,
            padding=(kt1 // 2, 0, 0), bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv2 = ConvModule(
            planes, planes, (kt2, 3, 3), stride=stride2,
            padding=(kt2 // 2, dilation, dilation),
            dilation=(1, dilation, dilation), bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.conv3 = ConvModule(
            planes, planes * self.expansion, 1, bias=False,
            conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None)
        self._init_common(downsample, with_cp, non_local, non_local_cfg,
                          planes * self.expansion, act_cfg)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(self.conv2(self.conv1(x)))

    @property
    def last_norm(self) -> nn.Module:
        return self.conv3.bn
