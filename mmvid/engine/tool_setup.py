"""What tools/train.py and tools/test.py share: common flags and turning a
config file plus those flags into the config mmengine's Runner runs."""
import argparse
import datetime
import logging
import os
import os.path as osp
import subprocess
import sys
from typing import Callable, Optional

import torch
from mmengine.config import Config, DictAction

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir',
                        help='where logs and checkpoints go (default: the '
                        "config's work_dir, else work_dirs/<config name>)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config entries: key=value ... '
                        '(e.g. train_dataloader.batch_size=4)')
    parser.add_argument('--launcher', choices=LAUNCHERS, default='none',
                        help='job launcher for distributed runs')
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0,
                        help='set by torch.distributed.launch')


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
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file not found: {config}')
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    cfg = Config.fromfile(config)
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


def _slurm_master_addr(node_list: str) -> str:
    """The first host of a Slurm node list (``scontrol`` expands it)."""
    try:
        done = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                              capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError(
            f'cannot expand SLURM_NODELIST={node_list!r} with scontrol '
            f'({e}); set MASTER_ADDR') from e
    hosts = done.stdout.split()
    if not hosts:
        raise RuntimeError(f'scontrol listed no host for {node_list!r}; '
                           'set MASTER_ADDR')
    return hosts[0]


def init_cpu_dist(cfg: Config) -> None:
    """Start ``torch.distributed`` for a distributed run without CUDA.

    mmengine's ``init_dist`` (which the Runner calls when no process group
    exists yet) calls ``torch.cuda.set_device``, which fails on a CPU-only
    torch build. Without CUDA this starts the process group itself, from
    the launcher's environment, with ``cfg.env_cfg.dist_cfg`` (gloo after
    :func:`load_tool_config`; ``timeout`` in seconds), and the Runner
    reuses it. With CUDA, or with ``launcher='none'``, or once a process
    group exists, it does nothing.

    Environment read per launcher:

    - ``pytorch``: ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``,
      ``MASTER_PORT`` (set by torchrun).
    - ``slurm``: ``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_LOCALID``
      (default 0), ``SLURM_NODELIST``; ``MASTER_ADDR`` defaults to the first
      node (``scontrol show hostnames``), ``MASTER_PORT`` to 29500.
    - ``mpi``: ``OMPI_COMM_WORLD_RANK``, ``OMPI_COMM_WORLD_SIZE``,
      ``OMPI_COMM_WORLD_LOCAL_RANK``; ``MASTER_ADDR`` is required,
      ``MASTER_PORT`` defaults to 29500.

    ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` are exported as torchrun
    would (the Runner reads ``LOCAL_RANK``).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return
    import torch.distributed as torch_dist
    if torch_dist.is_initialized():
        return
    env = os.environ
    if launcher == 'slurm':
        env['RANK'] = env['SLURM_PROCID']
        env['WORLD_SIZE'] = env['SLURM_NTASKS']
        env['LOCAL_RANK'] = env.get('SLURM_LOCALID', '0')
        env.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in env:
            env['MASTER_ADDR'] = _slurm_master_addr(env['SLURM_NODELIST'])
    elif launcher == 'mpi':
        env['RANK'] = env['OMPI_COMM_WORLD_RANK']
        env['WORLD_SIZE'] = env['OMPI_COMM_WORLD_SIZE']
        env['LOCAL_RANK'] = env['OMPI_COMM_WORLD_LOCAL_RANK']
        env.setdefault('MASTER_PORT', '29500')
        if 'MASTER_ADDR' not in env:
            raise KeyError('--launcher mpi needs MASTER_ADDR')
    elif launcher != 'pytorch':
        raise ValueError(f'unknown launcher {launcher!r}')
    kwargs = dict(cfg.get('env_cfg', {}).get('dist_cfg', {}))
    backend = kwargs.pop('backend', 'gloo')
    if kwargs.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
    torch_dist.init_process_group(backend=backend, **kwargs)


def finish_distributed() -> None:
    """Leave the process group cleanly at the end of a tool.

    A group that is never destroyed leaves gloo's threads running while the
    interpreter exits, which can abort the process ("terminate called
    without an active exception") after all work is done. No barrier: a
    rank that failed must not leave the others waiting.
    """
    if torch.distributed.is_available() and \
            torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def run_tool(main: Callable[[], None]) -> None:
    """Run a tool's ``main`` and leave the process group afterwards.

    A CPU (gloo) distributed run then ends its process with ``os._exit(0)``
    once logs and streams are flushed: even with the group destroyed,
    torch's C++ threads could still abort a rank during interpreter
    teardown ("terminate called without an active exception", exit code
    -6) after all its work was done, failing the launcher. Errors propagate
    as usual.
    """
    try:
        main()
    except BaseException:
        finish_distributed()
        raise
    distributed = torch.distributed.is_available() and \
        torch.distributed.is_initialized()
    finish_distributed()
    if distributed and not torch.cuda.is_available():
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


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
    from mmvid.utils.fast_path import check_amp, native_bf16
    if torch.cuda.is_available():
        dtype = 'bfloat16' if native_bf16(torch.device('cuda')) \
            else 'float16'
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.dtype = dtype
        cfg.optim_wrapper.loss_scale = 'dynamic'
        return dtype
    check_amp('bf16', torch.device('cpu'))  # raises without native bf16
    cfg.optim_wrapper.type = 'BF16OptimWrapper'
    cfg.optim_wrapper.device_type = 'cpu'
    return 'bfloat16'
