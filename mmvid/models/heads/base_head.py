"""What every classification head shares: loss, prediction, view averaging."""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample

AVERAGE_CLIPS = ('prob', 'score', None)
_HEAD_SETTING = object()  # predict(): use the head's own average_clips


def average_clip(cls_scores: torch.Tensor, num_views: int,
                 average_clips: Optional[str]) -> torch.Tensor:
    """Average the scores of each video's views.

    Args:
        cls_scores: ``[B * num_views, K]`` logits, views of a video adjacent.
        num_views: Views per video.
        average_clips: ``'prob'`` (mean of per-view softmax), ``'score'``
            (mean of logits) or None (no averaging).

    Returns:
        ``[B, K]``, or ``[B, num_views, K]`` for None.
    """
    if average_clips not in AVERAGE_CLIPS:
        raise ValueError(f'average_clips must be one of {AVERAGE_CLIPS}, got '
                         f'{average_clips!r}')
    scores = cls_scores.view(-1, num_views, cls_scores.shape[-1])
    if average_clips is None:
        return scores
    if average_clips == 'prob':
        scores = F.softmax(scores, dim=2)
    return scores.mean(dim=1)


def set_predictions(cls_scores: torch.Tensor,
                    data_samples: List[ActionDataSample],
                    average_clips: Optional[str]) -> List[ActionDataSample]:
    """Set ``pred_score`` (the views averaged by :func:`average_clip`) and
    ``pred_label`` of each sample, in place.

    Args:
        cls_scores: ``[B * num_views, K]`` logits, views of a video adjacent.
        data_samples: ``B`` samples.
        average_clips: ``'prob'``, ``'score'`` or None (``pred_score`` keeps
            every view: ``[num_views, K]``; the label is of their mean).
    """
    num_views = cls_scores.shape[0] // len(data_samples)
    scores = average_clip(cls_scores, num_views, average_clips)
    for sample, score in zip(data_samples, scores):
        if average_clips is None:  # [num_views, K]: keep every view's scores
            sample.set_field(score, 'pred_score', dtype=torch.Tensor)
            sample.set_pred_label(score.mean(0).argmax())
        else:
            sample.set_pred_score(score)
            sample.set_pred_label(score.argmax())
    return data_samples


def top_k_hits(cls_scores: torch.Tensor, labels: torch.Tensor,
               topk: Sequence[int]) -> Dict[str, torch.Tensor]:
    """Batch top-k accuracy (for the training log): ``{'top1_acc': ...}``
    from scores ``[B, C]`` and labels ``[B]``; a ``k`` above ``C`` is not
    logged (top-5 of 4 classes says nothing)."""
    ranked = cls_scores.detach().topk(
        min(max(topk), cls_scores.shape[1]), dim=1).indices
    hits = ranked == labels[:, None]
    return {
        f'top{k}_acc': hits[:, :k].any(1).float().mean()
        for k in topk if k <= cls_scores.shape[1]
    }


def is_soft_label(labels: torch.Tensor, num_classes: int) -> bool:
    """Whether ``labels`` ``[B, K]`` are soft single-label targets: float,
    ``K == num_classes``, each row summing to 1 (what MixUp / CutMix write
    into ``gt_label``)."""
    if not labels.is_floating_point() or labels.dim() != 2 or \
            labels.shape[1] != num_classes:
        return False
    sums = labels.sum(1)
    return bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-4))


class BaseHead(BaseModule):
    """Base of classification heads; subclasses define ``forward``.

    Args:
        num_classes: Number of classes ``K``.
        in_channels: Channels of the backbone feature.
        loss_cls: Config of the loss.
        multi_class: Multi-label targets (``[K]`` multi-hot per video).
        label_smooth_eps: Smooth the targets to ``(1-eps)*y + eps/K``.
        topk: Batch top-k accuracies logged during training.
        average_clips: How test views are averaged: ``'prob'``, ``'score'``
            or None.
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_cls: Optional[dict] = None,
                 multi_class: bool = False,
                 label_smooth_eps: float = 0.0,
                 topk: Sequence[int] = (1, 5),
                 average_clips: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_classes < 1:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        if average_clips not in AVERAGE_CLIPS:
            raise ValueError(f'average_clips must be one of {AVERAGE_CLIPS}, '
                             f'got {average_clips!r}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.multi_class = multi_class
        self.label_smooth_eps = label_smooth_eps
        self.topk = tuple(topk)
        self.average_clips = average_clips
        self.loss_cls = MODELS.build(loss_cls or dict(type='CrossEntropyLoss'))

    def stack_labels(self, data_samples: List[ActionDataSample],
                     device: torch.device) -> torch.Tensor:
        """``[B]`` class indices, or ``[B, K]`` targets: multi-label, or the
        soft labels (rows summing to 1) of a MixUp / CutMix batch."""
        labels = torch.stack([s.gt_label for s in data_samples]).to(device)
        if not self.multi_class:
            if is_soft_label(labels, self.num_classes):
                return labels
            if labels.shape[1] != 1:
                raise ValueError(
                    'single-label head got gt_label of shape '
                    f'{tuple(labels.shape[1:])} that is no soft label (float '
                    f'[{self.num_classes}] summing to 1); set '
                    'multi_class=True for multi-label data')
            labels = labels[:, 0]
        return labels

    def loss(self, feats: torch.Tensor,
             data_samples: List[ActionDataSample]) -> Dict[str, torch.Tensor]:
        """``loss_cls`` plus, for single-label data, batch ``top{k}_acc``."""
        cls_scores = self(feats)
        labels = self.stack_labels(data_samples, cls_scores.device)
        losses = {}
        if labels.dim() == 1:  # no top-k of multi-label or soft targets
            losses.update(top_k_hits(cls_scores, labels, self.topk))
        if self.label_smooth_eps:
            if labels.dim() == 1:
                labels = F.one_hot(labels, self.num_classes).float()
            labels = (1 - self.label_smooth_eps) * labels + \
                self.label_smooth_eps / self.num_classes
        losses['loss_cls'] = self.loss_cls(cls_scores, labels)
        return losses

    def predict(self, feats: torch.Tensor,
                data_samples: List[ActionDataSample],
                average_clips: Optional[str] = _HEAD_SETTING
                ) -> List[ActionDataSample]:
        """Set ``pred_score`` (views averaged) and ``pred_label``.

        Args:
            feats: Backbone features of ``B * num_views`` views.
            data_samples: ``B`` samples, filled in place.
            average_clips: Overrides the head's setting when given.
        """
        mode = self.average_clips if average_clips is _HEAD_SETTING else \
            average_clips
        return set_predictions(self(feats), data_samples, mode)
