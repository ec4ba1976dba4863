"""How many clips of a Kinetics CSV (or of an annotation list) are on disk.

Every copy of Kinetics lacks some clips (YouTube videos disappear), so
before training or testing one counts what is there: ``N of M present``,
and the missing clips by name, to re-fetch or to report next to an
accuracy.

Two inputs:

- a Kinetics annotation CSV (``label,youtube_id,time_start,time_end,split
  [,is_cc]``), read by :func:`~.file_list.list_from_kinetics_csv` (same
  clip names ``{youtube_id}_{time_start:06d}_{time_end:06d}.<ext>``, same
  errors naming the CSV line). The class folder is ``class_dirs``:
  'underscore' (spaces as ``_``, mmaction2), 'label' (as is, the
  crawler), 'flat' (CVDF archives), or 'any': a clip counts as present in
  any of the three places;
- an annotation list (``path label`` or ``frame_dir total_frames label``):
  the path must exist under the folder (a file for a 2-field line, a
  folder for a 3-field one).
"""
import os.path as osp
from typing import List, NamedTuple, Sequence, Tuple

from .atomic import write_text_atomic
from .file_list import CLASS_DIRS, list_from_kinetics_csv
from .split_lists import presence_summary, read_lines, split_line

LAYOUTS = ('any', ) + CLASS_DIRS


class Presence(NamedTuple):
    """The outcome of a presence check.

    Attributes:
        present (list[str]): Paths found, relative to the folder, in input
            order.
        missing (list[str]): Paths not found, in input order (for
            ``class_dirs='any'``, the 'underscore' path).
    """
    present: List[str]
    missing: List[str]

    def summary(self, name: str) -> str:
        """``<name>: N of M present`` (plus how many are missing)."""
        return presence_summary(name, len(self.present), len(self.missing),
                                'see the missing list')


def _check_root(root: str) -> None:
    if not osp.isdir(root):
        raise FileNotFoundError(f'video folder {root} does not exist')


def csv_presence(csv_path: str,
                 root: str,
                 ext: str = 'mp4',
                 class_dirs: str = 'any') -> Presence:
    """Which clips of a Kinetics CSV are in ``root``.

    Args:
        csv_path (str): The annotation CSV.
        root (str): The video folder.
        ext (str): Video extension, without the dot.
        class_dirs (str): One of :data:`LAYOUTS` (see the module doc).

    Raises:
        ValueError: A bad row (naming the CSV and its line) or a bad
            ``class_dirs``.
        FileNotFoundError: ``root`` or the CSV does not exist.
    """
    if class_dirs not in LAYOUTS:
        raise ValueError(f'class_dirs must be one of {LAYOUTS}, got '
                         f'{class_dirs!r}')
    _check_root(root)
    if not osp.isfile(csv_path):
        raise FileNotFoundError(f'annotation CSV {csv_path} does not exist')
    layouts = CLASS_DIRS if class_dirs == 'any' else (class_dirs, )
    # root=None: every clip's path in that layout, none checked yet
    candidates = zip(*(
        [item.path for item in list_from_kinetics_csv(
            csv_path, None, 'videos', ext, layout).items]
        for layout in layouts))
    present, missing = [], []
    for paths in candidates:
        found = [p for p in paths if osp.isfile(osp.join(root, p))]
        if found:
            present.append(found[0])
        else:
            missing.append(paths[0])
    return Presence(present, missing)


def list_presence(list_path: str, root: str) -> Presence:
    """Which entries of an annotation list are under ``root``.

    A 2-field line (``path label``) needs a file, a 3-field line
    (``frame_dir total_frames label``) a folder.

    Raises:
        ValueError: A line with another number of fields (naming the list
            and its line).
        FileNotFoundError: ``root`` or the list does not exist.
    """
    _check_root(root)
    present, missing = [], []
    for lineno, raw in enumerate(read_lines(list_path), 1):
        fields = split_line(raw, list_path, lineno, (2, 3))
        if fields is None:
            continue
        path = osp.join(root, fields[0])
        found = osp.isfile(path) if len(fields) == 2 else osp.isdir(path)
        (present if found else missing).append(fields[0])
    return Presence(present, missing)


def check_presence(annotation: str,
                   root: str,
                   ext: str = 'mp4',
                   class_dirs: str = 'any') -> Presence:
    """:func:`csv_presence` for a ``.csv`` file, else
    :func:`list_presence` (``ext`` and ``class_dirs`` apply to CSVs)."""
    if annotation.lower().endswith('.csv'):
        return csv_presence(annotation, root, ext, class_dirs)
    return list_presence(annotation, root)


def write_missing(paths: Sequence[str], out: str) -> None:
    """Write the missing paths, one a line (atomically)."""
    write_text_atomic(out, ''.join(f'{p}\n' for p in paths))


def presence_report(presence: Presence, name: str,
                    shown: int = 10) -> Tuple[str, ...]:
    """The lines a tool prints: the summary, then up to ``shown`` missing
    paths."""
    lines = [presence.summary(name)]
    lines += [f'  MISSING {p}' for p in presence.missing[:shown]]
    if len(presence.missing) > shown:
        lines.append(f'  ... and {len(presence.missing) - shown} more')
    return tuple(lines)
