"""ResNet3d: the 3D ResNet of I3D (Carreira & Zisserman, 2017) and Non-local
networks, with mmaction2's arguments, defaults and parameter names.

The class defaults are mmaction2's (``conv1_kernel=(3, 7, 7)``, temporal
strides 1); the I3D configs set ``conv1_kernel=(5, 7, 7)``,
``conv1_stride_t=2``, ``pool1_stride_t=2`` and the inflate pattern, see
``configs/_base_/models/i3d_r50.py``.

::

    x [N, 3, T, H, W]
      conv1 (kt x7x7, stride t,2,2) ─ maxpool (1x3x3 or 2x3x3, stride t,2,2)
      layer1 ─ [pool2: 2x1x1 max pool] ─ layer2 ─ layer3 ─ layer4
      -> [N, 2048, T/8, H/32, W/32] for I3D R50
"""
from typing import Dict, Optional, Sequence, Tuple, Type, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from mmvid.registry import MODELS
from mmvid.checkpoint import (get_state_dict, load_file,
                                    load_state_dict, resolve_pretrained)

from .._layer_cfg import default_act_cfg, default_conv_cfg, default_norm_cfg
from ..common import NonLocal3d
from .inflate import inflate_2d_state_dict
from .resnet3d_blocks import BasicBlock3d, Bottleneck3d

Block = Type[Union[BasicBlock3d, Bottleneck3d]]
PerBlockFlags = Union[int, Sequence[int]]

ARCH_SETTINGS = {
    18: (BasicBlock3d, (2, 2, 2, 2)),
    34: (BasicBlock3d, (3, 4, 6, 3)),
    50: (Bottleneck3d, (3, 4, 6, 3)),
    101: (Bottleneck3d, (3, 4, 23, 3)),
    152: (Bottleneck3d, (3, 8, 36, 3)),
}


def expand_block_flags(name: str, flags: Sequence[PerBlockFlags],
                       stage_blocks: Sequence[int]) -> Tuple[Tuple[int, ...],
                                                             ...]:
    """Expand per-stage ``inflate``/``non_local`` flags to one per block.

    Args:
        name: Argument name, for error messages.
        flags: One entry per stage: an int for every block of the stage, or a
            tuple with one int per block.
        stage_blocks: Number of blocks of each stage.

    Returns:
        One tuple of 0/1 per stage, as long as the stage.
    """
    if isinstance(flags, int) or len(flags) != len(stage_blocks):
        raise ValueError(f'{name} must have one entry per stage '
                         f'({len(stage_blocks)} stages), got {flags!r}')
    expanded = []
    for i, (flag, blocks) in enumerate(zip(flags, stage_blocks)):
        per_block = (flag, ) * blocks if isinstance(flag, int) else tuple(flag)
        if len(per_block) != blocks:
            raise ValueError(
                f'{name}[{i}] has {len(per_block)} entries but stage {i} '
                f'(layer{i + 1}) has {blocks} blocks: {flag!r}')
        if any(v not in (0, 1) for v in per_block):
            raise ValueError(f'{name}[{i}] entries must be 0 or 1, got {flag!r}')
        expanded.append(per_block)
    return tuple(expanded)


def make_res_layer(block: Block, inplanes: int, planes: int, blocks: int,
                   spatial_stride: int = 1, temporal_stride: int = 1,
                   dilation: int = 1, inflate: Sequence[int] = (),
                   non_local: Sequence[int] = (), **block_kwargs
                   ) -> nn.Sequential:
    """One ResNet stage: ``blocks`` residual blocks, the first one strided.

    Block 0 gets the strides and, if the shape changes, a 1x1x1 conv + BN
    shortcut named ``downsample`` (also for a temporal stride, where
    mmaction2 would fail on mismatched shapes).

    Args:
        block: ``BasicBlock3d`` or ``Bottleneck3d``.
        inplanes / planes: Input channels / block width (output is
            ``planes * block.expansion``).
        blocks: Number of blocks.
        spatial_stride / temporal_stride / dilation: Of the first block.
        inflate / non_local: One 0/1 flag per block.
        block_kwargs: ``style``, ``inflate_style``, ``non_local_cfg``,
            ``conv_cfg``, ``norm_cfg``, ``act_cfg``, ``with_cp``.
    """
    out_channels = planes * block.expansion
    downsample = None
    if spatial_stride != 1 or temporal_stride != 1 or inplanes != out_channels:
        downsample = ConvModule(
            inplanes, out_channels, kernel_size=1,
            stride=(temporal_stride, spatial_stride, spatial_stride),
            bias=False, conv_cfg=block_kwargs['conv_cfg'],
            norm_cfg=block_kwargs['norm_cfg'], act_cfg=None)
    layers = []
    for i in range(blocks):
        layers.append(
            block(
                inplanes if i == 0 else out_channels,
                planes,
                spatial_stride=spatial_stride if i == 0 else 1,
                temporal_stride=temporal_stride if i == 0 else 1,
                dilation=dilation,
                downsample=downsample if i == 0 else None,
                inflate=inflate[i] == 1,
                non_local=non_local[i] == 1,
                **block_kwargs))
    return nn.Sequential(*layers)


def check_pretrained_args(pretrained: Optional[str],
                          init_cfg: Optional[dict]) -> None:
    """``pretrained`` is a str or None, and not given with ``init_cfg``."""
    if pretrained is not None and not isinstance(pretrained, str):
        raise TypeError('pretrained must be a str or None, got '
                        f'{type(pretrained).__name__}')
    if pretrained is not None and init_cfg is not None:
        raise ValueError('set either pretrained or init_cfg, not both')


def check_stage_args(depth: int, num_stages: int,
                     stage_blocks: Optional[Sequence[int]],
                     per_stage: Dict[str, Sequence[int]],
                     out_indices: Sequence[int],
                     frozen_stages: int) -> Tuple[type, Tuple[int, ...]]:
    """Check the stage layout of a :class:`ResNet3d`.

    Returns:
        The block class of ``depth`` and the blocks per stage (the depth's
        first ``num_stages`` unless ``stage_blocks`` is given).

    Raises:
        ValueError: unknown depth, ``num_stages`` outside 1..4, a per-stage
            setting (``stage_blocks`` or ``per_stage``) without one entry
            per stage, ``out_indices`` or ``frozen_stages`` out of range.
    """
    if depth not in ARCH_SETTINGS:
        raise ValueError(f'depth must be one of {tuple(ARCH_SETTINGS)}, '
                         f'got {depth!r}')
    if not 1 <= num_stages <= 4:
        raise ValueError(f'num_stages must be 1 to 4, got {num_stages!r}')
    block, default_blocks = ARCH_SETTINGS[depth]
    stage_blocks = tuple(stage_blocks or default_blocks[:num_stages])
    for name, values in dict(stage_blocks=stage_blocks, **per_stage).items():
        if len(values) != num_stages:
            raise ValueError(f'{name} must have num_stages={num_stages} '
                             f'entries, got {tuple(values)!r}')
    if any(not 0 <= i < num_stages for i in out_indices):
        raise ValueError(f'out_indices must lie in [0, {num_stages}), '
                         f'got {tuple(out_indices)!r}')
    if not -1 <= frozen_stages <= num_stages:
        raise ValueError(f'frozen_stages must be -1..{num_stages}, got '
                         f'{frozen_stages!r}')
    return block, stage_blocks


def check_stem_args(conv1_kernel: Sequence[int], pool1_kernel: Sequence[int],
                    pool1_padding: Sequence[int]) -> None:
    """The stem's kernels are ``(t, h, w)``, the pool's padding at most
    half its kernel."""
    if len(conv1_kernel) != 3:
        raise ValueError('conv1_kernel must be (t, h, w), got '
                         f'{conv1_kernel!r}')
    for name, value in (('pool1_kernel', pool1_kernel),
                        ('pool1_padding', pool1_padding)):
        if len(value) != 3 or not all(
                isinstance(v, int) and v >= 0 for v in value):
            raise ValueError(f'{name} must be (t, h, w) of ints >= 0, '
                             f'got {value!r}')
    if any(2 * p > k for p, k in zip(pool1_padding, pool1_kernel)):
        raise ValueError(
            'pool1_padding must be at most half of pool1_kernel, got '
            f'padding {tuple(pool1_padding)} for kernel '
            f'{tuple(pool1_kernel)}')


@MODELS.register_module()
class ResNet3d(BaseModule):
    """3D ResNet backbone (I3D, I3D + non-local).

    Args:
        depth: 18, 34, 50, 101 or 152.
        pretrained: None (random init), a path to a checkpoint, or
            ``'torchvision://resnet50'`` (a file found locally, never
            downloaded; see ``mmvid.checkpoint.resolve_pretrained``).
        stage_blocks: Blocks per stage, overriding the depth's.
        pretrained2d: ``pretrained`` is a 2D ResNet to inflate (True) or a
            3D checkpoint to load as it is (False).
        in_channels: Input channels.
        num_stages: 1 to 4 residual stages.
        base_channels: Channels of the stem; stage ``i`` has
            ``base_channels * 2**i`` planes.
        out_indices: Stages whose outputs are returned (a tensor for one
            index, a tuple otherwise).
        spatial_strides / temporal_strides / dilations: Per stage, of the
            stage's first block.
        conv1_kernel: Stem kernel ``(t, h, w)``; padding is ``(k - 1) // 2``.
        conv1_stride_s / conv1_stride_t: Stem strides.
        pool1_stride_s / pool1_stride_t: Strides of the stem's max pool.
        pool1_kernel / pool1_padding: ``(t, h, w)`` kernel and padding of
            the stem's max pool: mmaction2's and PySlowFast's ``(1, 3, 3)``
            / ``(0, 1, 1)`` by default; video-nonlocal-net's 32x2 I3D and
            Tushar-N's port use ``(2, 3, 3)`` / ``(0, 0, 0)`` (a 224 input
            then gives 55x55 maps after the pool).
        with_pool1: Apply the stem max pool.
        with_pool2: Apply a 2x1x1 temporal max pool after ``layer1``.
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'``.
        frozen_stages: Freeze the stem and stages ``1..frozen_stages``
            (eval mode, no gradients); -1 freezes nothing.
        inflate: Per stage, 1 to give a block a temporal kernel of 3 (an int
            for the whole stage or one flag per block).
        inflate_style: ``'3x1x1'`` (on ``conv1``) or ``'3x3x3'`` (on
            ``conv2``), Bottleneck only.
        conv_cfg / norm_cfg / act_cfg: mmcv layer configs.
        norm_eval: Keep every BatchNorm in eval mode while training.
        with_cp: Gradient checkpointing in every block.
        non_local: Per stage like ``inflate``: 1 appends a ``NonLocal3d``
            after that block.
        non_local_cfg: Keyword arguments of ``NonLocal3d``.
        zero_init_residual: With random init, zero the last BN of each block.
        init_cfg: mmengine init config, used when ``pretrained`` is None.
    """

    def __init__(self,
                 depth: int = 50,
                 pretrained: Optional[str] = None,
                 stage_blocks: Optional[Sequence[int]] = None,
                 pretrained2d: bool = True,
                 in_channels: int = 3,
                 num_stages: int = 4,
                 base_channels: int = 64,
                 out_indices: Sequence[int] = (3, ),
                 spatial_strides: Sequence[int] = (1, 2, 2, 2),
                 temporal_strides: Sequence[int] = (1, 1, 1, 1),
                 dilations: Sequence[int] = (1, 1, 1, 1),
                 conv1_kernel: Sequence[int] = (3, 7, 7),
                 conv1_stride_s: int = 2,
                 conv1_stride_t: int = 1,
                 pool1_stride_s: int = 2,
                 pool1_stride_t: int = 1,
                 pool1_kernel: Sequence[int] = (1, 3, 3),
                 pool1_padding: Sequence[int] = (0, 1, 1),
                 with_pool1: bool = True,
                 with_pool2: bool = True,
                 style: str = 'pytorch',
                 frozen_stages: int = -1,
                 inflate: Sequence[PerBlockFlags] = (1, 1, 1, 1),
                 inflate_style: str = '3x1x1',
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = None,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 non_local: Sequence[PerBlockFlags] = (0, 0, 0, 0),
                 non_local_cfg: Optional[dict] = None,
                 zero_init_residual: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        check_pretrained_args(pretrained, init_cfg)
        block, stage_blocks = check_stage_args(
            depth, num_stages, stage_blocks,
            dict(spatial_strides=spatial_strides,
                 temporal_strides=temporal_strides, dilations=dilations),
            out_indices, frozen_stages)
        check_stem_args(conv1_kernel, pool1_kernel, pool1_padding)

        self.depth = depth
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.in_channels = in_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.stage_blocks = stage_blocks
        self.out_indices = tuple(out_indices)
        self.conv1_kernel = tuple(conv1_kernel)
        self.with_pool1 = with_pool1
        self.with_pool2 = with_pool2
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.zero_init_residual = zero_init_residual
        self.conv_cfg = conv_cfg or default_conv_cfg()
        self.norm_cfg = norm_cfg or default_norm_cfg()
        self.act_cfg = act_cfg or default_act_cfg()
        inflate = expand_block_flags('inflate', inflate, stage_blocks)
        non_local = expand_block_flags('non_local', non_local, stage_blocks)

        self._make_stem(conv1_stride_s, conv1_stride_t, pool1_kernel,
                        pool1_stride_s, pool1_stride_t, pool1_padding)
        block_kwargs = dict(
            style=style, inflate_style=inflate_style,
            non_local_cfg=non_local_cfg, conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg, act_cfg=self.act_cfg, with_cp=with_cp)
        self.feat_dim = self._make_stages(
            block, inflate, non_local, spatial_strides, temporal_strides,
            dilations, block_kwargs)

    def _make_stem(self, conv1_stride_s: int, conv1_stride_t: int,
                   pool1_kernel: Sequence[int], pool1_stride_s: int,
                   pool1_stride_t: int, pool1_padding: Sequence[int]) -> None:
        """``conv1`` (``in_channels`` -> ``base_channels``), the stem max
        pool ``maxpool`` and the 2x1x1 temporal ``pool2``."""
        self.conv1 = ConvModule(
            self.in_channels, self.base_channels, self.conv1_kernel,
            stride=(conv1_stride_t, conv1_stride_s, conv1_stride_s),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            bias=False, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.maxpool = nn.MaxPool3d(
            kernel_size=tuple(pool1_kernel),
            stride=(pool1_stride_t, pool1_stride_s, pool1_stride_s),
            padding=tuple(pool1_padding))
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1))

    def _make_stages(self, block: type, inflate: list, non_local: list,
                     spatial_strides: Sequence[int],
                     temporal_strides: Sequence[int],
                     dilations: Sequence[int], block_kwargs: dict) -> int:
        """``layer1`` .. ``layerN`` (names in ``res_layers``); returns the
        channels of the last stage's output."""
        inplanes = self.base_channels
        self.res_layers = []
        for i, blocks in enumerate(self.stage_blocks):
            planes = self.base_channels * 2**i
            layer = make_res_layer(
                block, inplanes, planes, blocks,
                spatial_stride=spatial_strides[i],
                temporal_stride=temporal_strides[i], dilation=dilations[i],
                inflate=inflate[i], non_local=non_local[i], **block_kwargs)
            inplanes = planes * block.expansion
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        return inplanes

    def forward(self, x: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """``x``: ``[N, C, T, H, W]``.

        Returns:
            The output of each stage in ``out_indices``; for I3D R50 on
            ``[N, 3, 32, 224, 224]`` the last is ``[N, 2048, 4, 7, 7]``.
        """
        x = self.conv1(x)  # I3D: [N, 64, T/2, H/2, W/2]
        if self.with_pool1:
            x = self.maxpool(x)  # I3D: [N, 64, T/4, H/4, W/4]
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)  # halves T
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    # -- weights --------------------------------------------------------

    def init_weights(self) -> None:
        """Inflate or load ``pretrained``, or initialise from scratch."""
        if self.pretrained is None:
            if self.init_cfg is not None:
                super().init_weights()
            else:
                self._init_from_scratch()
            return
        path = resolve_pretrained(self.pretrained)
        state_dict = get_state_dict(load_file(path), path)
        if self.pretrained2d:
            print_log(f'inflating 2D weights from {path}', logger='current')
            inflated, _ = inflate_2d_state_dict(state_dict, self)
            load_state_dict(self, inflated, source=f'{path} (inflated)')
        else:
            print_log(f'loading 3D weights from {path}', logger='current')
            load_state_dict(self, state_dict, source=path)

    def _init_from_scratch(self) -> None:
        """Kaiming (fan_out) convs, unit BN, optionally zero last BN per block.

        Non-local blocks keep their own init (conv_out BN zeroed, so each
        starts as the identity); mmaction2 overwrites it with unit BN.
        """
        non_local_modules = {
            id(m)
            for block in self.modules() if isinstance(block, NonLocal3d)
            for m in block.modules()
        }
        for m in self.modules():
            if id(m) in non_local_modules:
                continue
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, _BatchNorm):
                constant_init(m, 1)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock3d, Bottleneck3d)):
                    constant_init(m.last_norm, 0)

    # -- train / eval behaviour ----------------------------------------

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1] + [
            getattr(self, f'layer{i}')
            for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'ResNet3d':
        """Train mode, keeping frozen stages (and all BN if ``norm_eval``)
        in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
