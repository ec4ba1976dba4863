"""The files of a feature extraction (``tools/misc/extract_features.py``):
one ``.npy`` per video and ``manifest.json``, in one output folder.

A video listed as ``some/dir/video.mp4`` gets ``OUT_DIR/some/dir/video.npy``
(an absolute path loses its leading ``/``). Each ``.npy`` is written to
``<name>.npy.partial`` and renamed, so a file with the final name is always
complete; a partial file left by a killed run is never read and is replaced
when that video is extracted again. ``manifest.json`` (written the same way)
records the run's settings (``config``, ``checkpoint``, ``views``,
``average``) and one entry per listed video: ``video`` (as listed),
``label`` (None for an unlabeled line), ``npy`` (relative to the folder),
``shape``, ``status`` (``'done'``, ``'failed'`` with an ``error``, or
``'pending'`` while a run has not reached it).
"""
import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import numpy as np

MANIFEST = 'manifest.json'
PARTIAL = '.partial'
SETTINGS = ('config', 'checkpoint', 'views', 'average')


def feature_file(video: str) -> str:
    """The ``.npy`` path, relative to the output folder, of a listed video.

    Raises:
        ValueError: ``video`` has a ``..`` component (its file would land
            outside the output folder).
    """
    parts = [p for p in video.replace('\\', '/').split('/') if p not in
             ('', '.')]
    if '..' in parts or not parts:
        raise ValueError(f'{video!r}: a listed video path may not contain '
                         "'..' (its .npy would leave the output folder)")
    return osp.join(*parts[:-1], osp.splitext(parts[-1])[0] + '.npy')


def check_unique_files(videos: List[str], video_list: str) -> List[str]:
    """The ``.npy`` path of each video; refuses two videos sharing one
    (e.g. ``a.mp4`` and ``a.avi``), naming both."""
    first = {}
    files = []
    for video in videos:
        npy = feature_file(video)
        if npy in first:
            raise ValueError(
                f'{video_list}: {first[npy]!r} and {video!r} would both '
                f'write {npy}; rename one of them')
        first[npy] = video
        files.append(npy)
    return files


def save_array(path: str, array: np.ndarray) -> None:
    """``np.save`` to ``path`` through ``path + '.partial'`` and a rename."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    partial = path + PARTIAL
    with open(partial, 'wb') as f:  # a file object: no '.npy' is appended
        np.save(f, array, allow_pickle=False)
    os.replace(partial, path)


def saved_shape(path: str) -> Optional[Tuple[int, ...]]:
    """The shape of the complete float array in ``path``; None when there is
    no such file or it is not a complete ``.npy`` (truncated, damaged)."""
    if not osp.isfile(path):
        return None
    try:  # mmap checks the file holds every byte its header announces
        array = np.load(path, mmap_mode='r', allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return None
    if not np.issubdtype(array.dtype, np.floating):
        return None
    return tuple(array.shape)


def write_manifest(out_dir: str, manifest: dict) -> None:
    """Write ``OUT_DIR/manifest.json`` atomically."""
    os.makedirs(out_dir, exist_ok=True)
    path = osp.join(out_dir, MANIFEST)
    partial = path + PARTIAL
    with open(partial, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=1)
        f.write('\n')
    os.replace(partial, path)


def read_manifest(out_dir: str) -> Optional[dict]:
    """The manifest in ``out_dir``, or None when there is none.

    Raises:
        ValueError: ``manifest.json`` is not a JSON object (the message
            names the file).
    """
    path = osp.join(out_dir, MANIFEST)
    if not osp.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            manifest = json.load(f)
    except ValueError as e:
        raise ValueError(f'{path}: not a feature manifest ({e}); delete it '
                         'or use another output folder') from None
    if not isinstance(manifest, dict):
        raise ValueError(f'{path}: not a feature manifest (a JSON object)')
    return manifest


def check_settings(out_dir: str, settings: dict) -> None:
    """Refuse to resume into ``out_dir`` when its manifest was written with
    other ``SETTINGS``: its ``.npy`` files would mix two kinds of features.

    Raises:
        ValueError: naming each differing setting, old and new.
    """
    old = read_manifest(out_dir)
    if old is None:
        return
    diff = [f'{key}: {old.get(key)!r} -> {settings.get(key)!r}'
            for key in SETTINGS if old.get(key) != settings.get(key)]
    if diff:
        raise ValueError(
            f'{osp.join(out_dir, MANIFEST)}: this folder holds features '
            f'extracted with other settings ({"; ".join(diff)}); use another '
            'output folder, or the same settings to resume')
