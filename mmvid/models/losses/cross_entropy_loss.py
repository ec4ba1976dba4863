"""Cross-entropy for hard (class index) or soft (distribution) targets."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvid.registry import MODELS


def register_class_weight(module: nn.Module,
                          class_weight: Optional[Sequence[float]]) -> None:
    """Store ``class_weight`` as the non-persistent buffer ``class_weight``."""
    weight = None if class_weight is None else torch.tensor(
        class_weight, dtype=torch.float32)
    module.register_buffer('class_weight', weight, persistent=False)


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """``loss_weight * CE(cls_score, label)``.

    Args:
        loss_weight: Factor on the loss.
        class_weight: One weight per class, or None.
        label_smoothing: Smoothing of hard targets (``torch``'s definition:
            ``(1 - eps) * onehot + eps / K``).
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 class_weight: Optional[Sequence[float]] = None,
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError('label_smoothing must be in [0, 1), got '
                             f'{label_smoothing!r}')
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing
        register_class_weight(self, class_weight)

    def forward(self, cls_score: torch.Tensor,
                label: torch.Tensor) -> torch.Tensor:
        """``cls_score`` ``[N, K]``; ``label`` ``[N]`` (int) or ``[N, K]``
        (soft). Returns a scalar."""
        weight = self.class_weight
        if weight is not None and weight.numel() != cls_score.shape[1]:
            raise ValueError(f'class_weight has {weight.numel()} entries but '
                             f'the scores have {cls_score.shape[1]} classes')
        if label.shape == cls_score.shape:  # soft target
            log_prob = F.log_softmax(cls_score, dim=1)
            if weight is None:
                loss = -(label * log_prob).sum(1).mean()
            else:
                weighted = label * weight[None]
                loss = -(weighted * log_prob).sum() / weighted.sum()
        else:
            loss = F.cross_entropy(
                cls_score, label, weight=weight,
                label_smoothing=self.label_smoothing)
        return self.loss_weight * loss


@MODELS.register_module()
class BCELossWithLogits(nn.Module):
    """Binary cross-entropy on logits for multi-label targets ``[N, K]``.

    Args:
        loss_weight: Factor on the loss.
        class_weight: One weight per class, or None.
    """

    def __init__(self, loss_weight: float = 1.0,
                 class_weight: Optional[Sequence[float]] = None) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        register_class_weight(self, class_weight)

    def forward(self, cls_score: torch.Tensor,
                label: torch.Tensor) -> torch.Tensor:
        if label.shape != cls_score.shape:
            raise ValueError('BCELossWithLogits needs multi-hot targets of '
                             f'shape {tuple(cls_score.shape)}, got '
                             f'{tuple(label.shape)}')
        loss = F.binary_cross_entropy_with_logits(
            cls_score, label.float(), weight=self.class_weight)
        return self.loss_weight * loss
