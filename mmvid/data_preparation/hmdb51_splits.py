"""HMDB-51's official splits (``testTrainMulti_7030_splits``).

One file per class and split, ``<class>_test_split<N>.txt`` (class names
may contain underscores), each line ``<video>.avi <id>``: id 1 = train,
2 = test, 0 = not used in that split. Videos are ``<class>/<video>.avi``;
labels are the class's index in the label map
(``tools/data/hmdb51/label_map.txt``, alphabetical).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

from .split_lists import (SplitEntry, check_disjoint, check_split,
                          check_unique, check_video_name, read_lines,
                          split_line)

SUBSET_IDS = {'1': 'train', '2': 'test', '0': None}


def split_files(split_dir: str, split: int) -> Dict[str, str]:
    """Class name -> its ``<class>_test_split<split>.txt`` in
    ``split_dir``."""
    check_split(split)
    if not osp.isdir(split_dir):
        raise FileNotFoundError(f'split folder {split_dir} does not exist')
    suffix = f'_test_split{split}.txt'
    return {name[:-len(suffix)]: osp.join(split_dir, name)
            for name in sorted(os.listdir(split_dir))
            if name.endswith(suffix) and len(name) > len(suffix)}


def read_hmdb51_split(split_dir: str, split: int,
                      classes: Optional[Sequence[str]] = None
                      ) -> Dict[str, List[SplitEntry]]:
    """The train and test videos of one HMDB-51 split.

    Args:
        split_dir (str): The ``testTrainMulti_7030_splits`` folder.
        split (int): 1, 2 or 3.
        classes (Sequence[str], optional): Class names in label order (the
            label map). Default: the sorted class names of the files.

    Returns:
        dict: ``{'train': [...], 'test': [...]}``, class by class in label
        order, each in file order.

    Raises:
        ValueError: The split's files do not name exactly ``classes``; a
            malformed line, an unknown id, a video listed twice or in both
            train and test (naming the file and line).
    """
    files = split_files(split_dir, split)
    classes = sorted(files) if classes is None else list(classes)
    if sorted(files) != sorted(classes) or len(set(classes)) != len(classes):
        absent = sorted(set(classes) - set(files))
        extra = sorted(set(files) - set(classes))
        raise ValueError(
            f'{split_dir}: the *_test_split{split}.txt files do not match '
            f'the {len(classes)} classes: no file for {absent[:5]}, files '
            f'for unknown classes {extra[:5]}')
    subsets: Dict[str, List[SplitEntry]] = {'train': [], 'test': []}
    for label, cls in enumerate(classes):
        source = files[cls]
        for lineno, raw in enumerate(read_lines(source), 1):
            parts = split_line(raw, source, lineno, (2, ))
            if parts is None:
                continue
            where = f'{source} line {lineno}'
            name = check_video_name(parts[0], where)
            if parts[1] not in SUBSET_IDS:
                raise ValueError(f'{where}: the id must be 0 (unused), 1 '
                                 f'(train) or 2 (test), got {parts[1]!r}')
            subset = SUBSET_IDS[parts[1]]
            if subset is not None:
                subsets[subset].append(
                    SplitEntry(f'{cls}/{name}', label, source, lineno))
    for subset, entries in subsets.items():
        check_unique(entries, f'the {subset} subset of split {split}')
    check_disjoint(subsets['train'], subsets['test'])
    return subsets
