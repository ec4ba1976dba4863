"""What a conversion did with every tensor, and its compact printout."""
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

# How many names a group lists before it is shown as a count.
MAX_NAMED = 3


@dataclass(frozen=True)
class ReportEntry:
    """One name in a report.

    Args:
        name: A source name (``res2_0_branch2a_w_momentum``) or an mmvid key
            (``backbone.conv1.bn.running_var``).
        kind: What kind of entry it is, a plural phrase that groups entries
            in the printout (``'*_momentum blobs (SGD history)'``).
    """
    name: str
    kind: str


@dataclass
class ConversionReport:
    """The outcome of one conversion.

    Attributes:
        source: Base name of the converted file.
        format: ``'caffe2'``, ``'pyslowfast'``, ``'pytorchvideo'``,
            ``'tusharn'`` or ``'torchvision'``.
        config: The config the result fits.
        loaded: mmvid keys whose tensors come from the file.
        inflated: The subset of ``loaded`` inflated from 2-D kernels.
        skipped: Source entries that are no weights (optimizer state,
            counters), by their source name.
        dropped: Checkpoint tensors left out on purpose (a classifier with
            ``drop_head``, a 2-D model's ImageNet classifier), by mmvid key.
        filled: Model entries computed, not read (``num_batches_tracked``,
            the statistics of frozen-BN layers).
        initialised: Model entries kept from the config's fresh
            initialisation (the classifier with ``drop_head``).
        out: Where the result was written, if it was.
    """
    source: str
    format: str
    config: str
    loaded: List[str] = field(default_factory=list)
    inflated: List[str] = field(default_factory=list)
    skipped: List[ReportEntry] = field(default_factory=list)
    dropped: List[ReportEntry] = field(default_factory=list)
    filled: List[ReportEntry] = field(default_factory=list)
    initialised: List[ReportEntry] = field(default_factory=list)
    out: Optional[str] = None

    def counts(self) -> Dict[str, int]:
        """Number of entries per category."""
        return {
            name: len(getattr(self, name))
            for name in ('loaded', 'inflated', 'skipped', 'dropped', 'filled',
                         'initialised')
        }

    def names(self, category: str, kind: Optional[str] = None) -> List[str]:
        """The names of one category (``'skipped'`` ...), optionally of one
        kind."""
        return [
            entry.name for entry in getattr(self, category)
            if kind is None or entry.kind == kind
        ]


def group_entries(entries: List[ReportEntry]) -> List[str]:
    """``['161 *_momentum blobs (SGD history)', 'lr (learning rate)']``.

    Entries of one kind are shown by name when there are at most
    :data:`MAX_NAMED` of them, as a count otherwise.
    """
    groups: 'OrderedDict[str, List[str]]' = OrderedDict()
    for entry in entries:
        groups.setdefault(entry.kind, []).append(entry.name)
    parts = []
    for kind, names in groups.items():
        if len(names) <= MAX_NAMED:
            parts.append(f'{", ".join(names)} ({kind})')
        else:
            parts.append(f'{len(names)} {kind}')
    return parts


def format_report(report: ConversionReport) -> str:
    """The report in a few lines, repeated kinds grouped::

        converted i3d_nonlocal_32x2_IN_pretrain_400k.pkl (caffe2) for CONFIG
          loaded       333 tensors
          filled       62: 62 num_batches_tracked (0)
          skipped      163: 161 *_momentum blobs (SGD history); lr ...
        saved OUT
    """
    lines = [
        f'converted {report.source} ({report.format}) for {report.config}'
    ]
    loaded = f'{len(report.loaded)} tensors'
    if report.inflated:
        loaded += f' ({len(report.inflated)} conv kernels inflated from 2-D)'
    lines.append(f'  {"loaded":<12} {loaded}')
    for category in ('filled', 'initialised', 'dropped', 'skipped'):
        entries = getattr(report, category)
        if entries:
            lines.append(f'  {category:<12} {len(entries)}: ' +
                         '; '.join(group_entries(entries)))
    if report.out:
        lines.append(f'saved {report.out}')
    return '\n'.join(lines)
