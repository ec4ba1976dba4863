"""Build a recognizer from a config and load its weights, ready to run;
recognize one video with it."""
import copy
import os.path as osp
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmvid.registry import MODELS, TRANSFORMS
from mmvid.structures import ActionDataSample
from mmvid.utils.config_files import load_config_file
from mmvid.checkpoint import load_checkpoint
from mmvid.apis.fast_path import FastPath, apply_fast_path
from mmvid.apis.frame_array import (FrameArrayDecode, frame_array,
                                    frames_sample)

VIDEO_INITS = ('DecordInit', 'OpenCVInit', 'PyAVInit', 'TorchCodecInit')
VIDEO_DECODES = ('DecordDecode', 'OpenCVDecode', 'PyAVDecode',
                 'TorchCodecDecode')
RAWFRAME_DECODES = ('RawFrameDecode', )


def turn_off_pretrained(cfg: Union[dict, list]) -> None:
    """Set every ``pretrained`` entry of a (nested) model config to None, so
    building the model reads no other weights than the checkpoint."""
    if isinstance(cfg, dict):
        for key, value in cfg.items():
            if key == 'pretrained':
                cfg[key] = None
            else:
                turn_off_pretrained(value)
    elif isinstance(cfg, (list, tuple)):
        for item in cfg:
            turn_off_pretrained(item)


def load_config(config: Union[str, Path, Config],
                cfg_options: Optional[dict] = None) -> Config:
    """A ``Config`` from a path (:func:`~mmvid.utils.config_files.
    load_config_file`: also the configs an installed mmvid ships; a syntax
    error names the file and line) or a Config, with ``cfg_options``
    merged."""
    if isinstance(config, (str, Path)):
        config = load_config_file(str(config))
    elif not isinstance(config, Config):
        raise TypeError('config must be a path or an mmengine Config, got '
                        f'{type(config).__name__}')
    if cfg_options:
        config.merge_from_dict(cfg_options)
    if 'model' not in config:
        raise KeyError(f'config {config.filename} has no "model" entry')
    return config


def init_recognizer(config: Union[str, Path, Config],
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    strict: bool = True,
                    cfg_options: Optional[dict] = None,
                    fast: Optional[FastPath] = None) -> nn.Module:
    """Build the config's model, load ``checkpoint`` and return it in eval mode.

    Args:
        config: Config file or ``Config``.
        checkpoint: mmvid, mmaction2 (0.x or 1.x) or bare state-dict file;
            None keeps the random initialisation.
        device: Device of the returned model.
        strict: Fail unless the checkpoint's keys equal the model's.
        cfg_options: Overrides merged into the config first.
        fast: Inference switches applied after loading (e.g.
            ``best_fast_path(device)``, see :mod:`mmvid.apis.fast_path`);
            None keeps exact fp32.

    Returns:
        The model, with the config as ``model.cfg`` and, when the checkpoint
        holds it, ``model.dataset_meta``.
    """
    cfg = load_config(config, cfg_options)
    turn_off_pretrained(cfg.model)
    model = MODELS.build(cfg.model)
    if checkpoint is None:
        model.init_weights()
    else:
        ckpt = load_checkpoint(model, checkpoint, strict=strict)
        meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        if isinstance(meta, dict) and 'dataset_meta' in meta:
            model.dataset_meta = meta['dataset_meta']
    model.cfg = cfg
    model = model.to(device).eval()
    if fast is not None and not fast.is_default:
        apply_fast_path(model, fast)
    return model


def transform_type_name(transform: Union[dict, Callable]) -> str:
    """``'DecordInit'`` of ``dict(type='mmvid.DecordInit')`` or of an
    instance."""
    if isinstance(transform, dict):
        name = transform.get('type', '')
        name = name if isinstance(name, str) else name.__name__
    else:
        name = type(transform).__name__
    return name.rsplit('.', 1)[-1]


def config_test_pipeline(cfg: Config) -> List[dict]:
    """The transforms ``tools/test.py`` runs: ``test_dataloader.dataset.
    pipeline``, else the top-level ``test_pipeline``."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    pipeline = dataset.get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError('the config has neither test_dataloader.dataset.'
                       'pipeline nor test_pipeline; pass test_pipeline')
    return copy.deepcopy(list(pipeline))


def pipeline_for_input(pipeline: Sequence[Union[dict, Callable]],
                       kind: str) -> list:
    """Make a test pipeline read ``kind`` (``'video'``, ``'rawframes'`` or
    ``'frames'``).

    A video pipeline (``*Init`` + ``*Decode``) given a frame folder gets
    ``RawFrameDecode`` instead; a rawframe pipeline given a video file gets
    ``DecordInit`` first and ``DecordDecode`` for ``RawFrameDecode``. For
    in-memory frames (:mod:`~mmvid.apis.frame_array`) every ``*Init`` is
    dropped and every decoder becomes ``FrameArrayDecode``. Other
    transforms are kept.
    """
    if kind not in ('video', 'rawframes', 'frames'):
        raise ValueError("kind must be 'video', 'rawframes' or 'frames', got "
                         f'{kind!r}')
    names = [transform_type_name(t) for t in pipeline]
    out = []
    if kind == 'frames':
        for transform, name in zip(pipeline, names):
            if name in VIDEO_DECODES + RAWFRAME_DECODES:
                out.append(FrameArrayDecode())
            elif name not in VIDEO_INITS:
                out.append(transform)
        return out
    if kind == 'rawframes' and any(n in VIDEO_DECODES for n in names):
        for transform, name in zip(pipeline, names):
            if name in VIDEO_DECODES:
                out.append(dict(type='RawFrameDecode'))
            elif name not in VIDEO_INITS:
                out.append(transform)
        return out
    if kind == 'video' and any(n in RAWFRAME_DECODES for n in names):
        # the reader must exist before the sampler (it gives total_frames)
        out.append(dict(type='DecordInit'))
        for transform, name in zip(pipeline, names):
            out.append(dict(type='DecordDecode')
                       if name in RAWFRAME_DECODES else transform)
        return out
    return list(pipeline)


def count_rawframes(frame_dir: str, filename_tmpl: str = 'img_{:05}.jpg',
                    start_index: int = 1) -> int:
    """Number of consecutive frame files ``filename_tmpl.format(i)`` in
    ``frame_dir`` from ``i = start_index``."""
    count = 0
    while osp.isfile(osp.join(frame_dir,
                              filename_tmpl.format(start_index + count))):
        count += 1
    return count


def video_sample(video: Union[str, Path, dict, np.ndarray, list],
                 filename_tmpl: str = 'img_{:05}.jpg') -> dict:
    """The pipeline input for a video file, a frame folder, in-memory
    frames or a sample dict.

    A video file gives ``filename`` (``start_index`` 0); a folder of frames
    ``img_00001.jpg ...`` gives ``frame_dir``, ``total_frames`` (counted),
    ``filename_tmpl``, ``offset`` 0 and ``start_index`` 1, as the datasets
    do; a ``[T, H, W, 3]`` uint8 RGB array or a list of ``[H, W, 3]``
    frames gives ``frame_array`` (:func:`~mmvid.apis.frame_array.
    frames_sample`). A dict is copied and completed with the same defaults.
    """
    if isinstance(video, (np.ndarray, list, tuple)):
        sample = frames_sample(video)
    elif isinstance(video, dict):
        sample = dict(video)
    elif isinstance(video, (str, Path)):
        path = str(video)
        if osp.isdir(path):
            sample = dict(frame_dir=path)
        elif osp.isfile(path):
            sample = dict(filename=path)
        else:
            raise FileNotFoundError(f'no video file or frame folder {path}')
    else:
        raise TypeError('video must be a path, frames or a sample dict, '
                        f'got {type(video).__name__}')
    sample.setdefault('modality', 'RGB')
    if 'frame_dir' in sample:
        sample.setdefault('filename_tmpl', filename_tmpl)
        sample.setdefault('offset', 0)
        sample.setdefault('start_index', 1)
        if 'total_frames' not in sample:
            total = count_rawframes(
                sample['frame_dir'], sample['filename_tmpl'],
                sample['start_index'] + sample['offset'])
            if total == 0:
                example = sample['filename_tmpl'].format(
                    sample['start_index'] + sample['offset'])
                raise FileNotFoundError(
                    f'{sample["frame_dir"]} has no frame {example}; set '
                    'filename_tmpl to the frame file names')
            sample['total_frames'] = total
    elif 'frame_array' in sample:
        sample['frame_array'] = frame_array(sample['frame_array'])
        sample.setdefault('total_frames', len(sample['frame_array']))
        sample.setdefault('start_index', 0)
    elif 'filename' in sample:
        sample.setdefault('start_index', 0)
    else:
        raise KeyError("a sample dict needs 'filename' (video), "
                       "'frame_dir' (rawframes) or 'frame_array' (frames)")
    sample.setdefault('rng', np.random.default_rng(0))
    return sample


def inference_recognizer(
        model: nn.Module,
        video: Union[str, Path, dict, np.ndarray, list],
        test_pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
        filename_tmpl: str = 'img_{:05}.jpg') -> ActionDataSample:
    """Recognize one video as ``tools/test.py`` would: the test pipeline
    (all its views), then ``model.test_step``.

    Args:
        model: A recognizer from :func:`init_recognizer` (its ``cfg`` gives
            the pipeline unless ``test_pipeline`` is given).
        video: A video file, a folder of extracted frames, frames in memory
            (``[T, H, W, 3]`` uint8 RGB array or list of frames), or a
            pipeline input dict (``filename``, ``frame_dir`` or
            ``frame_array`` and, optionally, ``total_frames``,
            ``start_index``, ...). The config's decoder is swapped to match:
            a video config reads a frame folder with ``RawFrameDecode``, a
            rawframe config a video file with decord, either config frames
            in memory with ``FrameArrayDecode`` (the sampler sees
            ``total_frames`` = T).
        test_pipeline: Transforms (config dicts or callables) to use instead
            of the config's.
        filename_tmpl: Frame file names in a frame folder.

    Returns:
        The ``ActionDataSample`` with ``pred_score`` (view-averaged, ``[K]``)
        and ``pred_label``.
    """
    data = prepare_test_inputs(model, video, test_pipeline, filename_tmpl)
    model.eval()
    with torch.no_grad():
        return model.test_step(pseudo_collate([data]))[0]


def prepare_test_inputs(
        model: nn.Module,
        video: Union[str, Path, dict, np.ndarray, list],
        test_pipeline: Optional[Sequence[Union[dict, Callable]]] = None,
        filename_tmpl: str = 'img_{:05}.jpg') -> dict:
    """One video through the test pipeline, as :func:`inference_recognizer`
    runs it (arguments alike).

    Returns:
        The pipeline's packed sample: ``inputs`` (uint8 ``[views, C, T, H,
        W]`` for a 3D config) and ``data_samples``.
    """
    from mmvid.utils import register_all_modules
    register_all_modules()
    if test_pipeline is None:
        cfg = getattr(model, 'cfg', None)
        if cfg is None:
            raise ValueError('the model has no cfg (build it with '
                             'init_recognizer) and no test_pipeline was given')
        test_pipeline = config_test_pipeline(cfg)
    sample = video_sample(video, filename_tmpl)
    kind = ('frames' if 'frame_array' in sample else
            'rawframes' if 'frame_dir' in sample else 'video')
    pipeline = Compose([
        TRANSFORMS.build(t) if isinstance(t, dict) else t
        for t in pipeline_for_input(list(test_pipeline), kind)
    ])
    data = pipeline(sample)
    if data is None:
        raise RuntimeError('the test pipeline dropped the sample')
    return data


def top_k_classes(data_sample: ActionDataSample, k: int = 5,
                  class_names: Optional[Sequence[str]] = None) -> list:
    """The ``k`` best ``(class index, name, score)`` of a prediction, best
    first (ties: lower index first); ``name`` is None without
    ``class_names``.

    Raises:
        ValueError: ``class_names`` does not have one name per class.
    """
    scores = data_sample.pred_score
    if scores.dim() == 2:  # average_clips=None: [views, K]
        scores = scores.mean(0)
    scores = scores.detach().float().cpu()
    if class_names is not None and len(class_names) != scores.numel():
        raise ValueError(f'{len(class_names)} class names for a model with '
                         f'{scores.numel()} classes')
    k = min(int(k), scores.numel())
    order = sorted(range(scores.numel()), key=lambda i: (-scores[i].item(), i))
    return [(i, None if class_names is None else class_names[i],
             scores[i].item()) for i in order[:k]]
