"""``RawframeDataset``: folders of extracted frames with their labels."""
from typing import Callable, Optional, Sequence, Tuple, Union

from mmvid.registry import DATASETS
from .annotation import Field
from .base_dataset import BaseActionDataset


@DATASETS.register_module()
class RawframeDataset(BaseActionDataset):
    """Frame folders listed one per line as ``frame_dir total_frames label``.

    Line formats (see :mod:`mmvid.datasets.annotation`), whitespace
    separated:

    - ``frame_dir total_frames label``, e.g. ``some/directory-1 163 1``;
    - with ``with_offset=True``: ``frame_dir offset total_frames label``;
    - ``... label1 label2 ...`` with ``multi_class=True`` and ``num_classes``:
      ``label`` is a float32 multi-hot ``np.ndarray [num_classes]``;
    - no label column: ``label = -1`` (unlabeled, for inference lists).

    Each sample dict has ``frame_dir`` (``data_prefix['img']`` joined with
    the folder), ``total_frames``, ``offset`` (0 unless ``with_offset``),
    ``label``, ``filename_tmpl``, ``start_index`` (1: frames on disk are
    ``img_00001.jpg ...``), ``modality``, ``sample_idx`` and ``rng``.

    Args:
        ann_file: The annotation list.
        pipeline: Transforms (config dicts or callables).
        data_prefix: ``dict(img=folder)`` holding the frame folders.
        filename_tmpl: Frame file name template, formatted with the frame
            index. Defaults to ``'img_{:05}.jpg'``.
        with_offset: Lines have an ``offset`` column after ``frame_dir``.
        start_index: Index of the first frame file. Defaults to 1.
        **kwargs: The other arguments of :class:`BaseActionDataset`
            (``test_mode``, ``multi_class``, ``num_classes``, ``modality``,
            ``label_file``, ``on_error``, ``max_skip_retries``, ``seed``,
            ``data_root``, ``indices``, ``lazy_init``); unknown names raise
            ``TypeError``.
    """

    PREFIX_KEY = 'img'
    PATH_KEY = 'frame_dir'

    def __init__(self,
                 ann_file: str,
                 pipeline: Sequence[Union[dict, Callable]],
                 data_prefix: Optional[dict] = None,
                 filename_tmpl: str = 'img_{:05}.jpg',
                 with_offset: bool = False,
                 start_index: int = 1,
                 **kwargs) -> None:
        try:
            distinct = filename_tmpl.format(1) != filename_tmpl.format(2)
        except (AttributeError, IndexError, KeyError, ValueError):
            distinct = False
        if not distinct:
            raise ValueError(
                'RawframeDataset: filename_tmpl must be a str.format template '
                f"of one frame index such as 'img_{{:05}}.jpg', got "
                f'{filename_tmpl!r}')
        if not isinstance(with_offset, bool):
            raise ValueError('RawframeDataset: with_offset must be a bool, '
                             f'got {with_offset!r}')
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
        super().__init__(ann_file, pipeline, data_prefix=data_prefix,
                         start_index=start_index, **kwargs)

    def annotation_fields(self) -> Tuple[Field, ...]:
        offset = ((Field('offset', 'offset', True), )
                  if self.with_offset else ())
        return (Field('frame_dir', 'frame_dir'), *offset,
                Field('total_frames', 'total_frames', True))

    def load_data_list(self):
        data_list = super().load_data_list()
        for info in data_list:
            info.setdefault('offset', 0)
        return data_list

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['filename_tmpl'] = self.filename_tmpl
        return info
