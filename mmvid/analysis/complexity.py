"""Multiply-accumulates and parameters of a recognizer for one input.

Counts follow the model zoos' convention: one multiply-add is one "FLOP"
(so mmaction2's "43.5G" for I3D R50 at 32x256x256 is 43.5 GMACs). Counting
uses mmengine's ``FlopAnalyzer`` (a JIT trace), plus a rule for
``scaled_dot_product_attention`` (the non-local blocks' softmax modes),
which it does not know: ``B * L * S * (E + Ev)`` for queries ``[B, L, E]``,
keys ``[B, S, E]`` and values ``[B, S, Ev]``. What is counted is the work
mmvid does: a dot-product non-local block that multiplies ``q (k^T v)`` is
counted as such, and is cheaper than the explicit form mmaction2 counts.
"""
from typing import Any, List, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count


def sdpa_macs(inputs: List[Any], outputs: List[Any]) -> int:
    """MACs of ``aten::scaled_dot_product_attention`` from traced shapes."""
    query, key, value = (inputs[i].type().sizes() for i in range(3))
    batch = 1
    for size in query[:-2]:
        batch *= size
    queries, keys = query[-2], key[-2]
    return batch * queries * keys * (query[-1] + value[-1])


class ClipClassifier(nn.Module):
    """``cls_head(backbone(x))`` of a recognizer, on ``[N, C, T, H, W]``."""

    def __init__(self, recognizer: nn.Module) -> None:
        super().__init__()
        self.backbone = recognizer.backbone
        self.cls_head = getattr(recognizer, 'cls_head', None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(x)
        return feats if self.cls_head is None else self.cls_head(feats)


def model_complexity(recognizer: nn.Module,
                     input_shape: Sequence[int]) -> Tuple[int, int]:
    """``(MACs, parameters)`` of one forward pass of ``recognizer``.

    Args:
        recognizer: A model with ``backbone`` (and ``cls_head``).
        input_shape: ``(N, C, T, H, W)`` of the clip batch.
    """
    if len(input_shape) != 5:
        raise ValueError('input_shape must be (N, C, T, H, W), got '
                         f'{tuple(input_shape)}')
    model = ClipClassifier(recognizer).eval()
    device = next(model.parameters()).device
    analyzer = FlopAnalyzer(model, (torch.zeros(*input_shape, device=device),))
    analyzer.set_op_handle('aten::scaled_dot_product_attention', sdpa_macs)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    return int(analyzer.total()), int(parameter_count(model)[''])
