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
    config}`` in dataset order to ``out_file`` (format:
    :mod:`mmvid.evaluation.dump_file`), atomically. A video that could not
    be read gets a NaN score row.

    Args:
        out_file: The dump's path.
        config: The run's config file, recorded in the dump.
        collect_device: ``'cpu'`` or ``'gpu'``.
    """

    def __init__(self, out_file: str, config: Optional[str] = None,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        self.out_file = out_file
        self.config = config or ''

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score'].float().cpu().numpy()
            if score.ndim != 1:
                raise ValueError(
                    'DumpPredictions needs one averaged score vector per '
                    f'video, got pred_score of shape {score.shape}; set '
                    "average_clips to 'prob' or 'score'")
            vid = video_id(sample)
            if sample.get('stand_in_for'):  # the scores of another video
                score = np.full_like(score, np.nan)
                vid = str(sample['stand_in_for']['file'])
            label = sample['gt_label'].cpu().numpy()
            if label.shape != (1, ):
                raise ValueError('DumpPredictions needs one class label per '
                                 f'video, got gt_label {label.shape}')
            self.results.append(dict(id=vid, score=score,
                                     label=int(label[0])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        classes = (self.dataset_meta or {}).get('classes')
        save_dump(self.out_file, [r['id'] for r in results],
                  np.stack([r['score'] for r in results]).astype(np.float32),
                  [r['label'] for r in results], classes, self.config)
        return {}
