"""mmvid's runner hooks."""
from .checkpoint_hook import DurableCheckpointHook
from .precise_bn_hook import PreciseBNHook
from .random_states_hook import RandomStatesHook
from .skipped_samples_hook import SkippedSamplesHook

__all__ = ['DurableCheckpointHook', 'PreciseBNHook', 'RandomStatesHook',
           'SkippedSamplesHook']
