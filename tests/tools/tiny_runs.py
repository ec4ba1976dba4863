"""Running the command-line tools on a tiny synthetic dataset: paths, the
environment, process handling and the ``--cfg-options`` that point the demo
config at the data (shared by the tool integration tests)."""
import glob
import os
import os.path as osp
import signal
import socket
import stat
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools')
CONFIG = osp.join(REPO, 'configs', 'recognition', 'i3d',
                  'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')
NUM_CLASSES = 8
NUM_TRAIN = 16  # 8 classes x 2
NUM_VAL = 9  # odd: 2 ranks get 5 + 5, one of them a padded duplicate
# set by a caller's shell; the scripts must not depend on them
LAUNCH_VARS = ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'MASTER_PORT', 'PORT',
               'GPUS', 'GPUS_PER_NODE', 'CPUS_PER_TASK', 'SRUN_ARGS',
               'RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'PYTHONPATH')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def script_env(**extra) -> dict:
    """The caller's environment without launch variables or PYTHONPATH (the
    scripts must put the repo on it), with ``PYTHON`` = this interpreter."""
    env = {k: v for k, v in os.environ.items()
           if k not in LAUNCH_VARS and not k.startswith(('SLURM_', 'OMPI_'))}
    env['PYTHON'] = sys.executable
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd, env, cwd, timeout=300) -> subprocess.CompletedProcess:
    """Run ``cmd``; on a timeout kill its whole process group (torchrun's
    workers included) and fail."""
    proc = subprocess.Popen([str(c) for c in cmd], env=env, cwd=str(cwd),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f'{cmd[:2]} timed out after {timeout} s:\n{out[-4000:]}')
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def forced_native_bf16_command(native: bool, script: str) -> list:
    """The command that runs the tool ``script`` (arguments to follow) with
    ``mmvid.apis.fast_path.native_bf16`` monkeypatched to answer
    ``native`` in the child process, before the tool is imported: so a
    test checks the branch of either kind of CPU on any machine."""
    code = ('import runpy, sys\n'
            'import mmvid.apis.fast_path as fast_path\n'
            f'fast_path.native_bf16 = lambda device: {bool(native)}\n'
            'sys.argv = sys.argv[1:]\n'
            'runpy.run_path(sys.argv[0], run_name="__main__")\n')
    return [sys.executable, '-c', code, script]


def write_script(path, text: str) -> str:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP)
    return str(path)


def data_options(data: dict, split_lists: dict) -> list:
    """``--cfg-options`` pointing the demo config at the tiny dataset, with
    in-process data loading."""
    options = []
    for split, ann_file in split_lists.items():
        prefix = f'{split}_dataloader'
        options += [f'{prefix}.dataset.ann_file={ann_file}',
                    f'{prefix}.dataset.data_prefix.video={data["root"]}',
                    f'{prefix}.dataset.label_file={data["label_map"]}',
                    f'{prefix}.num_workers=0',
                    # torch's DataLoader refuses persistent workers with 0
                    f'{prefix}.persistent_workers=False']
    return options + ['train_dataloader.batch_size=4',
                      'val_dataloader.batch_size=4', 'train_cfg.max_epochs=1']


def train_args(data: dict, work_dir, epochs: int, *flags,
               options=()) -> list:
    """``tools/train.py``'s arguments for the demo config on the tiny set:
    ``--seed 0 --deterministic``, ``flags``, then the tiny-data options,
    ``epochs`` epochs on ``train_small`` and the extra ``options``."""
    return [CONFIG, '--seed', 0, '--deterministic', '--work-dir', work_dir,
            *flags, '--cfg-options', *data['options'],
            f'train_cfg.max_epochs={epochs}',
            f'train_dataloader.dataset.ann_file={data["train_small"]}',
            *options]


def read_log(work_dir) -> str:
    logs = glob.glob(osp.join(str(work_dir), '*', '*.log'))
    assert len(logs) == 1, logs
    with open(logs[0]) as f:
        return f.read()
