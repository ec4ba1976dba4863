"""Official split entries -> annotation lists (the part HMDB-51 and UCF-101
share).

A split reader (:mod:`.hmdb51_splits`, :mod:`.ucf101_splits`) gives
:class:`SplitEntry` records: a video ``<class>/<name>.avi`` with its label
and the split file line that named it. :func:`resolve_entries` finds each
one under the local dataset folder (a video file, or a frame folder
``<class>/<name>`` whose frames it counts) and gives the list items.

A video a split names but the local folder lacks is an error naming the
split file, its line and the missing path; with ``allow_missing`` it is left
out and counted (``N of M present``), never silently.
"""
import os.path as osp
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

from .file_list import ListItem, check_format, count_frames

SPLITS = (1, 2, 3)
SUBSETS = ('train', 'val')


class SplitEntry(NamedTuple):
    """One video of an official split.

    Attributes:
        video (str): ``<class>/<name>.avi`` as the dataset names it.
        label (int): 0-based class index.
        source (str): The split file that lists it.
        line (int): Its 1-based line there.
    """
    video: str
    label: int
    source: str
    line: int

    @property
    def where(self) -> str:
        """``<split file> line <n>``, for messages."""
        return f'{self.source} line {self.line}'


class Resolved(NamedTuple):
    """The list items of one subset and the entries left out as missing."""
    items: List[ListItem]
    missing: List[Tuple[SplitEntry, str]]

    def summary(self, name: str) -> str:
        """``<name>: N of M present`` (plus how many are left out)."""
        return presence_summary(name, len(self.items), len(self.missing),
                                'left out of the list')


def presence_summary(name: str, present: int, missing: int,
                     consequence: str) -> str:
    """``<name>: N of M present``, then ``; K MISSING, <consequence>``
    when ``missing`` is not 0."""
    text = f'{name}: {present} of {present + missing} present'
    if missing:
        text += f'; {missing} MISSING, {consequence}'
    return text


def check_split(split) -> int:
    """``split`` checked to be 1, 2 or 3."""
    if isinstance(split, bool) or split not in SPLITS:
        raise ValueError(f'split must be one of {SPLITS}, got {split!r}')
    return split


def list_name(dataset: str, subset: str, split: int, format: str) -> str:
    """The list file name the configs expect, e.g.
    ``hmdb51_train_split_1_rawframes.txt`` (the test split is ``val``)."""
    check_format(format)
    check_split(split)
    if subset not in SUBSETS:
        raise ValueError(f'subset must be one of {SUBSETS}, got {subset!r}')
    return f'{dataset}_{subset}_split_{split}_{format}.txt'


def split_line(raw: str, source: str, lineno: int,
               columns: Sequence[int]) -> Optional[List[str]]:
    """The fields of a split file line (None for a blank line).

    Raises:
        ValueError: The number of fields is not in ``columns`` (naming the
            file and line).
    """
    parts = raw.split()
    if not parts:
        return None
    if len(parts) not in columns:
        expected = ' or '.join(str(c) for c in columns)
        raise ValueError(f'{source} line {lineno}: expected {expected} '
                         f'fields, got {len(parts)}: {raw.strip()!r}')
    return parts


def read_lines(path: str) -> List[str]:
    """The lines of a split file (any line ending)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'split file {path} does not exist')
    with open(path, encoding='utf-8') as f:
        return f.read().splitlines()


def check_video_name(name: str, where: str) -> str:
    """``name`` checked to be a ``.avi`` file name without a space."""
    if not name.endswith('.avi') or len(name) == len('.avi') or ' ' in name:
        raise ValueError(f'{where}: expected a <video>.avi name, got '
                         f'{name!r}')
    return name


def check_unique(entries: Sequence[SplitEntry], what: str) -> None:
    """No video listed twice among ``entries`` (``what`` names them)."""
    seen: Dict[str, SplitEntry] = {}
    for entry in entries:
        first = seen.setdefault(entry.video, entry)
        if first is not entry:
            raise ValueError(f'{entry.where}: {entry.video} is listed '
                             f'again in {what} (first at {first.where})')


def check_disjoint(train: Sequence[SplitEntry],
                   test: Sequence[SplitEntry]) -> None:
    """No video in both the train and the test subset."""
    test_at = {entry.video: entry for entry in test}
    for entry in train:
        if entry.video in test_at:
            raise ValueError(
                f'{entry.video} is in both train ({entry.where}) and test '
                f'({test_at[entry.video].where})')


def resolve_entries(entries: Sequence[SplitEntry],
                    root: str,
                    format: str = 'rawframes',
                    ext: str = 'avi',
                    filename_tmpl: str = 'img_{:05}.jpg',
                    allow_missing: bool = False) -> Resolved:
    """The list items of ``entries``, found under ``root``.

    Args:
        entries: Split entries (``<class>/<name>.avi``).
        root (str): The local dataset folder (videos or frame folders).
        format (str): 'videos' (``<class>/<name>.<ext>``) or 'rawframes'
            (``<class>/<name>`` with its frame count).
        ext (str): Extension of the local videos, without the dot (e.g.
            'mp4' after re-encoding).
        filename_tmpl (str): Frame names, for counting frames.
        allow_missing (bool): Leave missing videos (or frame folders with
            no frames) out and report them instead of raising.

    Raises:
        FileNotFoundError: ``root`` is not a folder.
        ValueError: A video is missing (naming the split file, line and
            path) and ``allow_missing`` is False.
    """
    check_format(format)
    if not ext or ext.startswith('.') or ' ' in ext:
        raise ValueError(f'ext must be an extension without the dot, got '
                         f'{ext!r}')
    if not osp.isdir(root):
        raise FileNotFoundError(f'dataset folder {root} does not exist')
    items, missing = [], []
    for entry in entries:
        stem = entry.video[:-len('.avi')]
        rel = stem if format == 'rawframes' else f'{stem}.{ext}'
        path = osp.join(root, rel)
        if format == 'videos':
            problem = None if osp.isfile(path) else 'not found'
            total = None
        elif not osp.isdir(path):
            problem, total = 'not found', None
        else:
            total = count_frames(path, filename_tmpl)
            problem = None if total else f'no frames named {filename_tmpl}'
        if problem is None:
            items.append(ListItem(rel, entry.label, total))
        elif allow_missing:
            missing.append((entry, problem))
        else:
            raise ValueError(f'{entry.where}: {entry.video}: {problem} at '
                             f'{path}')
    return Resolved(items, missing)
