"""``DumpPredictions``: write scores, labels and video ids of the test set
for offline evaluation (``tools/test.py --dump``)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmvid.registry import METRICS

from ..dump_file import save_dump


def video_id(sample: dict) -> str:
    """The sample's ``filename`` (videos) or ``frame_dir`` (rawframes)."""
    for key in ('filename', 'frame_dir'):
        if sample.get(key) is not None:
            return str(sample[key])
    raise KeyError('DumpPredictions: a data sample has neither filename nor '
                   'frame_dir; keep them in PackActionInputs meta_keys')


@METRICS.register_module()
class DumpPredictions(BaseMetric):
    """Dump ``{video_ids [N], scores float32 [N, C], labels [N], classes,
    config}`` (and ``features float32 [N, D]``) in dataset order to
    ``out_file`` (format: :mod:`mmvid.evaluation.dump_file`), atomically. A
    video that could not be read gets a NaN score (and feature) row.

    Args:
        out_file: The dump's path.
        config: The run's config file, recorded in the dump.
        with_features: Also dump each video's ``feature`` ``[D]``: the
            model must store it beside the scores (``Recognizer3D`` with
            ``test_cfg.with_features=True``, as ``tools/test.py
            --dump-features`` sets).
        collect_device: ``'cpu'`` or ``'gpu'``.
    """

    def __init__(self, out_file: str, config: Optional[str] = None,
                 with_features: bool = False,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not isinstance(with_features, bool):
            raise TypeError('DumpPredictions: with_features must be a bool, '
                            f'got {with_features!r}')
        self.out_file = out_file
        self.config = config or ''
        self.with_features = with_features

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score'].float().cpu().numpy()
            if score.ndim != 1:
                raise ValueError(
                    'DumpPredictions needs one averaged score vector per '
                    f'video, got pred_score of shape {score.shape}; set '
                    "average_clips to 'prob' or 'score'")
            vid = video_id(sample)
            result = dict(score=score)
            if self.with_features:
                result['feature'] = self._feature(sample)
            if sample.get('stand_in_for'):  # the scores of another video
                result = {k: np.full_like(v, np.nan)
                          for k, v in result.items()}
                vid = str(sample['stand_in_for']['file'])
            label = sample['gt_label'].cpu().numpy()
            if label.shape != (1, ):
                raise ValueError('DumpPredictions needs one class label per '
                                 f'video, got gt_label {label.shape}')
            self.results.append(dict(result, id=vid, label=int(label[0])))

    @staticmethod
    def _feature(sample: dict) -> np.ndarray:
        """The sample's view-averaged feature ``[D]`` as float32."""
        if sample.get('feature') is None:
            raise KeyError(
                'DumpPredictions(with_features=True): the data samples carry '
                'no feature; set model.test_cfg.with_features=True '
                '(tools/test.py --dump-features does)')
        feature = sample['feature'].float().cpu().numpy()
        if feature.ndim != 1:
            raise ValueError('DumpPredictions needs one feature vector per '
                             f'video, got feature of shape {feature.shape}')
        return feature

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        classes = (self.dataset_meta or {}).get('classes')
        features = None
        if self.with_features:
            features = np.stack([r['feature'] for r in results])
        save_dump(self.out_file, [r['id'] for r in results],
                  np.stack([r['score'] for r in results]).astype(np.float32),
                  [r['label'] for r in results], classes, self.config,
                  features)
        return {}
