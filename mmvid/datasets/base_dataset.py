"""``BaseActionDataset``: annotation lists, per-sample random generators and
bad-sample handling, on top of mmengine's ``BaseDataset``.

Per-sample randomness
    ``dataset[index]`` accepts any ``index >= 0``: ``epoch, idx =
    divmod(index, len(dataset))``. The sample gets ``results['rng'] =
    np.random.default_rng([seed, epoch, idx])``, so its augmentation depends
    only on (seed, epoch, idx), never on the number of loader workers or on
    which worker loads it. :class:`~mmvid.datasets.samplers.EpochSeedSampler`
    yields ``idx + epoch * len(dataset)`` so that the draws change every
    epoch. ``seed=None`` draws the seed once from numpy's global generator at
    construction, so a run that seeds numpy first (``--seed``) is
    reproducible.

Bad samples
    Only :class:`~mmvid.datasets.errors.BadSampleError` (one sample's data
    cannot be read) is handled; every other exception propagates.

    - ``on_error='raise'``: it is raised again with the dataset index and the
      sample's file added to the message.
    - ``on_error='skip'``: it is logged (WARNING, file and reason) and the next
      index (``idx + 1``, wrapping, same epoch) is loaded instead, up to
      ``max_skip_retries`` times; then a ``RuntimeError`` says how many
      consecutive samples failed, so a broken data set never loops forever.
      The returned sample lists the skips it made in its data sample's
      metainfo (``data['data_samples'].skipped``: a list of ``(index, file,
      reason)``, ``[]`` when none), where a
      :class:`~mmvid.engine.hooks.SkippedSamplesHook` in the main process
      counts them, whatever the number of workers. (A pipeline that does not
      pack a ``data_samples`` element records nothing; its skips are only
      logged and counted in ``num_skipped`` of the process that loaded
      them.)
    - In val/test (``test_mode``) the default is ``'skip'``: a bad video
      must not end a training run at its first validation. The neighbour
      that stands in for a skipped sample carries the skipped sample's
      index, file and label, marked ``stand_in_for`` in its metainfo, so
      that the metrics leave it out (and say ``N of M`` videos) and
      ``DumpScores`` writes a NaN row for it: never another video's scores.
"""
import logging
import operator
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import join_path
from mmengine.logging import print_log

from mmvid.registry import TRANSFORMS

from .annotation import Field, load_label_map, parse_annotation_file
from .errors import BadSampleError

SkipRecord = Tuple[int, str, str]

ON_ERROR = ('raise', 'skip')
MODALITIES = ('RGB', 'Flow')


def _check_int(name: str, value, minimum: int, allow_none: bool = False
               ) -> None:
    if value is None and allow_none:
        return
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or value < minimum):
        raise ValueError(f'{name} must be an int >= {minimum}'
                         f'{" or None" if allow_none else ""}, got {value!r}')


class BaseActionDataset(BaseDataset):
    """An action-recognition dataset read from an annotation list.

    Subclasses set ``PREFIX_KEY`` (the ``data_prefix`` key), ``PATH_KEY``
    (the data info key joined with that prefix, named in warnings), and
    implement :meth:`annotation_fields`.

    Args:
        ann_file: The annotation list (joined with ``data_root`` when
            relative).
        pipeline: Transforms: callables, or config dicts built with mmvid's
            ``TRANSFORMS`` (which also finds mmengine's and mmcv's), so no
            default scope is needed.
        data_prefix: ``dict(<PREFIX_KEY>=folder)``; the folder is joined
            with each line's path (and with ``data_root`` when relative).
        test_mode: The dataset is for validation or testing.
        multi_class: Lines carry several labels; ``label`` is a float32
            multi-hot ``np.ndarray [num_classes]``.
        num_classes: The number of classes; required by ``multi_class``
            unless ``label_file`` gives it. When known, labels are checked to
            be ``< num_classes``.
        start_index: The index of the first frame, put into every sample.
        modality: ``'RGB'`` or ``'Flow'``, put into every sample.
        label_file: A label map (one class name per line); its names become
            ``metainfo['classes']``.
        on_error: ``'raise'`` or ``'skip'`` on a ``BadSampleError`` (default:
            ``'skip'`` in test mode, else ``'raise'``; see the
            module docstring).
        max_skip_retries: With ``'skip'``, how many following samples to try
            before giving up with a ``RuntimeError``.
        seed: Seed of the per-sample generators, an int >= 0; ``None`` draws
            one from numpy's global generator.
        data_root: Root folder for a relative ``ann_file`` and ``data_prefix``.
        indices: Keep only these samples (or the first ``indices``), as in
            mmengine's ``BaseDataset``.
        lazy_init: Read the annotation list at the first access instead of
            now.
    """

    PREFIX_KEY: str = ''
    PATH_KEY: str = ''
    # indices >= len(self) carry the epoch (see EpochSeedSampler)
    accepts_epoch_indices: bool = True

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: Optional[dict] = None,
                 test_mode: bool = False,
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'RGB',
                 label_file: Optional[str] = None,
                 on_error: Optional[str] = None,
                 max_skip_retries: int = 10,
                 seed: Optional[int] = None,
                 data_root: str = '',
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False) -> None:
        name = type(self).__name__
        if data_prefix is None:
            data_prefix = {self.PREFIX_KEY: ''}
        if not isinstance(data_prefix, dict) or set(data_prefix) != {
                self.PREFIX_KEY}:
            raise ValueError(
                f'{name}: data_prefix must be dict({self.PREFIX_KEY}=folder), '
                f'got {data_prefix!r}')
        if on_error is None:
            on_error = 'skip' if test_mode else 'raise'
        if on_error not in ON_ERROR:
            raise ValueError(f'{name}: on_error must be one of {ON_ERROR}, '
                             f'got {on_error!r}')
        if modality not in MODALITIES:
            raise ValueError(f'{name}: modality must be one of {MODALITIES}, '
                             f'got {modality!r}')
        _check_int(f'{name}: max_skip_retries', max_skip_retries, 1)
        _check_int(f'{name}: start_index', start_index, 0)
        _check_int(f'{name}: num_classes', num_classes, 1, allow_none=True)
        _check_int(f'{name}: seed', seed, 0, allow_none=True)

        classes = None if label_file is None else load_label_map(label_file)
        if classes is not None:
            if num_classes is None:
                num_classes = len(classes)
            elif num_classes != len(classes):
                raise ValueError(
                    f'{name}: num_classes={num_classes} but label_file '
                    f'{label_file} names {len(classes)} classes')
        if multi_class and num_classes is None:
            raise ValueError(f'{name}: multi_class=True needs num_classes '
                             '(or a label_file to count the classes)')

        self.multi_class = bool(multi_class)
        self.num_classes = None if num_classes is None else int(num_classes)
        self.start_index = int(start_index)
        self.modality = modality
        self.label_file = label_file
        self.on_error = on_error
        self.max_skip_retries = int(max_skip_retries)
        self.seed = (int(np.random.randint(2**31 - 1)) if seed is None else
                     int(seed))
        self.num_skipped = 0
        metainfo = None if classes is None else dict(classes=classes)
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=data_prefix,
            indices=indices,
            pipeline=[TRANSFORMS.build(t) if isinstance(t, dict) else t
                      for t in pipeline],
            test_mode=test_mode,
            lazy_init=lazy_init)

    # annotation -----------------------------------------------------------

    def annotation_fields(self) -> Tuple[Field, ...]:
        """The columns of a line before the label(s)."""
        raise TypeError(f'{type(self).__name__} must define '
                        'annotation_fields() (VideoDataset and RawframeDataset '
                        'do)')

    def annotation_delimiter(self) -> str:
        """The column separator of the annotation list."""
        return ' '

    def load_data_list(self) -> List[dict]:
        """Parse ``ann_file`` and join each path with ``data_prefix``.

        Raises:
            ValueError: A malformed line, or a list without samples.
        """
        data_list = parse_annotation_file(
            self.ann_file,
            self.annotation_fields(),
            delimiter=self.annotation_delimiter(),
            multi_class=self.multi_class,
            num_classes=self.num_classes,
            require_labels=not self.test_mode,
            note=lambda message: print_log(message, logger='current'))
        if not data_list:
            raise ValueError(f'{self.ann_file}: the annotation file has no '
                             'samples')
        prefix = self.data_prefix[self.PREFIX_KEY]
        if prefix:
            for info in data_list:
                info[self.PATH_KEY] = join_path(prefix, info[self.PATH_KEY])
        return data_list

    def get_data_info(self, idx: int) -> dict:
        """The data info of sample ``idx`` with ``sample_idx``,
        ``start_index`` and ``modality``."""
        info = super().get_data_info(idx)
        info['start_index'] = self.start_index
        info['modality'] = self.modality
        return info

    # loading --------------------------------------------------------------

    def split_index(self, index: int) -> Tuple[int, int]:
        """``index`` -> ``(epoch, idx)``; ``-len <= index < 0`` counts from
        the end (epoch 0).

        Raises:
            IndexError: ``index < -len(self)``.
        """
        index = operator.index(index)
        length = len(self)
        if index < 0:
            if index < -length:
                raise IndexError(f'index {index} is out of range for '
                                 f'{type(self).__name__} of length {length}')
            index += length
        return divmod(index, length)

    def sample_rng(self, epoch: int, idx: int) -> np.random.Generator:
        """The generator of sample ``idx`` in ``epoch``."""
        return np.random.default_rng([self.seed, epoch, idx])

    def prepare_sample(self, epoch: int, idx: int):
        """Run the pipeline on sample ``idx`` with its generator."""
        results = self.get_data_info(idx)
        results['rng'] = self.sample_rng(epoch, idx)
        data = self.pipeline(results)
        if data is None:
            raise RuntimeError(
                f'the pipeline returned None for sample {idx} '
                f'({results[self.PATH_KEY]}); mmvid transforms raise '
                'BadSampleError for unreadable data instead')
        return data

    def sample_path(self, idx: int) -> str:
        """The file or folder of sample ``idx``."""
        return self.get_data_info(idx)[self.PATH_KEY]

    def __getitem__(self, index: int):
        """The pipeline's output for ``index = epoch * len(self) + idx``.

        Raises:
            BadSampleError: With ``on_error='raise'``, the sample's data
                cannot be read (the message adds the index and the file).
            RuntimeError: With ``on_error='skip'``, this sample and the
                following ``max_skip_retries`` all failed.
        """
        if not self._fully_initialized:
            self.full_init()
        epoch, idx = self.split_index(index)
        skipped: List[SkipRecord] = []
        last_error: Optional[BadSampleError] = None
        attempts = min(self.max_skip_retries + 1, len(self))
        for attempt in range(attempts):
            current = (idx + attempt) % len(self)
            try:
                data = self.prepare_sample(epoch, current)
            except BadSampleError as err:
                path = self.sample_path(current)
                if self.on_error == 'raise':
                    raise BadSampleError(
                        f'{type(self).__name__} index {current} ({path}): '
                        f'{err}') from err
                last_error = err
                skipped.append((current, path, str(err)))
                self.num_skipped += 1
                print_log(f'skipping bad sample {current} ({path}): {err}',
                          logger='current', level=logging.WARNING)
                continue
            data = self._record_skips(data, skipped)
            if self.test_mode and skipped and skipped[0][0] == idx:
                data = self._stand_in(data, idx, skipped[0])
            return data
        first, last = skipped[0][0], skipped[-1][0]
        raise RuntimeError(
            f'{len(skipped)} consecutive samples failed to load (indices '
            f'{first} to {last}, max_skip_retries={self.max_skip_retries}); '
            f'last error: {skipped[-1][2]}. Check the data, e.g. that '
            'data_prefix points at the right folder') from last_error

    def _stand_in(self, data, idx: int, skip: SkipRecord):
        """Mark ``data`` (a neighbour's) as standing in for sample ``idx``,
        which could not be read: its index, file, reason and label."""
        data_sample = _packed_data_sample(data)
        if data_sample is None:
            return data
        data_sample.set_metainfo(dict(
            sample_idx=idx, stand_in_for=dict(index=idx, file=skip[1],
                                              reason=skip[2])))
        label = self.get_data_info(idx)['label']
        if 'gt_label' in data_sample and hasattr(data_sample, 'set_gt_label'):
            data_sample.set_gt_label(label)
        return data

    @staticmethod
    def _record_skips(data, skipped: List[SkipRecord]):
        """Put ``skipped`` into the metainfo of ``data['data_samples']``.

        Only a data element is written to: a list added to a plain dict
        would break the collation of samples with and without skips.
        """
        data_sample = _packed_data_sample(data)
        if data_sample is not None:
            data_sample.set_metainfo(dict(skipped=skipped))
        return data


def _packed_data_sample(data):
    """The data element a pipeline packed as ``data['data_samples']``, or
    None (a pipeline without ``PackActionInputs``)."""
    sample = data.get('data_samples') if isinstance(data, dict) else None
    return sample if hasattr(sample, 'set_metainfo') else None
