"""mmvid's runner hooks."""
from .checkpoint_hook import DurableCheckpointHook
from .skipped_samples_hook import SkippedSamplesHook

__all__ = ['DurableCheckpointHook', 'SkippedSamplesHook']
