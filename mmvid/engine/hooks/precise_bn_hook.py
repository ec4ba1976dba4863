"""``PreciseBNHook``: BatchNorm statistics recomputed on training batches
(PySlowFast's ``BN.USE_PRECISE_STATS`` / ``BN.NUM_BATCHES_PRECISE``).

During training a BN layer's ``running_mean`` / ``running_var`` are an
exponential moving average (momentum 0.1) of batch statistics taken while
the weights still move, so they lag behind the final weights. Before the
model is evaluated, this hook runs ``num_batches`` training batches through
it in train mode without gradients and sets, for every BN layer in train
mode, ``running_mean`` to the mean over the batches of each batch's
per-channel mean and ``running_var`` to the mean of each batch's unbiased
per-channel variance (what BN itself stores with momentum 1).

When: in ``after_train_epoch``, every ``interval`` epochs and after the
last one. mmengine's ``EpochBasedTrainLoop`` validates right after that
hook point, and the hook's priority is above the ``SyncBuffersHook``
(``NORMAL``) and the ``CheckpointHook`` (``VERY_LOW``), which save in the
same hook point: so both the validation and the epoch's checkpoint see the
precise statistics, as in PySlowFast, which computes them before saving
and evaluating. ``before_val_epoch`` would run after the checkpoint is
written, which would then hold the moving averages. Iteration-based loops
are refused: they validate and save inside ``after_train_iter``, while the
train loader's iterator is in use.

The batches are the train dataloader's first ``num_batches`` in the order
of the epoch just finished (its sampler's epoch is not advanced).
"""
from typing import Dict, Iterable, List, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import IterBasedTrainLoop
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmvid.registry import HOOKS

from .random_states_hook import get_random_states, set_random_states


def bn_layers_in_training(model: nn.Module) -> List[_BatchNorm]:
    """The BN layers of ``model`` that track running statistics and are in
    train mode (frozen ones, e.g. under ``norm_eval``, stay in eval mode
    and are left alone)."""
    return [m for m in model.modules()
            if isinstance(m, _BatchNorm) and m.training
            and m.track_running_stats and m.running_mean is not None]


def forward_batch(model: nn.Module, data_batch) -> None:
    """One training batch through an mmengine ``BaseModel``: its data
    preprocessor, then ``mode='tensor'``.

    The preprocessor runs with ``training=False``: that flag only turns on
    the batch blending (MixUp / CutMix), and the statistics are those of
    the clips as they are, as in PySlowFast (which mixes in its training
    step, not in its precise-BN loader)."""
    data = model.data_preprocessor(data_batch, False)
    if isinstance(data, dict):
        model(**data, mode='tensor')
    else:
        model(*data, mode='tensor')


@torch.no_grad()
def update_bn_stats(model: nn.Module, batches: Iterable,
                    num_batches: int, logger=None,
                    log_interval: int = 50) -> int:
    """Set the running statistics of ``model``'s BN layers in train mode to
    their average over up to ``num_batches`` of ``batches``.

    For each BN layer with input ``x`` of shape ``[N, C, *]``:
    ``running_mean = sum_b mean_b(x) / B`` and
    ``running_var = sum_b var_b(x, unbiased) / B`` over the ``B`` batches
    used, each statistic per channel (``[C]``). The model's weights, its
    other buffers (``num_batches_tracked``), the layers' momentum and every
    module's train/eval mode are as before; so are the random states (the
    batches drawn here do not shift the training stream). In distributed
    runs each rank averages its own batches, then the ranks' statistics are
    averaged (``all_reduce`` mean), so every rank holds the same values.

    Args:
        model: An mmengine ``BaseModel`` (not a wrapper).
        batches: Collated training batches (e.g. the train dataloader).
        num_batches: How many batches to use (fewer if ``batches`` ends).
        logger: Logs the progress (``info``) and a short loader
            (``warning``); None logs nothing.
        log_interval: A progress line every this many batches.

    Returns:
        The number of batches used (0: no BN layer in train mode, or no
        batch; the statistics are then unchanged, as they are when a batch
        raises).
    """
    modes = {module: module.training for module in model.modules()}
    model.train()
    layers = bn_layers_in_training(model)
    if not layers:
        _restore_modes(modes)
        if logger is not None:
            logger.warning('PreciseBN: the model has no BatchNorm layer in '
                           'train mode; its statistics are left as they are')
        return 0
    saved = [dict(momentum=bn.momentum,
                  tracked=None if bn.num_batches_tracked is None else
                  bn.num_batches_tracked.clone(),
                  mean=bn.running_mean.clone(), var=bn.running_var.clone())
             for bn in layers]
    sums: List[Dict[str, torch.Tensor]] = [
        dict(mean=torch.zeros_like(bn.running_mean, dtype=torch.float64),
             var=torch.zeros_like(bn.running_var, dtype=torch.float64))
        for bn in layers]
    for bn in layers:
        bn.momentum = 1.0  # running stats = this batch's statistics
    random_states = get_random_states()
    used = 0
    if logger is not None:
        logger.info(f'PreciseBN: recomputing the statistics of '
                    f'{len(layers)} BatchNorm layers on {num_batches} '
                    f'training batches')
    try:
        for data_batch in batches:
            if used == num_batches:
                break
            forward_batch(model, data_batch)
            for bn, acc in zip(layers, sums):
                acc['mean'] += bn.running_mean.double()
                acc['var'] += bn.running_var.double()
            used += 1
            if logger is not None and used % log_interval == 0:
                logger.info(f'PreciseBN: {used}/{num_batches} batches')
    finally:
        # on success and on failure alike; the statistics as they were
        # until the average is known
        set_random_states(random_states)
        for bn, old in zip(layers, saved):
            bn.momentum = old['momentum']
            if old['tracked'] is not None:
                bn.num_batches_tracked.copy_(old['tracked'])
            bn.running_mean.copy_(old['mean'])
            bn.running_var.copy_(old['var'])
        _restore_modes(modes)
    if used:
        for bn, acc in zip(layers, sums):
            bn.running_mean.copy_(acc['mean'] / used)
            bn.running_var.copy_(acc['var'] / used)
            if get_world_size() > 1:  # every rank: the ranks' mean
                all_reduce(bn.running_mean, op='mean')
                all_reduce(bn.running_var, op='mean')
    if logger is None:
        return used
    if not used:
        logger.warning('PreciseBN: the training loader gave no batch; the '
                       'statistics are left as they are')
    elif used < num_batches:
        logger.warning(f'PreciseBN: the training loader gave {used} '
                       f'batches, fewer than num_batches={num_batches}; '
                       f'the statistics use all {used}')
    else:
        logger.info(f'PreciseBN: done, {used} batches')
    return used


def _restore_modes(modes: Dict[nn.Module, bool]) -> None:
    for module, training in modes.items():
        module.training = training


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'PreciseBNHook: {name} must be a positive int, '
                         f'got {value!r}')
    return value


@HOOKS.register_module()
class PreciseBNHook(Hook):
    """Recompute the BN statistics on ``num_batches`` training batches
    every ``interval`` epochs and after the last epoch, before validation
    and before the epoch's checkpoint is saved (see the module docstring).

    Args:
        num_batches: Training batches to average over (PySlowFast: 200).
            A loader with fewer batches is used whole (with a warning).
        interval: Every this many epochs (the last epoch always).
        log_interval: A progress line every this many batches.
    """

    # above SyncBuffersHook (NORMAL) and CheckpointHook (VERY_LOW)
    priority = 'ABOVE_NORMAL'

    def __init__(self, num_batches: int = 200, interval: int = 1,
                 log_interval: int = 50) -> None:
        self.num_batches = _positive_int('num_batches', num_batches)
        self.interval = _positive_int('interval', interval)
        self.log_interval = _positive_int('log_interval', log_interval)
        # batches used by the last run (None before the first)
        self.last_num_batches: Optional[int] = None

    def before_train(self, runner) -> None:
        if isinstance(runner.train_loop, IterBasedTrainLoop):
            raise ValueError(
                'PreciseBNHook needs an epoch-based train loop '
                '(train_cfg.by_epoch=True): an iteration-based loop '
                'validates and saves checkpoints while its train loader '
                'is in use')

    def after_train_epoch(self, runner) -> None:
        if (self.every_n_epochs(runner, self.interval)
                or self.is_last_train_epoch(runner)):
            self.run(runner)

    def run(self, runner) -> int:
        """Recompute the statistics of ``runner.model`` (unwrapped) on its
        train dataloader; returns the number of batches used."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        self.last_num_batches = update_bn_stats(
            model, runner.train_dataloader, self.num_batches,
            runner.logger, self.log_interval)
        return self.last_num_batches
