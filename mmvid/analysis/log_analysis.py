"""Read mmengine's json scalar logs: training curves and iteration times.

A training run writes ``<work_dir>/<timestamp>/vis_data/<timestamp>.json``
(and the same lines in ``scalars.json``), one json object a line:

- a **train** line every ``LoggerHook.interval`` iterations: the logged
  scalars (``loss``, ``top1_acc``, ``lr``, ``time``, ``data_time``, ...)
  plus ``iter`` (global, 1-based), ``step`` (= ``iter``) and, for
  epoch-based training, ``epoch``;
- a **val** line after each validation: the metrics, ``time``,
  ``data_time`` and ``step`` (the epoch; the iteration for iteration-based
  training), without ``iter``;
- a **test** run (``tools/test.py``) writes one object without ``step``.

So a line with ``iter`` is train, one with ``step`` but no ``iter`` val,
anything else test. With ``log_with_hierarchy=True`` the keys carry a
``train/`` / ``val/`` / ``test/`` prefix, which is removed here.
"""
import glob
import json
import math
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

MODES = ('train', 'val', 'test')
# bookkeeping entries of a line, not plottable scalars
INDEX_KEYS = ('iter', 'step', 'epoch')


@dataclass
class Series:
    """One curve: ``y`` of ``key`` in ``mode`` against ``x`` (``xlabel``)."""
    mode: str
    key: str
    xlabel: str
    x: List[float]
    y: List[float]


def line_mode(record: dict) -> str:
    """``'train'``, ``'val'`` or ``'test'`` of one parsed log line."""
    if 'iter' in record:
        return 'train'
    if 'step' in record:
        return 'val'
    return 'test'


def find_json_log(path: str) -> str:
    """``path`` if it is a file; for a work dir (or a ``<timestamp>`` dir
    in it), the json log of its latest run."""
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'no log file or work dir {path}')
    candidates = []
    for vis in sorted(glob.glob(osp.join(path, '*', 'vis_data')) +
                      glob.glob(osp.join(path, 'vis_data'))):
        stamp = osp.basename(osp.dirname(vis))
        for name in (f'{stamp}.json', 'scalars.json'):
            if osp.isfile(osp.join(vis, name)):
                candidates.append((stamp, osp.join(vis, name)))
                break
    if not candidates:
        raise FileNotFoundError(f'{path} has no <timestamp>/vis_data/*.json '
                                'log')
    return max(candidates)[1]


def load_json_log(path: str) -> Dict[str, List[dict]]:
    """Parse a json scalar log into ``{'train': [...], 'val': [...],
    'test': [...]}``, lines in file order, mode prefixes removed from the
    keys.

    Raises:
        ValueError: A line is not a json object (the message gives the line
            number).
    """
    log: Dict[str, List[dict]] = {mode: [] for mode in MODES}
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError as error:
                raise ValueError(f'{path} line {lineno}: not json '
                                 f'({error})') from None
            if not isinstance(record, dict):
                raise ValueError(f'{path} line {lineno}: expected a json '
                                 f'object, got {type(record).__name__}')
            cleaned = {}
            for key, value in record.items():
                for mode in MODES:
                    if key.startswith(f'{mode}/'):
                        key = key[len(mode) + 1:]
                        break
                cleaned[key] = value
            log[line_mode(cleaned)].append(cleaned)
    return log


def scalar_keys(log: Dict[str, List[dict]]) -> Dict[str, List[str]]:
    """The numeric keys of each mode, in first-seen order."""
    out = {}
    for mode, records in log.items():
        keys: List[str] = []
        for record in records:
            for key, value in record.items():
                if key not in INDEX_KEYS and key not in keys and \
                        isinstance(value, (int, float)) and \
                        not isinstance(value, bool):
                    keys.append(key)
        out[mode] = keys
    return out


def split_key(key: str) -> tuple:
    """``'val/top1_acc'`` -> ``('val', 'top1_acc')``; ``'loss'`` ->
    ``(None, 'loss')``."""
    mode, sep, name = key.partition('/')
    if sep and mode in MODES:
        return mode, name
    return None, key


def get_series(log: Dict[str, List[dict]], key: str,
               xaxis: str = 'iter') -> List[Series]:
    """The curves of ``key`` in a parsed log, one per mode that has it.

    Args:
        log: From :func:`load_json_log`.
        key: A scalar name (every mode that logs it), or ``mode/name``.
        xaxis: For train curves: ``'iter'`` (each logged value at its
            global iteration) or ``'epoch'`` (the mean of each epoch's
            logged values at that epoch). Val curves are against ``step``:
            the epoch for epoch-based training, else the iteration.

    Returns:
        The series (empty if no mode logs ``key``).
    """
    if xaxis not in ('iter', 'epoch'):
        raise ValueError(f"xaxis must be 'iter' or 'epoch', got {xaxis!r}")
    only, name = split_key(key)
    epoch_based = any('epoch' in r for r in log.get('train', []))
    out = []
    for mode in MODES:
        if only not in (None, mode):
            continue
        records = [r for r in log.get(mode, []) if name in r]
        if not records:
            continue
        if mode == 'train' and xaxis == 'epoch':
            if not epoch_based:
                raise ValueError('the log has no epochs (iteration-based '
                                 "training); use xaxis='iter'")
            sums: Dict[int, List[float]] = {}
            for r in records:
                sums.setdefault(r['epoch'], []).append(float(r[name]))
            epochs = sorted(sums)
            out.append(Series(mode, name, 'epoch', [float(e) for e in epochs],
                              [sum(sums[e]) / len(sums[e]) for e in epochs]))
        elif mode == 'train':
            out.append(Series(mode, name, 'iter',
                              [float(r['iter']) for r in records],
                              [float(r[name]) for r in records]))
        elif mode == 'val':
            out.append(Series(mode, name, 'epoch' if epoch_based else 'iter',
                              [float(r['step']) for r in records],
                              [float(r[name]) for r in records]))
        else:  # test: one point per run
            out.append(Series(mode, name, 'run',
                              [float(i) for i in range(1, len(records) + 1)],
                              [float(r[name]) for r in records]))
    return out


def plot_curves(logs: Sequence[str],
                keys: Sequence[str],
                out_file: str,
                legend: Optional[Sequence[str]] = None,
                title: Optional[str] = None,
                xaxis: str = 'iter',
                subplot_size: Sequence[float] = (6.0, 4.0),
                dpi: int = 100) -> List[List[Series]]:
    """Plot ``keys`` of one or more json logs into a PNG (Agg backend).

    One subplot per (mode, key) found, in two columns when there are
    several; each log is one line in each subplot. The figure is
    ``subplot_size`` inches per subplot at ``dpi``, so the image is
    ``(cols * w * dpi) x (rows * h * dpi)`` pixels.

    Args:
        logs: Json log files (or work dirs, see :func:`find_json_log`).
        keys: Scalar names, optionally ``mode/name``.
        out_file: The image to write (format from its extension).
        legend: One label per log (default: the file names).
        title: Figure title.
        xaxis: See :func:`get_series`.
        subplot_size: (width, height) of a subplot in inches.
        dpi: Pixels per inch.

    Returns:
        For each log, the series plotted.

    Raises:
        ValueError: ``legend`` does not have one label per log.
        KeyError: A key is in none of the logs (the message lists the keys
            each mode has).
    """
    if not logs:
        raise ValueError('no log given')
    if not keys:
        raise ValueError('no key given')
    if legend is not None and len(legend) != len(logs):
        raise ValueError(f'{len(legend)} legend labels for {len(logs)} logs')
    paths = [find_json_log(p) for p in logs]
    parsed = [load_json_log(p) for p in paths]
    labels = list(legend) if legend is not None else \
        [osp.basename(p) for p in paths]
    all_series = [[s for key in keys for s in get_series(log, key, xaxis)]
                  for log in parsed]
    panels = plot_panels(keys, all_series, paths, parsed)
    draw_panels(panels, labels, all_series, out_file, title, subplot_size,
                dpi)
    return all_series


def plot_panels(keys: Sequence[str], all_series: List[List[Series]],
                paths: Sequence[str],
                parsed: Sequence[Dict[str, List[dict]]]) -> List[tuple]:
    """The subplots: ``(mode, key)`` with data in some log, in key order,
    then mode order.

    Raises:
        KeyError: A key is in none of the logs (the message lists the keys
            each mode of each log has).
    """
    panels: List[tuple] = []
    for key in keys:
        only, name = split_key(key)
        for mode in MODES:
            if only in (None, mode) and (mode, name) not in panels and any(
                    s.mode == mode and s.key == name
                    for series in all_series for s in series):
                panels.append((mode, name))
        if not any(p[1] == name and only in (None, p[0]) for p in panels):
            found = '; '.join(
                f'{path}: ' + ', '.join(f'{m}: {ks}' for m, ks in
                                        scalar_keys(log).items() if ks)
                for path, log in zip(paths, parsed))
            raise KeyError(f'{key!r} is in none of the logs ({found})')
    return panels


def draw_panels(panels: Sequence[tuple], labels: Sequence[str],
                all_series: List[List[Series]], out_file: str,
                title: Optional[str], subplot_size: Sequence[float],
                dpi: int) -> None:
    """One subplot per panel (two columns when there are several), one line
    per log in each; written to ``out_file`` with the Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    cols = 1 if len(panels) == 1 else 2
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(
        rows, cols, squeeze=False,
        figsize=(subplot_size[0] * cols, subplot_size[1] * rows), dpi=dpi)
    for ax, (mode, name) in zip(axes.flat, panels):
        draw_panel(ax, mode, name, labels, all_series)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=dpi)
    plt.close(fig)


def draw_panel(ax, mode: str, name: str, labels: Sequence[str],
               all_series: List[List[Series]]) -> None:
    """The lines of ``(mode, name)`` of every log on the axes ``ax``, with
    title, axis labels, grid and legend."""
    from matplotlib.ticker import MaxNLocator
    xlabel = 'iter'
    for label, series in zip(labels, all_series):
        for s in series:
            if s.mode == mode and s.key == name:
                marker = 'o' if mode != 'train' or s.xlabel == 'epoch' \
                    or len(s.x) < 30 else None
                ax.plot(s.x, s.y, label=label, marker=marker, markersize=3,
                        linewidth=1.2)
                xlabel = s.xlabel
    mean = ' (epoch mean)' if mode == 'train' and xlabel == 'epoch' else ''
    ax.set_title(f'{mode} {name}{mean}')
    ax.set_xlabel(xlabel)
    if xlabel != 'iter':  # epochs and runs are whole numbers
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(name)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize='small')


def train_time_stats(log: Dict[str, List[dict]],
                     include_outliers: bool = False) -> dict:
    """Iteration times of the train lines of a parsed log.

    Each train line's ``time`` is the logger's running mean of the
    iteration time (seconds, data loading included). As in mmaction2 0.x's
    ``cal_train_time``, the first line of each epoch is left out (it
    carries the dataloader start-up) unless ``include_outliers`` or it is
    the epoch's only line.

    Returns:
        dict: ``epochs`` (list of ``(epoch, mean time)``; one ``(None,
        mean)`` for iteration-based logs), ``slowest`` and ``fastest``
        ``(epoch, mean)``, ``std_over_epochs``, ``avg_iter_time`` (mean of
        all the kept values), ``avg_data_time`` (likewise, or None) and
        ``num_values`` (values kept).

    Raises:
        ValueError: The log has no train line with ``time``.
    """
    groups: Dict[Optional[int], List[dict]] = {}
    for record in log.get('train', []):
        if 'time' in record:
            groups.setdefault(record.get('epoch'), []).append(record)
    if not groups:
        raise ValueError('the log has no train lines with "time" (is it a '
                         'training log?)')
    kept: Dict[Optional[int], List[dict]] = {}
    for epoch, records in groups.items():
        kept[epoch] = records if include_outliers or len(records) == 1 \
            else records[1:]
    epochs = [(e, sum(r['time'] for r in rs) / len(rs))
              for e, rs in kept.items()]
    means = [m for _, m in epochs]
    mean_of_means = sum(means) / len(means)
    values = [r for rs in kept.values() for r in rs]
    data_times = [r['data_time'] for r in values if 'data_time' in r]
    return dict(
        epochs=epochs,
        slowest=max(epochs, key=lambda item: item[1]),
        fastest=min(epochs, key=lambda item: item[1]),
        std_over_epochs=math.sqrt(
            sum((m - mean_of_means)**2 for m in means) / len(means)),
        avg_iter_time=sum(r['time'] for r in values) / len(values),
        avg_data_time=(sum(data_times) / len(data_times)
                       if data_times else None),
        num_values=len(values))
