"""What is exported: a recognizer's ``test_step`` up to the class scores
of each view, as one module."""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config

INPUT_DTYPES = {'float32': torch.float32, 'uint8': torch.uint8}
CROPS = ('CenterCrop', 'ThreeCrop', 'TenCrop')


class ScoresModel(nn.Module):
    """Pixels ``[N, C, T, H, W]`` (the pipeline's ``FormatShape('NCTHW')``
    views, 0-255, float32 or uint8) -> the data preprocessor's channel swap
    and ``(x - mean) / std`` -> backbone -> head -> class scores
    ``[N, K]`` (logits, before any view averaging), exactly as
    ``Recognizer3D.test_step`` computes them for each view.

    Args:
        recognizer: A ``Recognizer3D`` with a ``cls_head`` and an
            ``NCTHW`` data preprocessor; its modules are shared, not copied.
        input_dtype: ``'float32'`` or ``'uint8'``: what the exported model
            takes (it casts to float itself).
    """

    def __init__(self, recognizer: nn.Module,
                 input_dtype: str = 'float32') -> None:
        super().__init__()
        if input_dtype not in INPUT_DTYPES:
            raise ValueError(f'input_dtype must be one of '
                             f'{tuple(INPUT_DTYPES)}, got {input_dtype!r}')
        pre = recognizer.data_preprocessor
        if getattr(pre, 'format_shape', 'NCTHW') != 'NCTHW':
            raise ValueError('only NCTHW models export; the data '
                             f'preprocessor has format_shape '
                             f'{pre.format_shape!r}')
        if getattr(recognizer, 'cls_head', None) is None:
            raise ValueError('the model has no cls_head: nothing gives '
                             'class scores to export')
        self.input_dtype = input_dtype
        self.to_rgb = bool(getattr(pre, 'to_rgb', False))
        self.normalize = bool(getattr(pre, 'normalize', False))
        if self.normalize:  # [C, 1, 1, 1]: broadcast over [N, C, T, H, W]
            self.register_buffer('mean', pre.mean.detach().clone())
            self.register_buffer('std', pre.std.detach().clone())
        self.backbone = recognizer.backbone
        self.head = recognizer.cls_head
        self.num_classes = recognizer.cls_head.num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[N, C, T, H, W]`` -> scores ``[N, K]``."""
        x = x.float()
        if self.to_rgb:
            x = x.flip(1)
        if self.normalize:
            x = (x - self.mean) / self.std
        return self.head(self.backbone(x))


def _crop_hw(size) -> Optional[Tuple[int, int]]:
    if isinstance(size, int):
        return size, size
    if isinstance(size, Sequence) and len(size) == 2:
        return int(size[1]), int(size[0])  # mmaction's (w, h)
    return None


def default_clip_shape(cfg: Config, batch: int = 1
                       ) -> Tuple[int, int, int, int, int]:
    """``(batch, 3, clip_len, H, W)`` of one view of the config's test
    pipeline: ``SampleFrames.clip_len`` and the crop size of its
    ``CenterCrop`` / ``ThreeCrop`` / ``TenCrop``.

    Raises:
        ValueError: the pipeline has no such steps (give the shape).
    """
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    pipeline = dataset.get('pipeline') or cfg.get('test_pipeline') or []
    clip_len, hw = None, None
    for step in pipeline:
        kind = str(step.get('type', '')).rsplit('.', 1)[-1]
        if kind == 'SampleFrames':
            clip_len = step.get('clip_len')
        elif kind in CROPS:
            hw = _crop_hw(step.get('crop_size'))
    if not isinstance(clip_len, int) or hw is None:
        raise ValueError(
            f'{cfg.filename}: cannot tell the clip shape from the test '
            'pipeline (it needs SampleFrames.clip_len and a crop_size of '
            f'{"/".join(CROPS)}); give it: --shape N C T H W')
    return (batch, 3, clip_len) + hw
