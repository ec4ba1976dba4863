"""Distributed runs of the tools: starting a CPU (gloo) process group from
a launcher's environment, and leaving it cleanly."""
import datetime
import logging
import os
import subprocess
import sys
from typing import Callable

import torch
from mmengine.config import Config


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
    restart = env.get('TORCHELASTIC_RESTART_COUNT')
    if restart and restart != '0':
        # a worker group torchrun restarted: the agent's store still holds
        # the dead workers' rendezvous keys; meet in a namespace of its own
        store = torch_dist.TCPStore(
            env['MASTER_ADDR'], int(env['MASTER_PORT']), is_master=False,
            timeout=kwargs.get('timeout', datetime.timedelta(minutes=30)))
        kwargs.update(store=torch_dist.PrefixStore(
            f'/mmvid/restart_{restart}', store),
            rank=int(env['RANK']), world_size=int(env['WORLD_SIZE']))
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
