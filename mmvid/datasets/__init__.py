"""Datasets, samplers, transforms and data-preparation tools.

Importing this package registers the datasets (``VideoDataset``,
``RawframeDataset``), the ``EpochSeedSampler``, the loader worker function
``limit_worker_threads`` and every pipeline transform.
"""
from .base_dataset import BaseActionDataset
from .errors import BadSampleError
from .rawframe_dataset import RawframeDataset
from .samplers import EpochSeedSampler, limit_worker_threads
from .transforms import *  # noqa: F401,F403
from .video_dataset import VideoDataset

__all__ = ['BaseActionDataset', 'BadSampleError', 'VideoDataset',
           'RawframeDataset', 'EpochSeedSampler', 'limit_worker_threads']
