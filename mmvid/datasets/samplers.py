"""``EpochSeedSampler`` and ``limit_worker_threads`` for data loaders.

``EpochSeedSampler`` is mmengine's ``DefaultSampler`` (same shuffling,
padding and split across ranks) whose indices carry the epoch:
``idx + epoch * len(dataset)``. A :class:`BaseActionDataset` decodes that
into ``(epoch, idx)`` and seeds the sample's generator from
``(seed, epoch, idx)``, so the augmentation

- changes from epoch to epoch, and
- does not depend on the number of workers, on which worker loads a sample,
  or on the batch size.

The epoch comes from ``set_epoch``, which mmengine's ``DistSamplerSeedHook``
(one of the runner's default hooks) calls before every training epoch.

Only datasets that declare ``accepts_epoch_indices = True``
(``BaseActionDataset`` and its subclasses) are accepted: mmengine's dataset
wrappers reduce an index modulo their length (``RepeatDataset``) or reject
it (``ConcatDataset``), so the epoch would be lost silently or fail late.

Config::

    train_dataloader = dict(
        sampler=dict(type='EpochSeedSampler', shuffle=True),
        worker_init_fn=dict(type='mmvid.limit_worker_threads'), ...)

The ``mmvid.`` prefix is needed there: mmengine's runner looks
``worker_init_fn`` up with ``FUNCTIONS.get``, which ignores the default
scope (``DATA_SAMPLERS.build``, used for samplers, honours it).
"""
from typing import Iterator, Optional, Sized

import torch
from mmengine.dataset import DefaultSampler

from mmvid.registry import DATA_SAMPLERS, FUNCTIONS
from .transforms.threads import limit_decoder_threads


@DATA_SAMPLERS.register_module()
class EpochSeedSampler(DefaultSampler):
    """``DefaultSampler`` yielding ``idx + epoch * len(dataset)``.

    Args:
        dataset: A dataset that decodes indices ``>= len(dataset)`` and says
            so with ``accepts_epoch_indices = True``.
        shuffle: Shuffle the order (seeded by ``seed + epoch``, as mmengine).
        seed: Shuffle seed, the same on every rank; ``None`` syncs a random
            one across ranks.
        round_up: Pad the indices to a multiple of the world size.
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None,
                 round_up: bool = True) -> None:
        if not getattr(dataset, 'accepts_epoch_indices', False):
            raise TypeError(
                'EpochSeedSampler needs a dataset that decodes '
                '`idx + epoch * len(dataset)` indices (a BaseActionDataset, '
                'which sets accepts_epoch_indices=True); got '
                f'{type(dataset).__name__}. Use DefaultSampler for it')
        super().__init__(dataset, shuffle=shuffle, seed=seed,
                         round_up=round_up)

    def __iter__(self) -> Iterator[int]:
        """The indices of this rank for the current epoch."""
        offset = self.epoch * len(self.dataset)
        return (idx + offset for idx in super().__iter__())


@FUNCTIONS.register_module()
def limit_worker_threads(worker_id: int, num_threads: int = 1) -> None:
    """Limit OpenCV's and torch's intra-op threads in a loader worker.

    Calls :func:`~mmvid.datasets.transforms.threads.limit_decoder_threads`
    (OpenCV's thread pool; OpenCL off) and ``torch.set_num_threads``.

    With ``N`` workers each running OpenCV and torch thread pools as wide as
    the machine, the CPU is oversubscribed and decoders can hang; one
    thread per worker is faster and safe. Use it as the data loader's
    ``worker_init_fn`` (``dict(type='mmvid.limit_worker_threads')``). It
    replaces mmengine's default worker seeding of numpy's global generator,
    which mmvid does not need: every sample draws from its own
    ``results['rng']`` (torch still seeds torch and ``random`` per worker).

    Args:
        worker_id: The worker's id (unused; the ``worker_init_fn`` signature).
        num_threads: Threads per worker, >= 1.
    """
    del worker_id
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) \
            or num_threads < 1:
        raise ValueError(f'num_threads must be an int >= 1, got '
                         f'{num_threads!r}')
    limit_decoder_threads(num_threads)
    torch.set_num_threads(num_threads)
