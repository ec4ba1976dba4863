"""The prediction dump of ``tools/test.py --dump``: read and write.

The file is a NumPy ``.npz`` archive whatever its name (``results.pkl``
included) and is read with ``allow_pickle=False``: loading a dump never
executes code, and a pickle (or any file that is not such an archive) is
refused. Keys:

* ``video_ids``: str ``[N]``, each video's ``filename`` (or ``frame_dir``);
* ``scores``: float32 ``[N, C]``, averaged scores (NaN rows for videos
  that could not be read);
* ``labels``: int64 ``[N]`` class indices;
* ``classes``: str ``[C]`` class names, or absent (``None`` when loaded);
* ``config``: str, the config file of the run;
* ``features``: float32 ``[N, D]``, each video's backbone features pooled
  over time and space and averaged over its views (NaN rows for videos
  that could not be read), or absent (``None`` when loaded): written by
  ``tools/test.py --dump FILE --dump-features``.
"""
import os
import os.path as osp
import zipfile
from typing import Optional, Sequence

import numpy as np

KEYS = ('video_ids', 'scores', 'labels', 'classes', 'config', 'features')
OPTIONAL_KEYS = ('classes', 'features')


def save_dump(path: str, video_ids: Sequence[str], scores: np.ndarray,
              labels: Sequence[int], classes: Optional[Sequence[str]],
              config: str, features: Optional[np.ndarray] = None) -> None:
    """Write a dump atomically (a partial file renamed over ``path``);
    ``features`` ``[N, D]`` only when given."""
    dump = check_dump(dict(video_ids=list(video_ids), scores=scores,
                           labels=labels, classes=classes, config=config,
                           features=features), path)
    arrays = dict(video_ids=np.asarray(dump['video_ids'], dtype=str),
                  scores=dump['scores'], labels=dump['labels'],
                  config=np.asarray(dump['config'], dtype=str))
    if dump['classes'] is not None:
        arrays['classes'] = np.asarray(dump['classes'], dtype=str)
    if dump['features'] is not None:
        arrays['features'] = dump['features']
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    partial = f'{path}.partial'
    with open(partial, 'wb') as f:  # a file object: no '.npz' is appended
        np.savez(f, **arrays)
    os.replace(partial, path)


def load_dump(path: str) -> dict:
    """Read a dump (no code executed): a dict of ``KEYS``, ``video_ids`` and
    ``classes`` (or None) as lists of str, ``config`` a str, ``features``
    float32 ``[N, D]`` or None.

    Raises:
        ValueError: naming ``path``: not an ``.npz`` dump (a pickle is
            refused), a key missing, or inconsistent shapes.
    """
    if not zipfile.is_zipfile(path):
        raise ValueError(f'{path}: not a prediction dump (an .npz archive, '
                         'written by tools/test.py --dump); pickles are not '
                         'loaded')
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as e:  # an object array: would need pickle
        raise ValueError(f'{path}: refused, {e}') from None
    missing = [k for k in KEYS if k not in OPTIONAL_KEYS and k not in arrays]
    if missing:
        raise ValueError(f'{path}: not a prediction dump, missing {missing}')
    classes = arrays.get('classes')
    return check_dump(dict(
        video_ids=arrays['video_ids'].tolist(), scores=arrays['scores'],
        labels=arrays['labels'],
        classes=None if classes is None else classes.tolist(),
        config=str(arrays['config']), features=arrays.get('features')),
        path)


def check_dump(dump: dict, path: str) -> dict:
    """``dump`` with ``scores`` float32 ``[N, C]``, ``labels`` int64
    ``[N]`` in ``[0, C)`` and ``features`` float32 ``[N, D]`` (or None: also
    when the key is absent); raises ValueError naming ``path`` and the
    key."""
    scores = np.asarray(dump['scores'])
    if scores.ndim != 2 or not np.issubdtype(scores.dtype, np.floating):
        raise ValueError(f'{path}: scores must be a float array [N, C], got '
                         f'{scores.dtype} {scores.shape}')
    labels = np.asarray(dump['labels'])
    if labels.shape != scores.shape[:1] or (
            labels.size and not np.issubdtype(labels.dtype, np.integer)):
        raise ValueError(f'{path}: labels must be {scores.shape[0]} class '
                         f'indices (one label per video), got {labels.dtype} '
                         f'{labels.shape}')
    if labels.size and (labels.min() < 0 or labels.max() >= scores.shape[1]):
        raise ValueError(f'{path}: labels must lie in [0, {scores.shape[1]})'
                         f', got {labels.min()}..{labels.max()}')
    if len(dump['video_ids']) != scores.shape[0]:
        raise ValueError(f'{path}: {len(dump["video_ids"])} video_ids for '
                         f'{scores.shape[0]} score rows')
    classes = dump['classes']
    if classes is not None and len(classes) != scores.shape[1]:
        raise ValueError(f'{path}: {len(classes)} classes for '
                         f'{scores.shape[1]} score columns')
    features = dump.get('features')
    if features is not None:
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[0] != scores.shape[0] or \
                not np.issubdtype(features.dtype, np.floating):
            raise ValueError(f'{path}: features must be a float array '
                             f'[{scores.shape[0]}, D] (one row per video), '
                             f'got {features.dtype} {features.shape}')
        features = features.astype(np.float32)
    return dict(dump, scores=scores.astype(np.float32),
                labels=labels.astype(np.int64),
                classes=None if classes is None else list(classes),
                features=features)
