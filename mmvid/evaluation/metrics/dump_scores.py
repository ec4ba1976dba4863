"""``DumpScores``: write each video's averaged scores, as mmaction2 0.x's
``tools/test.py --out`` does."""
import logging
import os
import os.path as osp
from typing import Dict, List, Sequence

import mmengine
import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmvid.registry import METRICS

FORMATS = ('.json', '.pkl', '.pickle', '.yaml', '.yml')


@METRICS.register_module()
class DumpScores(BaseMetric):
    """Dump one score list per video, in dataset order, to ``out_file``.

    ``.json``/``.yaml`` hold a list of ``K`` floats per video; ``.pkl`` a
    list of float32 arrays ``[K]`` (``[views, K]`` when views are not
    averaged). Distributed runs gather the results in dataset order, with
    the sampler's padding removed. The file is written atomically.

    Args:
        out_file: Output path ending in one of ``FORMATS``.
        collect_device: ``'cpu'`` or ``'gpu'``.
    """

    def __init__(self, out_file: str, collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device)
        if not out_file.endswith(FORMATS):
            raise ValueError(f'out_file must end with one of {FORMATS}, got '
                             f'{out_file!r}')
        self.out_file = out_file
        self.skipped: List[dict] = []

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """One score row per video; NaNs for a video that could not be read
        (its stand-in's scores are another video's)."""
        for sample in data_samples:
            score = sample['pred_score'].float().cpu().numpy().astype(
                np.float32)
            if sample.get('stand_in_for'):
                score = np.full_like(score, np.nan)
                self.skipped.append(sample['stand_in_for'])
            self.results.append(score)

    def compute_metrics(self, results: List[np.ndarray]) -> Dict[str, float]:
        data = results if self.out_file.endswith(('.pkl', '.pickle')) else \
            [score.tolist() for score in results]
        folder = osp.dirname(osp.abspath(self.out_file))
        os.makedirs(folder, exist_ok=True)
        suffix = osp.splitext(self.out_file)[1]
        partial = f'{self.out_file}.partial{suffix}'
        mmengine.dump(data, partial)
        os.replace(partial, self.out_file)
        if self.skipped:
            print_log(
                f'{self.out_file}: NaN rows for the {len(self.skipped)} '
                'videos that could not be read: ' + '; '.join(
                    f'{s["index"]} {s["file"]}' for s in self.skipped),
                logger='current', level=logging.WARNING)
            self.skipped = []
        return {}
