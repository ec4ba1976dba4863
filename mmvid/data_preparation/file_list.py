"""Annotation lists for ``RawframeDataset`` / ``VideoDataset``.

Line formats (paths relative to the data prefix):

- rawframes: ``frame_dir total_frames label``, e.g. ``jump/v_01 163 4``;
- videos: ``path label``, e.g. ``jump/v_01.mp4 4``.

Two sources:

- a class-per-folder tree ``root/<class>/<video>`` (:func:`list_from_tree`):
  labels are the indices of the sorted class folder names (or of a given
  class list);
- a Kinetics CSV ``label,youtube_id,time_start,time_end,split[,is_cc]``
  (:func:`list_from_kinetics_csv`). Clips are named as the official
  ActivityNet crawler names them: ``{youtube_id}_{time_start:06d}_
  {time_end:06d}.mp4``, e.g. ``---QUuC4vJs_000084_000094.mp4``. The crawler
  puts them in one folder per label, named with the label as is (spaces
  included; unlabeled test clips in ``test/``); mmaction2's rename step
  replaces the spaces with ``_``; the CVDF archives are flat. Labels are the
  indices of the sorted label names (or of a given class list).

A rawframe clip's ``total_frames`` is the number of files in its folder that
match the frame template (``img_*.jpg`` for ``img_{:05}.jpg``).
"""
import csv
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .atomic import write_text_atomic

FORMATS = ('rawframes', 'videos')
CLASS_DIRS = ('underscore', 'label', 'flat')
KINETICS_COLUMNS = ('youtube_id', 'time_start', 'time_end')


class ListItem(NamedTuple):
    """One line of an annotation list.

    Attributes:
        path (str): Frame folder or video, relative to the data prefix.
        label (int): Class index (-1: unlabeled).
        total_frames (int or None): Frame count (rawframes only).
    """
    path: str
    label: int
    total_frames: Optional[int] = None


@dataclass
class FileList:
    """Items, the class names (label order) and what was left out.

    Attributes:
        items (list[ListItem]): The lines, in source order.
        classes (list[str]): Class names; label i is ``classes[i]``.
        skipped (dict[str, str]): Left-out path -> reason (missing, no
            frames).
    """
    items: List[ListItem]
    classes: List[str]
    skipped: Dict[str, str] = field(default_factory=dict)


def check_format(fmt: str) -> str:
    """``fmt`` checked to be 'rawframes' or 'videos'."""
    if fmt not in FORMATS:
        raise ValueError(f'format must be one of {FORMATS}, got {fmt!r}')
    return fmt


def count_frames(frame_dir: str, filename_tmpl: str = 'img_{:05}.jpg') -> int:
    """Number of files in ``frame_dir`` named like ``filename_tmpl``
    (same text before and after the ``{}`` field)."""
    head, sep, rest = filename_tmpl.partition('{')
    tail = rest.partition('}')[2]
    if not sep or '{' in tail:
        raise ValueError('filename_tmpl must have exactly one {} field, got '
                         f'{filename_tmpl!r}')
    return sum(1 for name in os.listdir(frame_dir)
               if name.startswith(head) and name.endswith(tail)
               and len(name) > len(head) + len(tail))


def _item(root: str, rel: str, label: int, fmt: str, filename_tmpl: str,
          skipped: Dict[str, str]) -> Optional[ListItem]:
    """The item for ``rel`` (checked under ``root`` unless root is None)."""
    if root is None:
        return ListItem(rel, label)
    path = osp.join(root, rel)
    if fmt == 'videos':
        if not osp.isfile(path):
            skipped[rel] = 'missing'
            return None
        return ListItem(rel, label)
    if not osp.isdir(path):
        skipped[rel] = 'missing'
        return None
    total = count_frames(path, filename_tmpl)
    if total == 0:
        skipped[rel] = f'no frames named like {filename_tmpl}'
        return None
    return ListItem(rel, label, total)


def _class_index(classes: Sequence[str]) -> Dict[str, int]:
    classes = list(classes)
    if len(set(classes)) != len(classes):
        raise ValueError('classes has duplicates')
    return {name: i for i, name in enumerate(classes)}


def list_from_tree(root: str,
                   format: str = 'rawframes',
                   ext: str = 'mp4',
                   classes: Optional[Sequence[str]] = None,
                   filename_tmpl: str = 'img_{:05}.jpg') -> FileList:
    """List a class-per-folder tree ``root/<class>/<video>``.

    Args:
        root (str): The tree; list paths are relative to it.
        format (str): 'rawframes' (entries are frame folders) or 'videos'
            (entries are ``*.<ext>`` files).
        ext (str): Video extension, without the dot.
        classes (Sequence[str], optional): Class names in label order
            (e.g. the train label map for a val tree). Default: the sorted
            class folder names.
        filename_tmpl (str): Frame names, for counting frames.

    Returns:
        FileList: Items sorted by class folder then name; empty frame
        folders are skipped.

    Raises:
        ValueError: A class folder is not in ``classes``.
    """
    check_format(format)
    if not osp.isdir(root):
        raise FileNotFoundError(f'dataset folder {root} does not exist')
    folders = sorted(name for name in os.listdir(root)
                     if not name.startswith('.')
                     and osp.isdir(osp.join(root, name)))
    classes = list(folders if classes is None else classes)
    index = _class_index(classes)
    items, skipped = [], {}
    for cls in folders:
        if cls not in index:
            raise ValueError(
                f'class folder {osp.join(root, cls)} is not in the given '
                f'classes ({len(classes)} names)')
        for name in sorted(os.listdir(osp.join(root, cls))):
            path = osp.join(root, cls, name)
            if name.startswith('.'):
                continue
            if format == 'videos' and not (name.endswith('.' + ext)
                                           and osp.isfile(path)):
                continue
            if format == 'rawframes' and not osp.isdir(path):
                continue
            item = _item(root, f'{cls}/{name}', index[cls], format,
                         filename_tmpl, skipped)
            if item is not None:
                items.append(item)
    return FileList(items, classes, skipped)


def kinetics_clip_name(youtube_id: str, time_start: int,
                       time_end: int) -> str:
    """``{youtube_id}_{time_start:06d}_{time_end:06d}`` (no extension)."""
    return f'{youtube_id}_{time_start:06d}_{time_end:06d}'


def _seconds(value: str, column: str, where: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or number != int(number) or number < 0:
        raise ValueError(f'{where}: {column} must be a whole number of '
                         f'seconds, got {value!r}')
    return int(number)


def _check_field_count(row: Dict[Optional[str], object],
                       header: Sequence[str], where: str) -> None:
    """A ``csv.DictReader`` row checked to have the header's fields (it
    keeps extra fields under the key None and gives None for missing
    ones)."""
    extra = row.get(None) or []
    got = sum(1 for key, value in row.items()
              if key is not None and value is not None) + len(extra)
    if got != len(header):
        raise ValueError(f'{where}: expected the {len(header)} fields of '
                         f'the header ({",".join(header)}), got {got}')


def list_from_kinetics_csv(csv_path: str,
                           root: Optional[str] = None,
                           format: str = 'videos',
                           ext: str = 'mp4',
                           class_dirs: str = 'underscore',
                           classes: Optional[Sequence[str]] = None,
                           filename_tmpl: str = 'img_{:05}.jpg') -> FileList:
    """List the clips of a Kinetics annotation CSV.

    Args:
        csv_path (str): CSV with a header naming at least ``youtube_id,
            time_start, time_end`` (and ``label``; without it every clip is
            unlabeled, label -1).
        root (str, optional): Where the clips are. Given, clips missing
            there are skipped and rawframe folders are counted; required for
            'rawframes'.
        format (str): 'videos' or 'rawframes'.
        ext (str): Video extension, without the dot.
        class_dirs (str): Class folder of a clip: 'underscore' (label with
            spaces as ``_``, mmaction2), 'label' (label as is, crawler) or
            'flat' (no class folder). Unlabeled clips go to ``test/``.
        classes (Sequence[str], optional): Label names in label order.
            Default: the sorted labels of the CSV.
        filename_tmpl (str): Frame names, for counting frames.

    Returns:
        FileList: Items in CSV order.

    Raises:
        ValueError: A missing column, a bad time or a label not in
            ``classes`` (naming the CSV line).
    """
    check_format(format)
    if class_dirs not in CLASS_DIRS:
        raise ValueError(f'class_dirs must be one of {CLASS_DIRS}, got '
                         f'{class_dirs!r}')
    if format == 'rawframes' and root is None:
        raise ValueError('format="rawframes" needs root to count frames')
    with open(csv_path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in KINETICS_COLUMNS if c not in header]
        if missing:
            raise ValueError(f'{csv_path}: header {header} lacks columns '
                             f'{missing}')
        rows = [(reader.line_num, row) for row in reader]
    for line, row in rows:
        _check_field_count(row, header, f'{csv_path} line {line}')
    labeled = 'label' in header
    if classes is None:
        classes = sorted({row['label'] for _, row in rows}) if labeled else []
    index = _class_index(classes)
    items, skipped = [], {}
    for line, row in rows:
        where = f'{csv_path} line {line}'
        start = _seconds(row['time_start'], 'time_start', where)
        end = _seconds(row['time_end'], 'time_end', where)
        name = kinetics_clip_name(row['youtube_id'], start, end)
        if labeled:
            if row['label'] not in index:
                raise ValueError(f'{where}: label {row["label"]!r} is not in '
                                 f'the given classes ({len(classes)} names)')
            label, folder = index[row['label']], row['label']
        else:
            label, folder = -1, 'test'
        if class_dirs == 'underscore':
            folder = folder.replace(' ', '_')
        rel = name if class_dirs == 'flat' else f'{folder}/{name}'
        if format == 'videos':
            rel += '.' + ext
        item = _item(root, rel, label, format, filename_tmpl, skipped)
        if item is not None:
            items.append(item)
    return FileList(items, list(classes), skipped)


def shuffle_items(items: Sequence[ListItem], seed: int) -> List[ListItem]:
    """``items`` in a random order fixed by ``seed``."""
    order = np.random.default_rng(seed).permutation(len(items))
    return [items[i] for i in order]


def split_items(items: Sequence[ListItem], val_ratio: float,
                seed: int = 0) -> Tuple[List[ListItem], List[ListItem]]:
    """Split into (train, val), per class: ``round(n * val_ratio)`` random
    items of each class go to val. Both keep the input order."""
    if not 0 < val_ratio < 1:
        raise ValueError(f'val_ratio must be in (0, 1), got {val_ratio!r}')
    rng = np.random.default_rng(seed)
    by_label: Dict[int, List[int]] = {}
    for i, item in enumerate(items):
        by_label.setdefault(item.label, []).append(i)
    val = set()
    for label in sorted(by_label):
        members = by_label[label]
        chosen = rng.permutation(len(members))[:round(len(members) *
                                                      val_ratio)]
        val.update(members[j] for j in chosen)
    return ([item for i, item in enumerate(items) if i not in val],
            [item for i, item in enumerate(items) if i in val])


def format_line(item: ListItem, format: str) -> str:
    """One annotation line (no newline)."""
    check_format(format)
    if ' ' in item.path:
        raise ValueError(f'path {item.path!r} has a space; annotation lines '
                         'are space-separated (rename it)')
    if format == 'videos':
        return f'{item.path} {item.label}'
    if item.total_frames is None:
        raise ValueError(f'{item.path}: a rawframes line needs total_frames')
    return f'{item.path} {item.total_frames} {item.label}'


def write_file_list(items: Sequence[ListItem], path: str,
                    format: str) -> None:
    """Write an annotation list (atomically)."""
    write_text_atomic(
        path, ''.join(format_line(item, format) + '\n' for item in items))


def write_label_map(classes: Sequence[str], path: str) -> None:
    """Write class names, one a line, in label order (atomically)."""
    write_text_atomic(path, ''.join(f'{name}\n' for name in classes))


def read_label_map(path: str) -> List[str]:
    """Class names of a label map file (one a line; blank lines ignored)."""
    with open(path, encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip()]
