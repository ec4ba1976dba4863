"""I3D classification head: global average pool, dropout, linear."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model.weight_init import normal_init

from mmvid.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class I3DHead(BaseHead):
    """``fc_cls(dropout(avgpool(x)))``.

    Args:
        num_classes / in_channels / loss_cls / multi_class /
            label_smooth_eps / topk / average_clips: see ``BaseHead``.
        spatial_type: ``'avg'`` (adaptive average pool over T, H, W) or None
            (the input is already ``[N, in_channels]``).
        dropout_ratio: Dropout probability (0 disables it).
        init_std: Std of the normal init of ``fc_cls``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: Optional[dict] = None,
                 spatial_type: Optional[str] = 'avg',
                 dropout_ratio: float = 0.5,
                 init_std: float = 0.01,
                 multi_class: bool = False,
                 label_smooth_eps: float = 0.0,
                 topk=(1, 5),
                 average_clips: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(num_classes, in_channels, loss_cls, multi_class,
                         label_smooth_eps, topk, average_clips, init_cfg)
        if spatial_type not in ('avg', None):
            raise ValueError("spatial_type must be 'avg' or None, got "
                             f'{spatial_type!r}')
        if not 0.0 <= dropout_ratio < 1.0:
            raise ValueError(f'dropout_ratio must be in [0, 1), got '
                             f'{dropout_ratio!r}')
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        # written as mmaction2 1.x writes it (same module as ``(1)``)
        self.avg_pool = (nn.AdaptiveAvgPool3d((1, 1, 1))
                         if spatial_type else None)
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        normal_init(self.fc_cls, std=self.init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, in_channels, T, H, W]`` -> logits ``[N, K]``."""
        if self.avg_pool is not None:
            x = self.avg_pool(x)  # [N, in_channels, 1, 1, 1]
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.flatten(1)  # [N, in_channels]
        return self.fc_cls(x)  # [N, num_classes]
