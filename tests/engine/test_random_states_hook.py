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


def test_gpu_states_are_kept_where_cuda_is(monkeypatch):
    """Both branches on any machine: with CUDA (forced, the device states
    faked) every GPU's state is saved and restored; without, none is."""
    device_states = [torch.tensor([1], dtype=torch.uint8),
                     torch.tensor([2], dtype=torch.uint8)]
    restored = []
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'get_rng_state_all',
                        lambda: list(device_states))
    monkeypatch.setattr(torch.cuda, 'set_rng_state_all', restored.append)
    states = get_random_states()
    assert states['cuda'] == device_states
    set_random_states(states)
    assert restored == [device_states]
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert 'cuda' not in get_random_states()
    set_random_states(states)  # a GPU checkpoint resumed on a CPU machine
    assert restored == [device_states]
