"""Backbone features of listed videos, pooled by the recognizer itself
(``Recognizer3D`` with ``test_cfg.feature_extraction``: the backbone's output
averaged over time and space), written one ``.npy`` per video with a
manifest (layout: :mod:`mmvid.apis.feature_files`). The code behind
``tools/misc/extract_features.py``.

A video's views are the test pipeline's (clips x crops). Per view the
features are ``[num_views, C]``; averaged over the views ``[C]``, which is
what the recognizer stores for one video and what ``tools/test.py --dump
FILE --dump-features`` dumps.
"""
import os.path as osp
import sys
from typing import (Callable, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
import torch.nn as nn
from mmengine.dataset import Compose
from mmengine.fileio import join_path
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader, Dataset

from mmvid.datasets import limit_worker_threads
from mmvid.datasets.annotation import Field, parse_annotation_file
from mmvid.datasets.errors import BadSampleError
from mmvid.registry import TRANSFORMS
from mmvid.structures import ActionDataSample

from .feature_files import (check_settings, check_unique_files, save_array,
                            saved_shape, write_manifest)


def video_features(model: nn.Module, inputs: torch.Tensor,
                   average: bool) -> np.ndarray:
    """The pooled backbone features of one video's views.

    Args:
        model: A recognizer with ``test_cfg['feature_extraction']`` set.
        inputs: The test pipeline's ``inputs`` ``[num_views, C, T, H, W]``.
        average: Average the views, as the recognizer does for a video.

    Returns:
        float32 ``[C']`` when ``average``, else ``[num_views, C']``: each
        view given to the recognizer as a video of its own.
    """
    if not (getattr(model, 'test_cfg', None) or {}).get('feature_extraction'):
        raise ValueError("video_features needs a recognizer with "
                         "test_cfg['feature_extraction'] = True")
    if inputs.dim() != 5:
        raise ValueError('inputs must be one video [num_views, C, T, H, W], '
                         f'got shape {tuple(inputs.shape)}')
    videos = [inputs] if average else list(inputs.unsqueeze(1))
    batch = dict(inputs=videos,
                 data_samples=[ActionDataSample() for _ in videos])
    with torch.no_grad():
        samples = model.test_step(batch)
    features = torch.stack([s.feature for s in samples]).float().cpu()
    return features[0].numpy() if average else features.numpy()


class _ListedVideos(Dataset):
    """The test pipeline's output of some listed videos; an unreadable
    video gives its ``BadSampleError`` message instead (so that loader
    workers report it rather than stop)."""

    def __init__(self, files: Sequence[str], pipeline: Callable) -> None:
        self.files = list(files)
        self.pipeline = pipeline

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int):
        sample = dict(filename=self.files[index], start_index=0,
                      modality='RGB', rng=np.random.default_rng([0, index]))
        try:
            return index, self.pipeline(sample), None
        except BadSampleError as e:
            return index, None, str(e)


def _item(item):
    return item


def extract_features(model: nn.Module,
                     pipeline: Sequence[Union[dict, Callable]],
                     video_list: str,
                     out_dir: str,
                     video_root: str = '',
                     average: bool = False,
                     skip_errors: bool = False,
                     settings: Optional[dict] = None,
                     num_workers: int = 0,
                     progress: bool = True) -> dict:
    """Write the features of every video of ``video_list`` into ``out_dir``.

    Videos whose ``.npy`` is already complete are skipped (a rerun resumes);
    the others are extracted in list order, each ``.npy`` written
    atomically.

    Args:
        model: A recognizer in eval mode with
            ``test_cfg['feature_extraction'] = True``.
        pipeline: The test pipeline (config dicts or callables) reading a
            video file; its views are the features' views.
        video_list: One video per line, ``path`` or ``path label`` (the
            datasets' annotation format).
        out_dir: The output folder (created).
        video_root: Joined before each listed path, as a dataset's
            ``data_prefix``.
        average: ``[C]`` per video instead of ``[num_views, C]``.
        skip_errors: Record an unreadable video as ``failed`` in the
            manifest and go on; otherwise raise.
        settings: Recorded in the manifest (``config``, ``checkpoint``,
            ``views``); resuming with other settings is refused.
        num_workers: Data loader worker processes (0: in this process).
        progress: Show a progress bar on stdout.

    Returns:
        The manifest, with ``extracted``, ``reused`` and ``failed`` counts
        of this run.

    Raises:
        BadSampleError: A video cannot be read (without ``skip_errors``);
            the message names it and ``video_list``.
        ValueError: A malformed list, or ``out_dir`` holding features of
            other settings.
    """
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) \
            or num_workers < 0:
        raise ValueError(f'num_workers must be an int >= 0, got '
                         f'{num_workers!r}')
    infos = parse_annotation_file(video_list, (Field('filename', 'path'), ))
    if not infos:
        raise ValueError(f'{video_list}: the video list has no videos')
    videos = [info['filename'] for info in infos]
    npys = check_unique_files(videos, video_list)
    manifest = dict(settings or {}, average=bool(average))
    check_settings(out_dir, manifest)
    manifest.update(video_list=osp.abspath(video_list), video_root=video_root)
    entries, todo = _entries(infos, npys, out_dir)
    manifest.update(videos=entries, reused=len(entries) - len(todo),
                    extracted=0, failed=0)
    write_manifest(out_dir, manifest)
    files = [join_path(video_root, entries[i]['video']) if video_root else
             entries[i]['video'] for i in todo]
    model.eval()
    try:
        for index, inputs, error in _load(pipeline, files, num_workers,
                                          progress):
            entry = entries[todo[index]]
            if error is not None:
                message = (f'{entry["video"]} (listed in {video_list}, file '
                           f'{files[index]}): {error}')
                if not skip_errors:
                    raise BadSampleError(message + '; pass --skip-errors to '
                                         'record it as failed and go on')
                entry.update(status='failed', error=message)
                manifest['failed'] += 1
                continue
            features = video_features(model, inputs, average)
            save_array(osp.join(out_dir, entry['npy']), features)
            entry.update(shape=list(features.shape), status='done')
            entry.pop('error', None)
            manifest['extracted'] += 1
    finally:
        write_manifest(out_dir, manifest)
    return manifest


def _entries(infos: List[dict], npys: List[str],
             out_dir: str) -> Tuple[List[dict], List[int]]:
    """The manifest entries of the listed videos (``done`` where a
    complete ``.npy`` exists, else ``pending``) and the indices of the
    pending ones."""
    entries, todo = [], []
    for i, (info, npy) in enumerate(zip(infos, npys)):
        label = info['label']
        entry = dict(video=info['filename'],
                     label=None if label == -1 else int(label), npy=npy,
                     shape=None, status='pending')
        shape = saved_shape(osp.join(out_dir, npy))
        if shape is None:
            todo.append(i)
        else:
            entry.update(shape=list(shape), status='done')
        entries.append(entry)
    return entries, todo


def _load(pipeline: Sequence[Union[dict, Callable]], files: List[str],
          num_workers: int, progress: bool
          ) -> Iterator[Tuple[int, Optional[torch.Tensor], Optional[str]]]:
    """``(index, inputs, None)`` or ``(index, None, error)`` for each of
    ``files`` in order, with a progress bar on stdout."""
    if not files:
        return
    from mmvid.utils import register_all_modules
    register_all_modules()
    transforms = Compose([TRANSFORMS.build(t) if isinstance(t, dict) else t
                          for t in pipeline])
    loader = DataLoader(_ListedVideos(files, transforms), batch_size=None,
                        num_workers=num_workers, collate_fn=_item,
                        worker_init_fn=limit_worker_threads
                        if num_workers else None)
    bar = ProgressBar(len(files), file=sys.stdout) if progress else None
    for index, data, error in loader:
        yield index, None if data is None else data['inputs'], error
        if bar is not None:
            bar.update()
    if bar is not None:
        sys.stdout.write('\n')
