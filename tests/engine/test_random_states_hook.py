"""RandomStatesHook: the states it checkpoints and restores, and the
isolation of validation and testing from the training stream."""
import random
from types import SimpleNamespace

import numpy as np
import torch

from mmvid.engine.hooks import RandomStatesHook
from mmvid.engine.hooks.random_states_hook import (get_random_states,
                                                   set_random_states)


def draws():
    """One draw from each generator the states cover."""
    return (random.random(), float(np.random.rand()),
            float(torch.rand(1)))


def test_states_round_trip():
    states = get_random_states()
    first = draws()
    set_random_states(states)
    assert draws() == first


def test_validation_and_testing_leave_the_stream_where_it_was():
    hook = RandomStatesHook()
    states = get_random_states()
    for before, after in ((hook.before_val, hook.after_val),
                          (hook.before_test, hook.after_test)):
        before(None)
        draws()  # what validation would consume
        after(None)
    after_isolated = draws()
    set_random_states(states)
    assert after_isolated == draws()


def test_checkpoint_carries_the_states_from_outside_validation():
    hook = RandomStatesHook()
    hook.before_train_epoch(None)
    expected = get_random_states()
    checkpoint = {}
    hook.before_val(None)
    draws()
    hook.before_save_checkpoint(None, checkpoint)  # mmengine's best re-save
    hook.after_val(None)
    saved = checkpoint['random_states']
    assert len(saved) == 1
    assert torch.equal(saved[0]['torch'], expected['torch'])
    assert saved[0]['python'] == expected['python']


def test_only_a_resume_restores_the_states():
    saved = get_random_states()
    expected = draws()
    hook = RandomStatesHook()
    for resume in (False, True):
        hook.after_load_checkpoint(SimpleNamespace(_resume=resume),
                                   dict(random_states=[saved]))
        draws()
        hook.before_train(None)
        if resume:
            assert draws() == expected
        else:  # load_from: weights only, the stream goes on
            assert draws() != expected
