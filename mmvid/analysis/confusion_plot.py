"""The confusion matrix of a prediction dump as a CSV table and a PNG."""
import csv
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np

from mmvid.evaluation import confusion_counts


def dump_confusion(dump: dict, normalize: bool = False) -> np.ndarray:
    """``[C, C]`` counts of ``dump`` (rows true, columns top-1 predicted
    classes; NaN rows skipped); with ``normalize`` each row divided by its
    sum (a class without videos stays 0)."""
    scores, labels = dump['scores'], dump['labels']
    keep = ~np.isnan(scores).any(axis=1)
    matrix = confusion_counts(scores[keep].argmax(axis=1), labels[keep],
                              scores.shape[1])
    if not normalize:
        return matrix
    counts = matrix.sum(axis=1, keepdims=True).astype(np.float64)
    return np.divide(matrix, counts, out=np.zeros(matrix.shape),
                     where=counts > 0)


def class_names(dump: dict, label_map: Optional[str]) -> list:
    """``label_map``'s names (one a line), else the dump's, else ``0..C-1``.

    Raises:
        ValueError: naming ``label_map`` when its line count is not ``C``.
    """
    num = dump['scores'].shape[1]
    if label_map:
        with open(label_map) as f:
            names = [line.strip() for line in f if line.strip()]
        if len(names) != num:
            raise ValueError(f'{label_map}: {len(names)} class names for '
                             f'{num} classes in the dump')
        return names
    return list(dump['classes']) if dump['classes'] else \
        [str(i) for i in range(num)]


def write_csv(matrix: np.ndarray, names: Sequence[str], path: str) -> None:
    """Header ``true\\predicted,NAME...``, then one row per true class."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['true\\predicted'] + list(names))
        for name, row in zip(names, matrix):
            writer.writerow([name] + [f'{v:.4f}' if matrix.dtype.kind == 'f'
                                      else int(v) for v in row])


def draw_confusion(matrix: np.ndarray, names: Sequence[str], path: str,
                   title: str = 'confusion matrix') -> None:
    """A heat map ``[C, C]`` with class names on both axes and the value in
    each cell (up to 30 classes), written with matplotlib's Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    num = len(names)
    side = min(max(4.0, 0.45 * num + 2.5), 40.0)
    fig, ax = plt.subplots(figsize=(side, side), dpi=100)
    image = ax.imshow(matrix, cmap='Blues', vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(num), labels=names, rotation=90)
    ax.set_yticks(range(num), labels=names)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title)
    if num <= 30:
        high = matrix.max() / 2 if matrix.size else 0
        for (i, j), value in np.ndenumerate(matrix):
            text = f'{value:.2f}' if matrix.dtype.kind == 'f' else str(value)
            ax.text(j, i, text, ha='center', va='center', fontsize=8,
                    color='white' if value > high else 'black')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
