"""mmvid's runner hooks."""
from .checkpoint_hook import DurableCheckpointHook
from .random_states_hook import RandomStatesHook
from .skipped_samples_hook import SkippedSamplesHook

__all__ = ['DurableCheckpointHook', 'RandomStatesHook', 'SkippedSamplesHook']
