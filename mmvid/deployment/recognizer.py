"""An exported model in the place of the torch model: ``tools/test.py
CONFIG MODEL_FILE --backend ...`` runs the config's test pipeline and
metrics through it."""
from typing import List, Optional

import torch
from mmengine.config import ConfigDict
from mmengine.model import BaseModel
from mmengine.registry import Registry

from mmvid.models.heads.base_head import AVERAGE_CLIPS, set_predictions
from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample
from .backends import load_exported

DEPLOY_SCOPE = 'mmvid_deploy'
# what the test tool builds in the model's place (a child of mmvid's MODELS:
# ``MODELS.build`` finds it by the scope prefix of its type)
DEPLOY_MODELS = Registry('model', parent=MODELS, scope=DEPLOY_SCOPE)
# the pipeline's uint8 clips stacked as they are: the exported model
# normalises (and casts) itself
RAW_PREPROCESSOR = dict(type='ActionDataPreprocessor', to_float32=False)


@DEPLOY_MODELS.register_module()
class ExportedRecognizer(BaseModel):
    """``Recognizer3D``'s ``predict`` with the exported scores model:
    every view of a batch through the exported file, then the views of each
    video averaged as the head averages them. Registered in
    :data:`DEPLOY_MODELS`, a child of mmvid's ``MODELS`` (which lists the
    parts of model configs): a config names it
    ``'mmvid_deploy.ExportedRecognizer'``.

    Args:
        model_file: The exported file (``tools/deployment/export.py``).
        backend: One of :data:`~mmvid.deployment.backends.BACKENDS`.
        average_clips: ``'prob'``, ``'score'`` or None, as the config's
            model (:func:`exported_model_cfg` reads it).
        max_testing_views: Views per call when the file takes any batch
            size (None: all views of the batch at once). A file exported
            with a fixed batch size gets exactly that many per call (the last
            call padded with zeros, their scores dropped).
        data_preprocessor: Default: stacking only (no normalisation).
    """

    def __init__(self, model_file: str, backend: str,
                 average_clips: Optional[str] = 'prob',
                 max_testing_views: Optional[int] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=MODELS.build(
            data_preprocessor or RAW_PREPROCESSOR), init_cfg=init_cfg)
        if average_clips not in AVERAGE_CLIPS:
            raise ValueError(f'average_clips must be one of {AVERAGE_CLIPS},'
                             f' got {average_clips!r}')
        if max_testing_views is not None and (
                not isinstance(max_testing_views, int)
                or max_testing_views < 1):
            raise ValueError('max_testing_views must be a positive int, got '
                             f'{max_testing_views!r}')
        self.runner = load_exported(model_file, backend)
        self.average_clips = average_clips
        self.max_testing_views = max_testing_views

    def view_scores(self, views: torch.Tensor) -> torch.Tensor:
        """``[V, C, T, H, W]`` -> scores ``[V, K]`` in chunks the file
        accepts."""
        fixed = self.runner.batch_size
        chunk = fixed or self.max_testing_views or views.shape[0]
        scores = []
        for part in views.split(chunk):
            n = part.shape[0]
            if fixed and n < fixed:  # pad to the exported batch size
                pad = part.new_zeros((fixed - n, ) + tuple(part.shape[1:]))
                part = torch.cat([part, pad])
            scores.append(self.runner(part)[:n])
        return torch.cat(scores)

    def forward(self, inputs: torch.Tensor,
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'predict') -> List[ActionDataSample]:
        """``inputs``: ``[B, views, C, T, H, W]``; ``mode`` must be
        ``'predict'`` (an exported model neither trains nor gives
        features)."""
        if mode != 'predict':
            raise ValueError("an exported model only predicts (mode="
                             f"'predict'), got mode {mode!r}")
        if inputs.dim() != 6:
            raise ValueError('ExportedRecognizer expects inputs [B, views, '
                             f'C, T, H, W], got shape {tuple(inputs.shape)}')
        scores = self.view_scores(inputs.flatten(0, 1))
        return set_predictions(scores, data_samples, self.average_clips)


def exported_model_cfg(model_cfg: dict, model_file: str,
                       backend: str) -> ConfigDict:
    """The ``ExportedRecognizer`` config that replaces a config's
    ``Recognizer3D`` one: its averaging (``test_cfg.average_clips``, else the
    head's) and ``max_testing_views``, its preprocessor without
    normalisation (the exported file does it).

    Raises:
        ValueError: ``test_cfg.feature_extraction`` (an export gives scores).
    """
    test_cfg = model_cfg.get('test_cfg') or {}
    if test_cfg.get('feature_extraction'):
        raise ValueError('model.test_cfg.feature_extraction: an exported '
                         'model gives class scores, not features')
    head = model_cfg.get('cls_head') or {}
    average = test_cfg['average_clips'] if 'average_clips' in test_cfg \
        else head.get('average_clips')
    pre = dict(model_cfg.get('data_preprocessor') or {})
    return ConfigDict(
        type=f'{DEPLOY_SCOPE}.ExportedRecognizer', model_file=model_file,
        backend=backend,
        average_clips=average,
        max_testing_views=test_cfg.get('max_testing_views'),
        data_preprocessor=dict(
            RAW_PREPROCESSOR,
            format_shape=pre.get('format_shape', 'NCTHW')))
