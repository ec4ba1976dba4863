"""``AccMetric``: accuracy metrics over a dataset, for mmengine's evaluator."""
import logging
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmvid.registry import METRICS

from ..functional import (mean_average_precision, mean_class_accuracy,
                          top_k_accuracy)

METRIC_NAMES = ('top_k_accuracy', 'mean_class_accuracy',
                'mean_average_precision')
KEY_STYLES = ('0.x', '1.x')


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Top-k accuracy, mean class accuracy and mAP of the predicted scores.

    Result keys, by ``key_style``:

    * ``'0.x'`` (default), mmaction2 0.x's names: ``top1_acc``,
      ``top5_acc``, ``mean_class_accuracy``, ``mean_average_precision``
      (prefixed ``PREFIX/`` when ``prefix`` is given);
    * ``'1.x'``, mmaction2 1.x's ``AccMetric`` keys: ``acc/top1``,
      ``acc/top5``, ``acc/mean1``, ``acc/mean_average_precision`` (1.x's
      default prefix ``acc``; another ``prefix`` replaces it), so 1.x
      configs' ``save_best='acc/top1'`` work unchanged.

    The values are the same in both styles.

    Args:
        metric_list: Any of ``METRIC_NAMES``.
        topk: The ``k`` of ``top_k_accuracy``.
        collect_device: ``'cpu'`` or ``'gpu'`` (distributed collection).
        prefix: Prefix of the result keys, or None.
        key_style: ``'0.x'`` or ``'1.x'`` (see above).
    """

    def __init__(self,
                 metric_list: Sequence[str] = ('top_k_accuracy',
                                               'mean_class_accuracy'),
                 topk: Sequence[int] = (1, 5),
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 key_style: str = '0.x') -> None:
        if key_style not in KEY_STYLES:
            raise ValueError(f'AccMetric: key_style must be one of '
                             f'{KEY_STYLES}, got {key_style!r}')
        if key_style == '1.x' and prefix is None:
            prefix = 'acc'
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.key_style = key_style
        metric_list = (metric_list, ) if isinstance(metric_list, str) else \
            tuple(metric_list)
        unknown = sorted(set(metric_list) - set(METRIC_NAMES))
        if unknown or not metric_list:
            raise ValueError(f'metric_list must name some of {METRIC_NAMES}, '
                             f'got {list(metric_list)}')
        if any(not isinstance(k, int) or k < 1 for k in topk):
            raise ValueError(f'topk must hold positive ints, got {topk!r}')
        self.metric_list = metric_list
        self.topk = tuple(topk)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep each video's ``pred_score`` ``[K]`` and ``gt_label``; a
        video that could not be read (``stand_in_for``) is only counted."""
        for sample in data_samples:
            if sample.get('stand_in_for'):
                self.results.append(dict(skipped=sample['stand_in_for']))
                continue
            score = sample['pred_score']
            if score.dim() != 1:
                raise ValueError(
                    'AccMetric needs one averaged score vector per video, '
                    f'got pred_score of shape {tuple(score.shape)}; set '
                    "average_clips to 'prob' or 'score'")
            self.results.append(
                dict(score=score.float().cpu().numpy(),
                     label=sample['gt_label'].cpu().numpy()))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        skipped = [r['skipped'] for r in results if 'skipped' in r]
        results = [r for r in results if 'skipped' not in r]
        if skipped:
            print_log(
                f'{type(self).__name__}: computed over {len(results)} of '
                f'{len(results) + len(skipped)} videos; {len(skipped)} could '
                'not be read: ' + '; '.join(
                    f'{s["index"]} {s["file"]} ({s["reason"]})'
                    for s in skipped), logger='current',
                level=logging.WARNING)
        if not results:
            raise RuntimeError('AccMetric: no video of the set could be read')
        scores = np.stack([r['score'] for r in results])
        labels = [r['label'] for r in results]
        metrics = {}
        if 'mean_average_precision' in self.metric_list:
            metrics['mean_average_precision'] = mean_average_precision(
                scores, np.stack(labels))
        single = [m for m in self.metric_list if m != 'mean_average_precision']
        if single:
            if any(label.shape != (1, ) for label in labels):
                raise ValueError(f'{single} need one class label per video; '
                                 'use mean_average_precision for multi-label')
            labels = np.concatenate(labels)
            if 'top_k_accuracy' in self.metric_list:
                for k, acc in top_k_accuracy(scores, labels,
                                             self.topk).items():
                    metrics[f'top{k}' if self.key_style == '1.x' else
                            f'top{k}_acc'] = acc
            if 'mean_class_accuracy' in self.metric_list:
                metrics['mean1' if self.key_style == '1.x' else
                        'mean_class_accuracy'] = mean_class_accuracy(
                            scores, labels)
        return metrics

