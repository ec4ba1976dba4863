"""A source checkpoint renamed to mmvid's names, before it meets a model.

Every source reader returns a :class:`MappedCheckpoint`; the fit step
(:func:`~.fit.fit_to_model`) then checks it against a model built from a
config and completes it.
"""
import os.path as osp
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterable, List, Mapping, Optional,
                    Sequence, Tuple)

import numpy as np
import torch

from mmvid.checkpoint.errors import CheckpointError, abbreviate
from .report import ReportEntry

#: ``fill_bns`` values: how the fit step completes a BN.
AFFINE = 'affine'  # has weight and bias: running_mean 0, running_var 1 - eps
IDENTITY = 'identity'  # has nothing: weight 1, bias 0, mean 0, var 1 - eps

# A rule turns a regex match on a source name into an mmvid key, or None
# when the match does not name an I3D parameter (e.g. stage res6).
Rule = Tuple['re.Pattern[str]', Callable[['re.Match[str]'], Optional[str]]]


@dataclass
class MappedCheckpoint:
    """Source tensors under mmvid's names.

    Attributes:
        filename: The source file, for messages.
        format: The source format (``'caffe2'`` ...).
        tensors: mmvid key -> tensor, in the source's shapes (a 2-D
            model's kernels stay ``[O, I, h, w]`` or ``[O, I, 1, h, w]``).
        origin: mmvid key -> the source name it came from.
        skipped: Source entries that are not weights.
        fill_bns: BN prefix (``backbone.conv1.bn``) -> :data:`AFFINE` or
            :data:`IDENTITY`, for BNs whose statistics (or all entries) the
            file lacks.
        two_d: The source is a 2-D (ImageNet) network: the fit step inflates
            its kernels and never uses its classifier.
    """
    filename: str
    format: str
    tensors: 'OrderedDict[str, torch.Tensor]' = field(
        default_factory=OrderedDict)
    origin: Dict[str, str] = field(default_factory=dict)
    skipped: List[ReportEntry] = field(default_factory=list)
    fill_bns: Dict[str, str] = field(default_factory=dict)
    two_d: bool = False

    @property
    def basename(self) -> str:
        return osp.basename(self.filename)

    def add(self, key: str, value: Any, source_name: str) -> None:
        """Store ``value`` (an array, scalar or tensor) as ``key``.

        Raises:
            CheckpointError: if two source entries map to ``key`` or the
                value is not numeric.
        """
        if key in self.tensors:
            raise CheckpointError(
                f'cannot convert {self.filename}: {self.origin[key]!r} and '
                f'{source_name!r} both map to {key}')
        self.tensors[key] = to_tensor(value, self.filename, source_name)
        self.origin[key] = source_name


def to_tensor(value: Any, filename: str, name: str) -> torch.Tensor:
    """A numeric array, numpy scalar, number or tensor as a CPU tensor (a
    copy, in native byte order).

    Raises:
        CheckpointError: for anything else (strings, object arrays ...).
    """
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (bool, int, float, np.generic)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in 'biuf':
        native = value.dtype.newbyteorder('=')
        return torch.from_numpy(np.array(value, dtype=native, copy=True))
    what = (f'an array of dtype {value.dtype}' if isinstance(
        value, np.ndarray) else f'a {type(value).__name__}')
    raise CheckpointError(
        f'cannot convert {filename}: {name} is {what}, expected an array of '
        'numbers')


def map_entries(mapped: MappedCheckpoint, entries: Mapping[str, Any],
                rules: Sequence[Rule], skips: Sequence[Tuple['re.Pattern[str]',
                                                            str]],
                expected: str, what: str) -> None:
    """Rename ``entries`` into ``mapped`` with the first matching rule.

    Args:
        mapped: Receives the tensors and the skipped entries.
        entries: Source name -> value.
        rules: ``(pattern, make_key)``; ``make_key`` returns the mmvid key or
            None (no I3D parameter).
        skips: ``(pattern, kind)`` of entries that are no weights; they are
            reported as skipped with ``kind``.
        expected: The names the rules accept, for the error message.
        what: ``'blob(s)'`` or ``'key(s)'``.

    Raises:
        CheckpointError: listing every entry no rule or skip matches.
    """
    unmatched = []
    for name, value in entries.items():
        kind = next((k for pattern, k in skips if pattern.search(name)), None)
        if kind is not None:
            mapped.skipped.append(ReportEntry(name, kind))
            continue
        key = _apply_rules(name, rules)
        if key is None:
            unmatched.append(name)
        else:
            mapped.add(key, value, name)
    if unmatched:
        raise CheckpointError(
            f'cannot convert {mapped.filename}: {len(unmatched)} {what} match '
            f'no {expected}: {abbreviate(unmatched)}')


def _apply_rules(name: str, rules: Sequence[Rule]) -> Optional[str]:
    for pattern, make_key in rules:
        match = pattern.match(name)
        if match:
            return make_key(match)
    return None


def all_kernels_2d(tensors: Mapping[str, torch.Tensor],
                   keys: Iterable[str]) -> bool:
    """Whether every kernel among ``keys`` is 2-D: ``[O, I, h, w]`` or
    ``[O, I, 1, h, w]`` (and there is at least one)."""
    kernels = [tensors[key] for key in keys]
    return bool(kernels) and all(
        k.dim() == 4 or (k.dim() == 5 and k.shape[2] == 1) for k in kernels)
