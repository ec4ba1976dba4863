"""Exact resume: the random-number streams are checkpointed, and validation
and testing do not consume the training stream.

Saved into every checkpoint (``checkpoint['random_states']``): Python's
``random``, numpy's global generator, torch's CPU generator and, with CUDA,
every GPU's, as they are when the checkpoint is written; one entry per rank
in distributed runs (each rank's stream can differ, e.g. with
``--diff-seed``). Resuming restores them right before training continues
(after mmengine's own resume, which may re-seed), so the next epoch draws
the same dropout masks and loader seeds as the uninterrupted run would.

Validation and testing run between ``save`` and ``restore`` of the same
states: creating their dataloader iterator draws from torch's generator,
which would otherwise shift every later training draw, so that validating
at another interval changed the trained weights.
"""
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook

from mmvid.registry import HOOKS

KEY = 'random_states'


def get_random_states() -> dict:
    """This process's random states: ``python``, ``numpy``, ``torch`` and,
    with CUDA, ``cuda`` (one state per device)."""
    states = dict(python=random.getstate(), numpy=np.random.get_state(),
                  torch=torch.get_rng_state())
    if torch.cuda.is_available():
        states['cuda'] = torch.cuda.get_rng_state_all()
    return states


def set_random_states(states: dict) -> None:
    """Restore what :func:`get_random_states` returned."""
    random.setstate(states['python'])
    np.random.set_state(states['numpy'])
    torch.set_rng_state(states['torch'])
    if 'cuda' in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states['cuda'])


@HOOKS.register_module()
class RandomStatesHook(Hook):
    """Checkpoint the random states; isolate validation and testing from
    the training stream (see the module docstring)."""

    # before the CheckpointHook (VERY_LOW) so the states of every rank are
    # gathered when the epoch's checkpoint is written
    priority = 'LOW'

    def __init__(self):
        self._per_rank: Optional[List[dict]] = None
        self._resumed: Optional[List[dict]] = None
        self._outside: List[dict] = []

    # -- checkpointing ---------------------------------------------------
    def before_train_epoch(self, runner) -> None:
        self._per_rank = None

    def after_train_epoch(self, runner) -> None:
        """Every rank's states (distributed), for the epoch's checkpoints:
        only the main process writes them."""
        self._per_rank = all_gather_object(get_random_states()) \
            if get_world_size() > 1 else None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """The training stream's states. mmengine saves the epoch's
        checkpoint again from inside validation when the best score
        improves: then the states from before validation are the ones."""
        outside = self._outside[0] if self._outside else get_random_states()
        checkpoint[KEY] = self._per_rank or [outside]

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # only a resume continues the streams (not load_from's weights)
        self._resumed = checkpoint.get(KEY) \
            if getattr(runner, '_resume', False) else None

    def before_train(self, runner) -> None:
        if not self._resumed:
            return
        rank = get_rank() if len(self._resumed) == get_world_size() else 0
        set_random_states(self._resumed[rank])
        self._resumed = None

    # -- validation and testing under their own stream ---------------------
    def before_val(self, runner) -> None:
        self._outside.append(get_random_states())

    def after_val(self, runner) -> None:
        set_random_states(self._outside.pop())

    before_test = before_val
    after_test = after_val
