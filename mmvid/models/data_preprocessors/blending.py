"""Mini-batch blending for training: MixUp and CutMix (mmaction2 1.x's
``MixupBlending`` / ``CutmixBlending``, registered in ``MODELS``).

A blending takes the normalised batch ``[B, ...]`` and its data samples,
mixes every video with another one of the batch (a random permutation), and
replaces each sample's ``gt_label`` by the matching soft label: a float
``[num_classes]`` distribution that the head's cross-entropy reads as a
probability target. ``ActionDataPreprocessor(blending=...)`` applies it in
training only.

Randomness: ``lam ~ Beta(alpha, alpha)`` is drawn with
``torch.distributions.Beta``, then the permutation (``torch.randperm``) and,
for CutMix, the box centre (``torch.randint``, x then y), all from torch's
global generator on the CPU, in that order: ``torch.manual_seed`` fixes
them.
"""
from numbers import Integral, Real
from typing import List, Tuple

import torch
import torch.nn.functional as F

from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample


class BaseMiniBatchBlending:
    """Shared checks, label handling and the draw of ``lam``.

    Args:
        num_classes: Number of classes ``K`` of the soft labels.
        alpha: Parameter of ``Beta(alpha, alpha)``, > 0.

    Subclasses implement ``do_blending(inputs, one_hot, lam, perm)``.
    """

    def __init__(self, num_classes: int, alpha: float = 0.2) -> None:
        name = type(self).__name__
        if isinstance(num_classes, bool) or not isinstance(
                num_classes, Integral) or num_classes < 1:
            raise ValueError(f'{name}: num_classes must be a positive int, '
                             f'got {num_classes!r}')
        if isinstance(alpha, bool) or not isinstance(alpha, Real) or \
                not alpha > 0:
            raise ValueError(f'{name}: alpha must be a number > 0, got '
                             f'{alpha!r}')
        self.num_classes = int(num_classes)
        self.alpha = float(alpha)
        self.beta = torch.distributions.Beta(
            torch.tensor(self.alpha), torch.tensor(self.alpha))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(num_classes={self.num_classes}, '
                f'alpha={self.alpha})')

    def one_hot_labels(self, data_samples: List[ActionDataSample],
                       device: torch.device) -> torch.Tensor:
        """``[B, K]`` float targets: hard labels ``[1]`` one-hot encoded,
        soft / multi-hot labels ``[K]`` kept."""
        rows = []
        for i, sample in enumerate(data_samples):
            if 'gt_label' not in sample:
                raise ValueError(f'{type(self).__name__}: sample {i} has no '
                                 'gt_label to blend')
            label = sample.gt_label
            if not label.is_floating_point() and label.shape == (1, ):
                if not 0 <= int(label) < self.num_classes:
                    raise ValueError(
                        f'{type(self).__name__}: sample {i} has gt_label '
                        f'{int(label)}, outside [0, {self.num_classes}) '
                        '(num_classes of the blending)')
                label = F.one_hot(label[0], self.num_classes)
            elif label.shape != (self.num_classes, ):
                raise ValueError(
                    f'{type(self).__name__}: sample {i} has gt_label of shape '
                    f'{tuple(label.shape)}; expected one class index or '
                    f'[num_classes] = [{self.num_classes}] targets')
            rows.append(label.float())
        return torch.stack(rows).to(device)

    def __call__(self, inputs: torch.Tensor,
                 data_samples: List[ActionDataSample]
                 ) -> Tuple[torch.Tensor, List[ActionDataSample]]:
        """Blend ``inputs`` ``[B, ...]`` and set each sample's ``gt_label``
        to its soft label ``[K]`` (in place). Returns both."""
        if len(data_samples) != inputs.shape[0]:
            raise ValueError(f'{type(self).__name__}: {inputs.shape[0]} '
                             f'inputs but {len(data_samples)} data samples')
        one_hot = self.one_hot_labels(data_samples, inputs.device)
        lam = float(self.beta.sample())
        perm = torch.randperm(inputs.shape[0]).to(inputs.device)
        inputs, labels = self.do_blending(inputs, one_hot, lam, perm)
        for sample, label in zip(data_samples, labels):
            sample.set_gt_label(label)
        return inputs, data_samples

    def do_blending(self, inputs: torch.Tensor, one_hot: torch.Tensor,
                    lam: float, perm: torch.Tensor
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


@MODELS.register_module()
class MixupBlending(BaseMiniBatchBlending):
    """MixUp (Zhang et al., 2018): ``x = lam * x + (1 - lam) * x[perm]``,
    ``y = lam * y + (1 - lam) * y[perm]``."""

    def do_blending(self, inputs, one_hot, lam, perm):
        mixed = lam * inputs + (1 - lam) * inputs[perm]
        return mixed, lam * one_hot + (1 - lam) * one_hot[perm]


def cutmix_box(height: int, width: int,
               lam: float) -> Tuple[int, int, int, int]:
    """A box ``(y1, y2, x1, x2)`` of about ``(1 - lam) * H * W`` pixels:
    sides ``int(W * sqrt(1 - lam))`` and ``int(H * sqrt(1 - lam))``, centred
    on ``x = randint(W)`` then ``y = randint(H)``, clipped to the image."""
    ratio = (1.0 - lam) ** 0.5
    cut_w, cut_h = int(width * ratio), int(height * ratio)
    cx = int(torch.randint(width, (1, )))
    cy = int(torch.randint(height, (1, )))
    x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
    y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
    return y1, y2, x1, x2


@MODELS.register_module()
class CutmixBlending(BaseMiniBatchBlending):
    """CutMix (Yun et al., 2019): one box, the same for every frame and every
    video of the batch, is pasted from ``x[perm]`` over the last two axes
    (H, W); ``lam`` becomes ``1 - box area / (H * W)`` and
    ``y = lam * y + (1 - lam) * y[perm]``."""

    def do_blending(self, inputs, one_hot, lam, perm):
        height, width = inputs.shape[-2:]
        y1, y2, x1, x2 = cutmix_box(height, width, lam)
        mixed = inputs.clone()
        mixed[..., y1:y2, x1:x2] = inputs[perm, ..., y1:y2, x1:x2]
        lam = 1.0 - (y2 - y1) * (x2 - x1) / (height * width)
        return mixed, lam * one_hot + (1 - lam) * one_hot[perm]
