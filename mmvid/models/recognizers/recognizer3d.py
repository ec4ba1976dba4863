"""Recognizer3D: backbone + head for clips, with multi-view testing."""
from typing import Dict, List, Optional, Union

from logging import FileHandler

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModel

from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample
from ..utils import to_channels_last

TEST_CFG_KEYS = ('average_clips', 'max_testing_views', 'feature_extraction',
                 'with_features')
MODES = ('tensor', 'loss', 'predict')
MEMORY_FORMATS = ('auto', 'channels_last_3d', 'contiguous')


def resolve_memory_format(memory_format: str) -> str:
    """``'auto'``: channels_last_3d on a machine without CUDA, where it was
    measured faster for training and inference (``docs/benchmark.md``);
    contiguous where CUDA is available (not measured there yet)."""
    if memory_format not in MEMORY_FORMATS:
        raise ValueError(f'memory_format must be one of {MEMORY_FORMATS}, '
                         f'got {memory_format!r}')
    if memory_format == 'auto':
        return 'contiguous' if torch.cuda.is_available() \
            else 'channels_last_3d'
    return memory_format


def _build(cfg: Union[dict, nn.Module]) -> nn.Module:
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


@MODELS.register_module()
class Recognizer3D(BaseModel):
    """3D recognizer: ``cls_head(backbone(clip))`` averaged over views.

    Args:
        backbone: Backbone config (e.g. ``ResNet3d``) or module.
        cls_head: Head config or module; None for a feature extractor.
        train_cfg: Reserved; must be None or empty.
        test_cfg: ``average_clips`` (overrides the head's: ``'prob'``,
            ``'score'`` or None), ``max_testing_views`` (run the backbone on
            at most this many views at a time), ``feature_extraction``
            (``predict`` stores view-averaged pooled features in
            ``data_sample.feature`` instead of scores), ``with_features``
            (``predict`` stores them beside the scores, for
            ``tools/test.py --dump-features``).
        data_preprocessor: Config or module; default
            ``ActionDataPreprocessor()`` (no normalisation).
        memory_format: Layout of the backbone's weights and inputs:
            ``'channels_last_3d'`` (NDHWC), ``'contiguous'`` (NCDHW) or
            ``'auto'`` (see :func:`resolve_memory_format`). fp32 results
            equal NCDHW's up to summation order (~1e-6 relative).
        init_cfg: mmengine init config.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 cls_head: Optional[Union[dict, nn.Module]] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 memory_format: str = 'auto',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            data_preprocessor=_build(data_preprocessor or
                                     dict(type='ActionDataPreprocessor')),
            init_cfg=init_cfg)
        if train_cfg:
            raise ValueError('Recognizer3D takes no train_cfg keys, got '
                             f'{sorted(train_cfg)}')
        test_cfg = dict(test_cfg or {})
        unknown = sorted(set(test_cfg) - set(TEST_CFG_KEYS))
        if unknown:
            raise ValueError(f'unknown test_cfg keys {unknown}; expected any '
                             f'of {TEST_CFG_KEYS}')
        views = test_cfg.get('max_testing_views')
        if views is not None and (not isinstance(views, int) or views < 1):
            raise ValueError('test_cfg.max_testing_views must be a positive '
                             f'int, got {views!r}')
        self.memory_format = resolve_memory_format(memory_format)
        self.backbone = _build(backbone)
        self.cls_head = None if cls_head is None else _build(cls_head)
        self._check_blending_classes()
        self.test_cfg = test_cfg
        if self.memory_format == 'channels_last_3d':
            # in-place inits and checkpoint loading keep the layout
            to_channels_last(self.backbone)

    def _check_blending_classes(self) -> None:
        """MixUp / CutMix soft labels must have the head's class count."""
        blending = getattr(self.data_preprocessor, 'blending', None)
        head_classes = getattr(self.cls_head, 'num_classes', None)
        if blending is not None and head_classes is not None and \
                blending.num_classes != head_classes:
            raise ValueError(
                'model.data_preprocessor.blending.num_classes '
                f'({blending.num_classes}) differs from '
                f'model.cls_head.num_classes ({head_classes})')

    def _dump_init_info(self) -> None:
        # mmengine prints one INFO entry per parameter (~300 for I3D) to the
        # console when no log file is open; keep that report for log files.
        logger = MMLogger.get_current_instance()
        if any(isinstance(h, FileHandler) for h in logger.handlers):
            super()._dump_init_info()

    def extract_feat(self, inputs: torch.Tensor,
                     test_mode: bool = False) -> torch.Tensor:
        """Backbone features of every view.

        Args:
            inputs: ``[B, views, C, T, H, W]``.
            test_mode: Honour ``test_cfg.max_testing_views``.

        Returns:
            ``[B * views, C', T', H', W']``, views of a video adjacent.
        """
        x = inputs.flatten(0, 1)  # [B, views, C, T, H, W] -> [B*views, ...]
        if self.memory_format == 'channels_last_3d':
            x = x.contiguous(memory_format=torch.channels_last_3d)
        chunk = self.test_cfg.get('max_testing_views') if test_mode else None
        if chunk is None or x.shape[0] <= chunk:
            return self.backbone(x)
        return torch.cat([self.backbone(part) for part in x.split(chunk)])

    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor'
                ) -> Union[torch.Tensor, Dict[str, torch.Tensor],
                           List[ActionDataSample]]:
        """Run the model in one of three modes.

        Args:
            inputs: ``[B, views, C, T, H, W]`` from the data preprocessor.
            data_samples: One ``ActionDataSample`` per video (``loss`` and
                ``predict``).
            mode: ``'tensor'`` returns backbone features
                ``[B * views, ...]``; ``'loss'`` a dict of losses (and batch
                accuracies); ``'predict'`` the data samples with
                ``pred_score``/``pred_label`` (or ``feature``) set.
        """
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        if inputs.dim() != 6:
            raise ValueError('Recognizer3D expects inputs [B, views, C, T, H, '
                             f'W], got shape {tuple(inputs.shape)}')
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if self.cls_head is None and not (
                mode == 'predict' and self.test_cfg.get('feature_extraction')):
            raise RuntimeError(f'mode {mode!r} needs a cls_head')
        if mode == 'loss':
            return self.cls_head.loss(self.extract_feat(inputs), data_samples)
        feats = self.extract_feat(inputs, test_mode=True)
        if self.test_cfg.get('feature_extraction'):
            return self._store_features(feats, data_samples)
        if self.test_cfg.get('with_features'):
            self._store_features(feats, data_samples)
        if 'average_clips' in self.test_cfg:
            return self.cls_head.predict(feats, data_samples,
                                         self.test_cfg['average_clips'])
        return self.cls_head.predict(feats, data_samples)

    @staticmethod
    def _store_features(feats: torch.Tensor,
                        data_samples: List[ActionDataSample]
                        ) -> List[ActionDataSample]:
        # [B*views, C, T, H, W] -> [B, views, C] -> mean over views -> [B, C]
        pooled = feats.flatten(2).mean(-1)
        pooled = pooled.view(len(data_samples), -1, pooled.shape[-1]).mean(1)
        for sample, feature in zip(data_samples, pooled):
            sample.set_field(feature, 'feature', dtype=torch.Tensor)
        return data_samples
