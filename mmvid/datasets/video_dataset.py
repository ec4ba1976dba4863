"""``VideoDataset``: a list of video files with their labels."""
from typing import Callable, Optional, Sequence, Tuple, Union

from mmvid.registry import DATASETS
from .annotation import Field
from .base_dataset import BaseActionDataset


@DATASETS.register_module()
class VideoDataset(BaseActionDataset):
    """Videos listed one per line as ``path label``.

    Line formats (see :mod:`mmvid.datasets.annotation`):

    - ``path label``, e.g. ``some/path/000.mp4 1``;
    - ``path label1 label2 ...`` with ``multi_class=True`` and
      ``num_classes``: ``label`` is a float32 multi-hot ``np.ndarray
      [num_classes]``;
    - ``path`` alone: ``label = -1`` (unlabeled, for inference lists).

    Each sample dict has ``filename`` (``data_prefix['video']`` joined with
    the path), ``label``, ``start_index`` (0: decoded frames count from 0),
    ``modality``, ``sample_idx`` and ``rng``; the video decoders add
    ``total_frames``.

    Args:
        ann_file: The annotation list.
        pipeline: Transforms (config dicts or callables).
        data_prefix: ``dict(video=folder)`` holding the videos.
        delimiter: Column separator; ``' '`` splits on any whitespace, any
            other string splits exactly there (paths may then have spaces).
        start_index: Index of the first frame. Defaults to 0.
        **kwargs: The other arguments of :class:`BaseActionDataset`
            (``test_mode``, ``multi_class``, ``num_classes``, ``modality``,
            ``label_file``, ``on_error``, ``max_skip_retries``, ``seed``,
            ``data_root``, ``indices``, ``lazy_init``); unknown names raise
            ``TypeError``.
    """

    PREFIX_KEY = 'video'
    PATH_KEY = 'filename'

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: Optional[dict] = None,
                 delimiter: str = ' ',
                 start_index: int = 0,
                 **kwargs) -> None:
        if not isinstance(delimiter, str) or not delimiter:
            raise ValueError('VideoDataset: delimiter must be a non-empty '
                             f'string, got {delimiter!r}')
        self.delimiter = delimiter
        super().__init__(ann_file, pipeline, data_prefix=data_prefix,
                         start_index=start_index, **kwargs)

    def annotation_fields(self) -> Tuple[Field, ...]:
        return (Field('filename', 'path'), )

    def annotation_delimiter(self) -> str:
        return self.delimiter
