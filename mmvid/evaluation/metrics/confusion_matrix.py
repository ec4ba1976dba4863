"""``ConfusionMatrix``: the top-1 confusion matrix of a test set, for
mmengine's evaluator (``test_evaluator=dict(type='ConfusionMatrix')``)."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmvid.registry import METRICS

from ..functional import confusion_counts


@METRICS.register_module()
class ConfusionMatrix(BaseMetric):
    """Counts int64 ``[C, C]``, rows true classes, columns top-1 predicted
    ones, under the key ``confusion_matrix``. Videos that could not be read
    (``stand_in_for``) are left out.

    Args:
        num_classes: ``C``; None for the length of the score vectors.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Prefix of the result key, or None.
    """

    def __init__(self, num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if num_classes is not None and (isinstance(num_classes, bool) or
                                        not isinstance(num_classes, int) or
                                        num_classes < 1):
            raise ValueError('ConfusionMatrix: num_classes must be a '
                             f'positive int or None, got {num_classes!r}')
        self.num_classes = num_classes

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each video's top-1 class, its label and ``C``."""
        for sample in data_samples:
            if sample.get('stand_in_for'):
                continue
            score, label = sample['pred_score'], sample['gt_label']
            if score.dim() != 1 or tuple(label.shape) != (1, ):
                raise ValueError(
                    'ConfusionMatrix needs one averaged score vector and one '
                    f'class label per video, got pred_score '
                    f'{tuple(score.shape)} and gt_label {tuple(label.shape)}')
            self.results.append((int(score.argmax()), int(label[0]),
                                 score.shape[0]))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, np.ndarray]:
        if not results:
            raise RuntimeError('ConfusionMatrix: no video of the set could '
                               'be read')
        pred, real, width = np.array(results, dtype=np.int64).T
        num_classes = self.num_classes or int(width.max())
        return dict(confusion_matrix=confusion_counts(pred, real,
                                                      num_classes))
