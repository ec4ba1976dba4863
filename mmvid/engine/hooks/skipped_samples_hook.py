"""``SkippedSamplesHook``: report the bad samples a dataset skipped."""
from typing import List, Optional, Sequence, Tuple, Union

from mmengine.dist import all_gather_object
from mmengine.hooks import Hook

from mmvid.registry import HOOKS

SkipRecord = Tuple[int, str, str]
MODES = ('train', 'val', 'test')


def skips_in_batch(data_batch: Union[dict, Sequence, None]
                   ) -> List[SkipRecord]:
    """The ``(index, file, reason)`` skips recorded in a collated batch.

    A dataset with ``on_error='skip'`` writes them into each data sample's
    metainfo (``skipped``); samples without it contribute nothing.
    """
    if not isinstance(data_batch, dict):
        return []
    data_samples = data_batch.get('data_samples')
    if not isinstance(data_samples, (list, tuple)):
        data_samples = [] if data_samples is None else [data_samples]
    records: List[SkipRecord] = []
    for data_sample in data_samples:
        metainfo = getattr(data_sample, 'metainfo', {})
        records.extend(tuple(r) for r in metainfo.get('skipped', ()))
    return records


@HOOKS.register_module()
class SkippedSamplesHook(Hook):
    """Counts the samples a dataset skipped (``on_error='skip'``) and logs a
    summary after every train epoch, validation and test.

    The skips travel with the batches (in the data samples' metainfo), so the
    count is exact whatever the number of loader workers; in distributed runs
    the ranks' skips are gathered before the summary. The log line (WARNING)
    reads e.g. ``skipped 3 bad samples in train epoch 2: a.mp4 (reason),
    b.mp4 (reason), ... and 1 more``; nothing is logged when nothing was
    skipped. The counters are reset after each summary.

    Args:
        max_listed: How many skipped files the summary names.
    """

    priority = 'LOW'

    def __init__(self, max_listed: int = 5) -> None:
        if (isinstance(max_listed, bool) or not isinstance(max_listed, int)
                or max_listed < 0):
            raise ValueError(f'max_listed must be an int >= 0, got '
                             f'{max_listed!r}')
        self.max_listed = max_listed
        self.records = {mode: [] for mode in MODES}
        # the last summary logged for each mode (None before the first)
        self.last_summary: dict = {mode: None for mode in MODES}

    def _after_iter(self, runner, batch_idx: int,
                    data_batch: Union[dict, Sequence, None] = None,
                    outputs: Optional[Union[Sequence, dict]] = None,
                    mode: str = 'train') -> None:
        self.records[mode].extend(skips_in_batch(data_batch))

    def _after_epoch(self, runner, mode: str = 'train') -> None:
        when = f'train epoch {runner.epoch + 1}' if mode == 'train' else mode
        self.report(runner, mode, when)

    def after_train(self, runner) -> None:
        # An iteration-based loop calls after_train_epoch only at its end.
        self.report(runner, 'train', 'training')

    def report(self, runner, mode: str, when: str) -> Optional[str]:
        """Log and reset the skips of ``mode``; returns the summary.

        Args:
            runner: The runner (its ``logger`` is used).
            mode: ``'train'``, ``'val'`` or ``'test'``.
            when: Names the period in the message (``train epoch 3``).
        """
        gathered = all_gather_object(self.records[mode])
        self.records[mode] = []
        records = [record for rank_records in gathered
                   for record in rank_records]
        if not records:
            return None
        message = self.summary(records, when)
        self.last_summary[mode] = message
        runner.logger.warning(message)
        return message

    def summary(self, records: List[SkipRecord], when: str) -> str:
        """``skipped N bad samples in <when>: file (reason), ...``."""
        files = {}
        for _, path, reason in records:
            files.setdefault(path, reason)
        listed = [f'{path} ({reason})'
                  for path, reason in list(files.items())[:self.max_listed]]
        if len(files) > self.max_listed:
            listed.append(f'... and {len(files) - self.max_listed} more')
        distinct = ('' if len(files) == len(records) else
                    f' ({len(files)} distinct files)')
        noun = 'sample' if len(records) == 1 else 'samples'
        return (f'skipped {len(records)} bad {noun}{distinct} in {when}: '
                f'{", ".join(listed)}')
