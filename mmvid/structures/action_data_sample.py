"""``ActionDataSample``: the labels and predictions of one video."""
from numbers import Integral
from typing import Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[int, Sequence[int], np.ndarray, torch.Tensor]


def format_label(value: LabelLike) -> torch.Tensor:
    """An int, a sequence of ints or an int array/tensor -> 1-D LongTensor.

    A float tensor/array (a multi-hot or soft target of length K) is kept as
    float.
    """
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray):
        tensor = torch.from_numpy(value)
    elif isinstance(value, Integral):
        tensor = torch.tensor([int(value)])
    elif isinstance(value, Sequence) and not isinstance(value, str):
        tensor = torch.tensor(list(value))
    else:
        raise TypeError('a label must be an int, a sequence of ints, an array '
                        f'or a tensor, got {type(value).__name__}')
    if tensor.dim() == 0:
        tensor = tensor.reshape(1)
    if not tensor.is_floating_point():
        tensor = tensor.long()
    return tensor


def format_score(value: torch.Tensor) -> torch.Tensor:
    """Check a score vector ``[K]``."""
    if not isinstance(value, torch.Tensor) or value.dim() != 1:
        raise TypeError('pred_score must be a 1-D tensor [num_classes]')
    return value


class ActionDataSample(BaseDataElement):
    """Per-video data: ``gt_label`` (LongTensor ``[1]``, or float ``[K]`` for
    multi-label and for the soft labels MixUp / CutMix write in training),
    ``pred_score`` (float ``[K]``), ``pred_label`` (``[1]``),
    and optionally ``feature`` (pooled backbone features ``[C]``).

    Assigning ``gt_label``/``pred_label``/``pred_score`` (attribute or
    ``set_*``) formats and checks the value.
    """

    FORMATTERS = dict(gt_label=format_label, pred_label=format_label,
                      pred_score=format_score)

    def __setattr__(self, name: str, value) -> None:
        if name in self.FORMATTERS:
            value = self.FORMATTERS[name](value)
        super().__setattr__(name, value)

    def set_gt_label(self, value: LabelLike) -> 'ActionDataSample':
        self.gt_label = value
        return self

    def set_pred_label(self, value: LabelLike) -> 'ActionDataSample':
        self.pred_label = value
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ActionDataSample':
        self.pred_score = value
        return self
