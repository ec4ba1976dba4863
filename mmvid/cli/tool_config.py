"""Turning a config file plus the tools' flags into the config mmengine's
Runner runs."""
import argparse
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config

from mmvid.apis import fast_path
from mmvid.utils.config_files import load_config_file


def load_tool_config(config: str, args: argparse.Namespace) -> Config:
    """The config with ``--cfg-options``, launcher and work dir applied.

    The work dir is, in priority: ``--work-dir``, the config's ``work_dir``,
    ``work_dirs/<config file name>``. Without CUDA the distributed backend
    becomes gloo and a distributed run wraps the model in DDP without
    ``device_ids`` (mmengine passes ``[LOCAL_RANK]``, which DDP refuses for
    a CPU module; see also :func:`init_cpu_dist`). With CUDA, the
    dataloaders pin memory unless the config says otherwise.
    ``use_tensorboard=True`` adds a TensorBoard backend.
    """
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = load_config_file(config)  # or one an installed mmvid ships
    config = cfg.filename
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    if torch.cuda.is_available():
        # page-locked batches copy to the GPU asynchronously; useless (and
        # warned about) without CUDA
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            if cfg.get(loader) is not None:
                cfg[loader].setdefault('pin_memory', True)
    else:
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg.backend = 'gloo'
        if args.launcher != 'none' and cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = dict(
                type='MMDistributedDataParallel', device_ids=None,
                broadcast_buffers=False,
                find_unused_parameters=cfg.get('find_unused_parameters',
                                               False))
    if cfg.get('use_tensorboard'):
        backends = cfg.visualizer.setdefault('vis_backends', [])
        if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
            backends.append(dict(type='TensorboardVisBackend'))
    return cfg


def set_average_clips(cfg: Config, average_clips: Optional[str]) -> None:
    """``--average-clips prob|score|none``: override how views are averaged
    (in the head and, where a config sets it there, in ``test_cfg``)."""
    if average_clips is None:
        return
    value = None if average_clips == 'none' else average_clips
    cfg.model.cls_head.average_clips = value
    if 'average_clips' in (cfg.model.get('test_cfg') or {}):
        cfg.model.test_cfg.average_clips = value


def set_amp_optim_wrapper(cfg: Config) -> str:
    """``--amp``: the optimizer wrapper for mixed precision on this machine.

    CUDA with bf16 -> ``AmpOptimWrapper`` (bfloat16, loss scaling kept as
    mmengine does); other GPUs -> ``AmpOptimWrapper`` (float16, dynamic loss
    scaling); CPU with native bf16 -> :class:`BF16OptimWrapper`. A CPU
    without native bf16 is refused: its bf16 kernels are slower than fp32.

    Returns:
        The autocast dtype, ``'bfloat16'`` or ``'float16'``.
    """
    if torch.cuda.is_available():
        dtype = 'bfloat16' if fast_path.native_bf16(torch.device('cuda')) \
            else 'float16'
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = dtype
        cfg.optim_wrapper.loss_scale = 'dynamic'
        return dtype
    # raises without native bf16
    fast_path.check_amp('bf16', torch.device('cpu'))
    cfg.optim_wrapper.type = 'BF16OptimWrapper'
    cfg.optim_wrapper.device_type = 'cpu'
    return 'bfloat16'


def check_output_file(path: str, flag: str) -> None:
    """Fail before a run, not after it, when ``path`` cannot be written:
    it is a folder, a file stands where a parent folder must go, or the
    nearest existing folder is not writable.

    Raises:
        ValueError: naming ``flag``, the path and the reason.
    """
    if osp.isdir(path):
        raise ValueError(f'{flag} {path}: is a folder; give a file name')
    folder = osp.dirname(osp.abspath(path))
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder):
        raise ValueError(f'{flag} {path}: {folder} is a file, not a folder')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f'{flag} {path}: cannot write in {folder}')
