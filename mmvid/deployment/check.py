"""Does an exported model compute what eager computes? Scores of the same
random clip compared: cosine similarity per clip and the top-1 class."""
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from .scores_model import INPUT_DTYPES

MIN_COSINE = 0.9999


@dataclass
class ExportCheck:
    """The comparison of exported scores ``[N, K]`` with eager's.

    Attributes:
        cosine: The lowest per-clip cosine similarity.
        top1_same: Every clip has the same top-1 class.
        max_abs_diff: The largest absolute score difference.
        min_cosine: The threshold ``cosine`` must reach.
    """
    cosine: float
    top1_same: bool
    max_abs_diff: float
    min_cosine: float = MIN_COSINE

    @property
    def passed(self) -> bool:
        return self.top1_same and self.cosine >= self.min_cosine

    def describe(self) -> str:
        verdict = 'passed' if self.passed else 'FAILED'
        return (f'check {verdict}: cosine {self.cosine:.6f} (needs >= '
                f'{self.min_cosine}), top-1 '
                f'{"same" if self.top1_same else "DIFFERENT"}, max |diff| '
                f'{self.max_abs_diff:.3g}')


def compare_scores(exported: torch.Tensor, eager: torch.Tensor,
                   min_cosine: float = MIN_COSINE) -> ExportCheck:
    """Compare two ``[N, K]`` score tensors (``exported`` against
    ``eager``)."""
    exported, eager = exported.float(), eager.float()
    if exported.shape != eager.shape:
        raise ValueError(f'exported scores have shape {tuple(exported.shape)}'
                         f', eager {tuple(eager.shape)}')
    cosine = F.cosine_similarity(exported.flatten(1), eager.flatten(1), dim=1)
    return ExportCheck(
        cosine=cosine.min().item(),
        top1_same=bool((exported.argmax(1) == eager.argmax(1)).all()),
        max_abs_diff=(exported - eager).abs().max().item(),
        min_cosine=min_cosine)


def check_export(model: torch.nn.Module,
                 run: Callable[[torch.Tensor], torch.Tensor],
                 shape: Sequence[int], input_dtype: str = 'float32',
                 seed: int = 1) -> ExportCheck:
    """Run eager ``model`` and the exported ``run`` on one random clip of
    ``shape`` (pixels 0-255 drawn with ``seed``) and compare the scores."""
    gen = torch.Generator().manual_seed(seed)
    clip = torch.randint(0, 256, tuple(shape), generator=gen,
                         dtype=torch.uint8).to(INPUT_DTYPES[input_dtype])
    with torch.no_grad():
        eager = model.eval()(clip)
    return compare_scores(run(clip), eager)
