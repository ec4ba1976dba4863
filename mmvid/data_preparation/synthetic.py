"""The built-in synthetic action dataset (demo and tests): videos, rawframes
and annotation lists, written atomically and reproducibly.

Layout of ``out_dir``::

    videos/{train,val}/<class>/0000.mp4 ...
    rawframes/{train,val}/<class>/0000/img_00001.jpg ...
    train_list_videos.txt     videos/train/move_left/0000.mp4 0
    train_list_rawframes.txt  rawframes/train/move_left/0000 32 0
    val_list_videos.txt, val_list_rawframes.txt
    label_map.txt             class names, one a line, in label order
    README.md                 what the dataset is
    synthetic_params.json     generation parameters (written last)

List paths are relative to ``out_dir`` (use it as the data prefix).

Clip ``k`` of every class in a split shares one appearance (shape, colours,
background, noise, anchor state; see :mod:`.synthetic_clips`), so the
middle frames of a split are the same set for every class: the middle
frame carries no class information (other frames: see
:mod:`.synthetic_clips`).
"""
import json
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from .atomic import atomic_dir, remove_stale_partials
from .batch import check_num_workers, run_tasks
from .synthetic_clips import (CLASS_NAMES, anchor_frame, anchor_margins,
                              render_clip, sample_appearance, sample_motion)

FORMAT_VERSION = 2
PARAMS_FILE = 'synthetic_params.json'
FILENAME_TMPL = 'img_{:05}.jpg'
SPLITS = ('train', 'val')
# codec -> container extension. mp4v/.mp4 and MJPG, FFV1/.avi are
# byte-reproducible with OpenCV's FFmpeg backend (.mkv is not: it stores a
# date).
CODECS = {'mp4v': 'mp4', 'MJPG': 'avi', 'FFV1': 'avi'}


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or value < low:
        raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    return int(value)


def _params(num_classes, videos_per_class_train, videos_per_class_val,
            num_frames, size, fps, seed, write_videos, write_rawframes,
            codec, jpeg_quality, noise) -> dict:
    """Checked generation parameters, as they round-trip through json."""
    num_classes = _check_int('num_classes', num_classes, 2)
    if num_classes > len(CLASS_NAMES):
        raise ValueError(f'num_classes must be in [2, {len(CLASS_NAMES)}], '
                         f'got {num_classes!r}')
    if not (isinstance(size, (tuple, list)) and len(size) == 2):
        raise ValueError(f'size must be (width, height), got {size!r}')
    size = [_check_int('size[0] (width)', size[0], 16),
            _check_int('size[1] (height)', size[1], 16)]
    num_frames = _check_int('num_frames', num_frames, 4)
    anchor_margins(tuple(size), num_frames)
    if not isinstance(fps, (int, float, np.number)) or \
            isinstance(fps, bool) or fps <= 0:
        raise ValueError(f'fps must be a positive number, got {fps!r}')
    if not (write_videos or write_rawframes):
        raise ValueError('write_videos and write_rawframes are both False; '
                         'nothing to write')
    if codec not in CODECS:
        raise ValueError(f'codec must be one of {sorted(CODECS)}, got '
                         f'{codec!r}')
    jpeg_quality = _check_int('jpeg_quality', jpeg_quality, 1)
    if jpeg_quality > 100:
        raise ValueError(f'jpeg_quality must be in [1, 100], got '
                         f'{jpeg_quality!r}')
    params = dict(
        format_version=FORMAT_VERSION,
        classes=list(CLASS_NAMES[:num_classes]),
        videos_per_class_train=_check_int('videos_per_class_train',
                                          videos_per_class_train, 1),
        videos_per_class_val=_check_int('videos_per_class_val',
                                        videos_per_class_val, 0),
        num_frames=num_frames, size=size, fps=float(fps),
        seed=_check_int('seed', seed, 0), write_videos=bool(write_videos),
        write_rawframes=bool(write_rawframes), codec=codec,
        jpeg_quality=jpeg_quality, noise=_check_int('noise', noise, 0))
    return json.loads(json.dumps(params))


def _clips(params: dict) -> List[Tuple[str, int, str, int, int]]:
    """(split, split id, class, label, index) of every clip, in list order."""
    counts = {'train': params['videos_per_class_train'],
              'val': params['videos_per_class_val']}
    return [(split, split_id, cls, label, index)
            for split_id, split in enumerate(SPLITS)
            for label, cls in enumerate(params['classes'])
            for index in range(counts[split])]


def _video_rel(params: dict, split: str, cls: str, index: int) -> str:
    return f'videos/{split}/{cls}/{index:04d}.{CODECS[params["codec"]]}'


def _frames_rel(split: str, cls: str, index: int) -> str:
    return f'rawframes/{split}/{cls}/{index:04d}'


def synthetic_clip(params: dict, split_id: int, label: int,
                   index: int) -> np.ndarray:
    """Render clip ``index`` of class ``label`` in split ``split_id``.

    The appearance is seeded by (seed, split, index) only, the motion by
    (seed, split, index, label): clip ``index`` of every class shares one
    appearance.

    Returns:
        np.ndarray: uint8 [T, H, W, 3] BGR.
    """
    size, num_frames = tuple(params['size']), params['num_frames']
    seed = params['seed']
    appearance = sample_appearance(
        np.random.default_rng([seed, split_id, index, 0]), size, num_frames,
        noise=params['noise'])
    motion = sample_motion(
        np.random.default_rng([seed, split_id, index, 1, label]), label, size)
    return render_clip(appearance, motion, num_frames)


def _write_clip(task: tuple) -> None:
    """Render one clip and write its video and/or frames under ``root``."""
    root, params, (split, split_id, cls, label, index) = task
    frames = synthetic_clip(params, split_id, label, index)
    if params['write_videos']:
        path = osp.join(root, _video_rel(params, split, cls, index))
        os.makedirs(osp.dirname(path), exist_ok=True)
        width, height = params['size']
        writer = cv2.VideoWriter(path,
                                 cv2.VideoWriter_fourcc(*params['codec']),
                                 float(params['fps']), (width, height))
        if not writer.isOpened():
            raise RuntimeError(
                f'OpenCV cannot write {params["codec"]} video {path}; its '
                'FFmpeg backend may lack the codec (try codec="MJPG")')
        for frame in frames:
            writer.write(frame)
        writer.release()
    if params['write_rawframes']:
        folder = osp.join(root, _frames_rel(split, cls, index))
        os.makedirs(folder, exist_ok=True)
        flags = [cv2.IMWRITE_JPEG_QUALITY, params['jpeg_quality']]
        for t, frame in enumerate(frames):
            ok, data = cv2.imencode('.jpg', frame, flags)
            if not ok:
                raise RuntimeError(f'OpenCV cannot encode JPEG for {folder}')
            with open(osp.join(folder, FILENAME_TMPL.format(t + 1)),
                      'wb') as f:
                f.write(data.tobytes())


def _write_lists(root: str, params: dict) -> Dict[str, str]:
    """Annotation lists and label map; returns {name: file name}."""
    files = {}
    for split in SPLITS:
        clips = [c for c in _clips(params) if c[0] == split]
        if params['write_videos']:
            name = f'{split}_list_videos.txt'
            lines = [f'{_video_rel(params, split, cls, i)} {label}\n'
                     for _, _, cls, label, i in clips]
            with open(osp.join(root, name), 'w') as f:
                f.writelines(lines)
            files[f'{split}_videos'] = name
        if params['write_rawframes']:
            name = f'{split}_list_rawframes.txt'
            lines = [f'{_frames_rel(split, cls, i)} {params["num_frames"]} '
                     f'{label}\n' for _, _, cls, label, i in clips]
            with open(osp.join(root, name), 'w') as f:
                f.writelines(lines)
            files[f'{split}_rawframes'] = name
    with open(osp.join(root, 'label_map.txt'), 'w') as f:
        f.writelines(f'{cls}\n' for cls in params['classes'])
    files['label_map'] = 'label_map.txt'
    return files


README = """# Synthetic action dataset (mmvid)

Generated by `tools/data/generate_synthetic.py` (library:
`mmvid.data_preparation.generate_synthetic_dataset`); parameters in
`{params_file}`. Regenerating with the same parameters gives the same lists
and byte-identical JPEG frames.

## Classes (label: name)

{classes}

A textured shape (rectangle, triangle, ellipse or L; random stripes, colours,
size and position) in front of a random grey-mean texture, with per-frame
noise. The camera moves, so the whole frame moves: left / right / up / down,
rotates clockwise / counter-clockwise about the shape, or zooms in
(approach) / out (recede) on it. The class is the motion only: clip `k` of
every class in a split shares its appearance and shows exactly the same
middle frame (frame {anchor} of {num_frames}, 0-based); the classes differ in
how the frames change. A model must use time to beat chance.

## Content

- {num_train} train and {num_val} val clips ({per_train} and {per_val} per
  class), {num_frames} frames of {width}x{height} at {fps} fps.
- `videos/<split>/<class>/NNNN.{ext}` ({codec}, OpenCV) and
  `rawframes/<split>/<class>/NNNN/img_00001.jpg ...` (1-based, JPEG quality
  {jpeg_quality}), as enabled.
- `<split>_list_videos.txt`: `path label`; `<split>_list_rawframes.txt`:
  `frame_dir total_frames label`. Paths are relative to this folder.
- `label_map.txt`: class names in label order.
"""


def _write_readme(root: str, params: dict) -> None:
    width, height = params['size']
    text = README.format(
        params_file=PARAMS_FILE,
        classes='\n'.join(f'- {i}: {c}'
                          for i, c in enumerate(params['classes'])),
        anchor=anchor_frame(params['num_frames']),
        num_frames=params['num_frames'],
        num_train=params['videos_per_class_train'] * len(params['classes']),
        num_val=params['videos_per_class_val'] * len(params['classes']),
        per_train=params['videos_per_class_train'],
        per_val=params['videos_per_class_val'], width=width, height=height,
        fps=params['fps'], ext=CODECS[params['codec']],
        codec=params['codec'], jpeg_quality=params['jpeg_quality'])
    with open(osp.join(root, 'README.md'), 'w') as f:
        f.write(text)


def read_synthetic_params(out_dir: str) -> Optional[dict]:
    """The parameters of the complete dataset in ``out_dir``, or None."""
    path = osp.join(out_dir, PARAMS_FILE)
    try:
        with open(path) as f:
            return json.load(f)['params']
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _summary(out_dir: str, params: dict, files: Dict[str, str],
             seconds: float, reused: bool) -> dict:
    n = len(params['classes'])
    return dict(
        out_dir=osp.abspath(out_dir), classes=list(params['classes']),
        num_videos=dict(train=n * params['videos_per_class_train'],
                        val=n * params['videos_per_class_val']),
        num_frames=params['num_frames'], size=tuple(params['size']),
        fps=params['fps'], files=files, seconds=seconds, reused=reused,
        params=params)


def generate_synthetic_dataset(out_dir: str,
                               num_classes: int = 8,
                               videos_per_class_train: int = 48,
                               videos_per_class_val: int = 16,
                               num_frames: int = 32,
                               size: Tuple[int, int] = (128, 96),
                               fps: float = 25,
                               seed: int = 0,
                               write_videos: bool = True,
                               write_rawframes: bool = True,
                               codec: str = 'mp4v',
                               jpeg_quality: int = 95,
                               noise: int = 6,
                               force: bool = False,
                               num_workers: int = 1,
                               progress: bool = True) -> dict:
    """Write the synthetic action dataset into ``out_dir``.

    The dataset is written into a hidden sibling folder and renamed to
    ``out_dir`` at the end, so an interrupted run leaves no ``out_dir``. A
    complete dataset already in ``out_dir`` with the same parameters is
    reused (nothing is written).

    Args:
        out_dir (str): Dataset folder (layout in the module docstring).
        num_classes (int): 2..8, the first classes of ``CLASS_NAMES``.
        videos_per_class_train (int): Train clips per class.
        videos_per_class_val (int): Val clips per class (0: no val clips).
        num_frames (int): Frames per clip, >= 4.
        size (tuple[int, int]): (width, height), each >= 16.
        fps (float): Frame rate stored in the videos.
        seed (int): Same seed, same lists and JPEG bytes.
        write_videos (bool): Write ``videos/`` and the video lists.
        write_rawframes (bool): Write ``rawframes/`` and the rawframe lists.
        codec (str): 'mp4v' (.mp4), 'MJPG' or 'FFV1' (.avi).
        jpeg_quality (int): Quality of the rawframes, 1..100.
        noise (int): Per-frame pixel noise amplitude.
        force (bool): Regenerate even if ``out_dir`` holds a dataset with
            the same parameters; replace one with other parameters.
        num_workers (int): Worker processes.
        progress (bool): Show a progress bar.

    Returns:
        dict: ``out_dir``, ``classes``, ``num_videos`` ({'train', 'val'}),
        ``num_frames``, ``size``, ``fps``, ``files`` (list / label map file
        names), ``seconds``, ``reused``, ``params``.

    Raises:
        FileExistsError: ``out_dir`` is a non-empty folder without
            ``synthetic_params.json``, or (without ``force``) a dataset with
            other parameters.
    """
    params = _params(num_classes, videos_per_class_train,
                     videos_per_class_val, num_frames, size, fps, seed,
                     write_videos, write_rawframes, codec, jpeg_quality,
                     noise)
    check_num_workers(num_workers)
    start = time.perf_counter()
    if osp.exists(out_dir):
        old = read_synthetic_params(out_dir)
        if old is None and (not osp.isdir(out_dir) or os.listdir(out_dir)):
            raise FileExistsError(
                f'{out_dir} exists and is not a synthetic dataset (no '
                f'{PARAMS_FILE}); choose another folder or delete it')
        if old == params and not force:
            with open(osp.join(out_dir, PARAMS_FILE)) as f:
                files = json.load(f)['files']
            return _summary(out_dir, params, files,
                            time.perf_counter() - start, reused=True)
        if old is not None and not force:
            diff = ', '.join(f'{k}: {old.get(k)!r} -> {v!r}'
                             for k, v in params.items() if old.get(k) != v)
            raise FileExistsError(
                f'{out_dir} holds a synthetic dataset with other parameters '
                f'({diff}); pass force=True (--force) to replace it or '
                'choose another folder')
    remove_stale_partials(out_dir)
    with atomic_dir(out_dir, replace=True) as tmp:
        run_tasks(_write_clip, [(tmp, params, c) for c in _clips(params)],
                  num_workers=num_workers, progress=progress)
        files = _write_lists(tmp, params)
        _write_readme(tmp, params)
        files['readme'] = 'README.md'
        with open(osp.join(tmp, PARAMS_FILE), 'w') as f:
            json.dump(dict(generator='mmvid synthetic actions',
                           params=params, files=files), f, indent=2)
    return _summary(out_dir, params, files, time.perf_counter() - start,
                    reused=False)
