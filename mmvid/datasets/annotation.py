"""Annotation list files and label maps -> data infos and class names.

An annotation list has one sample per line: some leading fields (a video
path, or a frame folder with its frame count and optional offset) followed by
the label(s)::

    some/video.mp4 3        # VideoDataset: path label
    some/frames 163 3       # RawframeDataset: frame_dir total_frames label
    some/frames 10 163 3    # with_offset: frame_dir offset total_frames label
    some/video.mp4 1 4 7    # multi_class: path label1 label2 ...
    some/video.mp4          # no label: label -1 (test lists only)
    some/my video.mp4 3     # paths may contain spaces (single-label lists:
                            # non-numeric extra tokens belong to the path)

Blank lines are skipped; a leading UTF-8 byte-order mark is dropped with a
note; a line repeating an earlier sample is an error; line numbers in errors are the file's physical,
1-based line numbers. Every malformed line raises ``ValueError`` naming the
file, the line, the offending value and the expected format, e.g. (one
line, wrapped here)::

    ValueError: data/k400/val.txt line 17: label '3x' is not an integer
    (expected 'path label')

A label map (``label_file``) has one class name per line; the class index is
the 0-based line number. Names may contain spaces (Kinetics has ``air
drumming``), which is why there is no ``index name`` form. Trailing blank
lines are ignored; a blank line before the last name, or a repeated name, is
an error, since it would shift or merge class indices.
"""
import re
from typing import (Callable, Dict, List, NamedTuple, Optional, Sequence,
                    Tuple, Union)

import numpy as np
from mmengine.fileio import get_text

from .shipped_files import find_shipped_file

Label = Union[int, np.ndarray]

_INT = re.compile(r'-?[0-9]+')


class Field(NamedTuple):
    """One leading (non-label) column of an annotation line.

    Attributes:
        key: The data info key the value is stored under.
        name: The column's name in error messages (``path``).
        is_int: Parse the value as a non-negative int (``total_frames``).
    """
    key: str
    name: str
    is_int: bool = False


def read_text_file(path: str, what: str) -> str:
    """The whole text of a (local or mmengine-backend) file.

    Raises:
        FileNotFoundError: The file does not exist; the message names it and
            ``what`` it should have been.
    """
    try:
        return get_text(path)
    except FileNotFoundError as err:
        raise FileNotFoundError(f'{what} not found: {path}') from err


class _LineParser:
    """Parses the lines of one annotation file (see the module docstring)."""

    def __init__(self, ann_file: str, fields: Sequence[Field], delimiter: str,
                 multi_class: bool, num_classes: Optional[int]) -> None:
        self.ann_file = ann_file
        self.fields = tuple(fields)
        self.delimiter = delimiter
        self.multi_class = multi_class
        self.num_classes = num_classes
        sep = ' ' if delimiter == ' ' else delimiter
        labels = 'label1 [label2 ...]' if multi_class else 'label'
        self.expected = sep.join([f.name for f in self.fields] + [labels])

    def error(self, lineno: int, message: str) -> ValueError:
        return ValueError(f'{self.ann_file} line {lineno}: {message} '
                          f"(expected '{self.expected}')")

    def split(self, line: str) -> List[str]:
        """The columns of ``line``. In a space-separated single-label list,
        extra tokens that are not numbers belong to the path (it contains
        spaces), so the columns are read from the right; extra numbers are
        extra labels, which :meth:`parse_labels` reports."""
        if self.delimiter != ' ':
            return [part.strip() for part in line.split(self.delimiter)]
        parts = line.split()
        columns = len(self.fields) + 1
        if self.multi_class or len(parts) <= columns:
            return parts
        extra = parts[1:len(parts) - columns + 1]
        if all(_INT.fullmatch(token) for token in extra):
            return parts
        return line.strip().rsplit(None, columns - 1)

    def parse_int(self, lineno: int, name: str, value: str) -> int:
        if not _INT.fullmatch(value):
            raise self.error(lineno, f"{name} '{value}' is not an integer")
        return int(value)

    def parse(self, lineno: int, line: str) -> dict:
        parts = self.split(line)
        info: dict = {}
        for i, field in enumerate(self.fields):
            if i >= len(parts):
                raise self.error(lineno, f"missing field '{field.name}'")
            value = parts[i]
            if not value:
                raise self.error(lineno, f'empty {field.name}')
            if field.is_int:
                value = self.parse_int(lineno, field.name, value)
                if value < 0:
                    raise self.error(lineno,
                                     f'{field.name} {value} is negative')
            info[field.key] = value
        info['label'] = self.parse_labels(lineno, parts[len(self.fields):])
        return info

    def parse_labels(self, lineno: int, parts: List[str]) -> Label:
        labels = [self.parse_int(lineno, 'label', part) for part in parts]
        for label in labels:
            if label < -1:
                raise self.error(
                    lineno, f'label {label} is out of range: labels are '
                    '>= 0, or -1 for an unlabeled sample')
            if self.num_classes is not None and label >= self.num_classes:
                raise self.error(
                    lineno, f'label {label} is out of range: labels must be '
                    f'< num_classes={self.num_classes}')
        if not labels or labels == [-1]:
            return -1
        if -1 in labels:
            raise self.error(
                lineno, f'label -1 (unlabeled) cannot be combined with other '
                f'labels, got {" ".join(parts)!r}')
        if not self.multi_class:
            if len(labels) != 1:
                raise self.error(
                    lineno, f'expected 1 label, got {len(labels)} '
                    f'({" ".join(parts)!r}); for a multi-label list set '
                    'multi_class=True and num_classes')
            return labels[0]
        onehot = np.zeros(self.num_classes, dtype=np.float32)
        onehot[labels] = 1.0
        return onehot


def parse_annotation_file(ann_file: str,
                          fields: Sequence[Field],
                          delimiter: str = ' ',
                          multi_class: bool = False,
                          num_classes: Optional[int] = None,
                          require_labels: bool = False,
                          note: Callable[[str], None] = print) -> List[dict]:
    """Parse an annotation list into one data info per non-blank line.

    Args:
        ann_file: Path of the list (any mmengine file backend).
        fields: The leading columns, before the label(s).
        delimiter: Column separator. ``' '`` (the default) splits on any run
            of whitespace; any other string splits on exactly that string and
            strips each column (so paths may contain spaces).
        multi_class: Lines carry any number (>= 1) of labels, returned as a
            float32 multi-hot ``np.ndarray [num_classes]``.
        num_classes: The number of classes; required with ``multi_class``.
            When given, labels must be ``< num_classes``.
        require_labels: Every line must have a label (training lists).
        note: Where the note about a stripped byte-order mark goes.

    Returns:
        One dict per sample with the ``fields`` keys and ``label`` (an int,
        ``-1`` for a line without labels, or the multi-hot array).

    Raises:
        FileNotFoundError: ``ann_file`` does not exist.
        ValueError: A malformed line (the message names the file, the 1-based
            line number, the value and the expected format), a line without
            a label where ``require_labels``, a line repeating an earlier
            sample, or inconsistent arguments.
    """
    if not isinstance(delimiter, str) or not delimiter:
        raise ValueError(f'delimiter must be a non-empty string, got '
                         f'{delimiter!r}')
    if multi_class and num_classes is None:
        raise ValueError('multi_class=True needs num_classes (the length of '
                         'the multi-hot label)')
    if num_classes is not None and (isinstance(num_classes, bool) or
                                    not isinstance(num_classes, int) or
                                    num_classes < 1):
        raise ValueError(f'num_classes must be a positive int, got '
                         f'{num_classes!r}')
    parser = _LineParser(ann_file, fields, delimiter, multi_class,
                         num_classes)
    text = read_text_file(ann_file, 'annotation file')
    if text.startswith(BOM):
        note(f'{ann_file}: starts with a UTF-8 byte-order mark (U+FEFF); '
             'ignored')
        text = text[len(BOM):]
    infos, first_line = [], {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        info = parser.parse(lineno, line)
        if require_labels and _is_unlabeled(info['label']):
            raise parser.error(lineno, 'no label: every sample of a training '
                               'list needs one')
        sample = tuple(info[f.key] for f in parser.fields)
        if sample in first_line:
            raise parser.error(
                lineno, f'repeats the sample of line {first_line[sample]} '
                f'({" ".join(map(str, sample))}); each sample is listed '
                'once')
        first_line[sample] = lineno
        infos.append(info)
    return infos


BOM = '\ufeff'


def _is_unlabeled(label: Label) -> bool:
    return isinstance(label, int) and label == -1


def load_label_map(label_file: str) -> Tuple[str, ...]:
    """Class names from a label map: one name per line, index = line - 1.

    Args:
        label_file: Path of the label map; a relative path missing from
            the working folder is also looked up among the files mmvid
            ships (:func:`~.shipped_files.find_shipped_file`: the zoo's
            ``tools/data/*/label_map*.txt`` from an installed package).

    Returns:
        The class names in index order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: The file has no names, a blank line before the last name,
            or a repeated name (the message names the file and lines).
    """
    text = read_text_file(find_shipped_file(label_file), 'label file')
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ValueError(f'{label_file}: the label file has no class names')
    first_line: Dict[str, int] = {}
    for lineno, name in enumerate(lines, start=1):
        if not name:
            raise ValueError(
                f'{label_file} line {lineno}: empty class name (the class '
                'index is the line number, so blank lines are only allowed '
                'at the end)')
        if name in first_line:
            raise ValueError(
                f'{label_file} line {lineno}: class name {name!r} repeats '
                f'line {first_line[name]}')
        first_line[name] = lineno
    return tuple(lines)
