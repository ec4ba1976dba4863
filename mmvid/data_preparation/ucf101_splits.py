"""UCF-101's official splits (``ucfTrainTestlist``).

- ``classInd.txt``: ``<1-based index> <ClassName>``, indices 1..101 in
  order;
- ``trainlist0N.txt``: ``<Class>/<video>.avi <1-based label>``;
- ``testlist0N.txt``: ``<Class>/<video>.avi`` (label from the class folder).

Labels in the lists are 0-based (classInd index minus one). Videos are named
``v_<Class>_g<XX>_c<YY>.avi``: clips of one group ``gXX`` come from one long
video, and the official splits keep each group in train or in test, never in
both (:func:`check_groups_apart`).
"""
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence

from .split_lists import (SplitEntry, check_disjoint, check_split,
                          check_unique, check_video_name, read_lines,
                          split_line)

GROUP_RE = re.compile(r'^v_(?P<cls>.+)_g(?P<group>\d+)_c\d+\.avi$')


def read_class_ind(path: str) -> List[str]:
    """Class names of ``classInd.txt`` in label order.

    Raises:
        ValueError: A malformed line, or indices that are not 1, 2, ... in
            order, or a repeated name (naming the file and line).
    """
    classes: List[str] = []
    for lineno, raw in enumerate(read_lines(path), 1):
        parts = split_line(raw, path, lineno, (2, ))
        if parts is None:
            continue
        if parts[0] != str(len(classes) + 1):
            raise ValueError(f'{path} line {lineno}: expected index '
                             f'{len(classes) + 1}, got {parts[0]!r}')
        if parts[1] in classes:
            raise ValueError(f'{path} line {lineno}: class {parts[1]!r} '
                             'repeats')
        classes.append(parts[1])
    if not classes:
        raise ValueError(f'{path}: no classes')
    return classes


def ucf101_group(video: str, where: str) -> str:
    """The group ``<Class>_gXX`` of ``<Class>/v_<Class>_gXX_cYY.avi``."""
    folder, _, name = video.rpartition('/')
    match = GROUP_RE.match(name)
    if match is None or match['cls'] != folder:
        raise ValueError(f'{where}: {video!r} is not named '
                         '<Class>/v_<Class>_gXX_cYY.avi')
    return f'{folder}_g{match["group"]}'


def check_groups_apart(train: Sequence[SplitEntry],
                       test: Sequence[SplitEntry]) -> None:
    """No group ``<Class>_gXX`` has clips in both train and test.

    Raises:
        ValueError: Naming the group and a train and a test line of it.
    """
    train_at = {}
    for entry in train:
        train_at.setdefault(ucf101_group(entry.video, entry.where), entry)
    for entry in test:
        group = ucf101_group(entry.video, entry.where)
        if group in train_at:
            raise ValueError(
                f'group {group} is in both train ({train_at[group].where}: '
                f'{train_at[group].video}) and test ({entry.where}: '
                f'{entry.video}); the official splits keep groups apart')


def _read_list(path: str, index: Dict[str, int],
               labeled: bool) -> List[SplitEntry]:
    entries = []
    for lineno, raw in enumerate(read_lines(path), 1):
        parts = split_line(raw, path, lineno, (2, ) if labeled else (1, ))
        if parts is None:
            continue
        where = f'{path} line {lineno}'
        video = parts[0]
        folder, _, name = video.rpartition('/')
        check_video_name(name, where)
        if folder not in index:
            raise ValueError(f'{where}: class folder {folder!r} of '
                             f'{video!r} is not in classInd.txt')
        label = index[folder]
        if labeled and parts[1] != str(label + 1):
            raise ValueError(f'{where}: label {parts[1]!r} does not match '
                             f'class {folder} (index {label + 1} in '
                             'classInd.txt)')
        entries.append(SplitEntry(video, label, path, lineno))
    return entries


def read_ucf101_split(split_dir: str, split: int,
                      classes: Optional[Sequence[str]] = None
                      ) -> Dict[str, List[SplitEntry]]:
    """The train and test videos of one UCF-101 split.

    Args:
        split_dir (str): The ``ucfTrainTestlist`` folder.
        split (int): 1, 2 or 3.
        classes (Sequence[str], optional): The expected class names in
            label order (the label map); ``classInd.txt`` must match them.

    Returns:
        dict: ``{'train': [...], 'test': [...], 'classes': [...]}``, the
        lists in file order.

    Raises:
        ValueError: A malformed line, an unknown class, a label that does
            not match the class folder, a video listed twice, in both
            subsets, or a group in both (naming the file and line).
    """
    check_split(split)
    class_ind = osp.join(split_dir, 'classInd.txt')
    found = read_class_ind(class_ind)
    if classes is not None and found != list(classes):
        raise ValueError(f'{class_ind}: its {len(found)} classes differ from '
                         f'the {len(classes)} given (the label map)')
    classes = found
    index = {name: i for i, name in enumerate(classes)}
    subsets = {
        'train': _read_list(osp.join(split_dir, f'trainlist0{split}.txt'),
                            index, labeled=True),
        'test': _read_list(osp.join(split_dir, f'testlist0{split}.txt'),
                           index, labeled=False)}
    for subset, entries in subsets.items():
        check_unique(entries, f'the {subset} subset of split {split}')
    check_disjoint(subsets['train'], subsets['test'])
    check_groups_apart(subsets['train'], subsets['test'])
    return dict(subsets, classes=classes)
