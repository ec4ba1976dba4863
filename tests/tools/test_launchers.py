"""The launch scripts end to end on CPU: ``tools/dist_{train,test}.sh`` with
2 torchrun processes (gloo), ``tools/slurm_{train,test}.sh`` through a fake
``srun`` that records its argv and runs the command as one Slurm task.

Integration tests: each starts real training / testing processes on a tiny
synthetic dataset (together well under two minutes on 2 CPU cores).
"""
import json
import os
import os.path as osp
import sys

import pytest


from .tiny_runs import (CONFIG, NUM_CLASSES, NUM_VAL, REPO, TOOLS,
                        data_options, free_port, read_log, run, script_env,
                        write_script)


@pytest.fixture(scope='module')
def trained(data, tmp_path_factory):
    """One 2-process ``dist_train.sh`` run: (work dir, its output)."""
    cwd = tmp_path_factory.mktemp('dist_train')
    work_dir = cwd / 'work'
    done = run(['bash', osp.join(TOOLS, 'dist_train.sh'), CONFIG, 2,
                '--seed', 0, '--work-dir', work_dir,
                '--cfg-options'] + data['options'],
               script_env(PORT=free_port()), cwd)
    return work_dir, done


def test_dist_train_two_processes(trained):
    work_dir, done = trained
    assert done.returncode == 0, done.stdout[-6000:]
    assert (work_dir / 'epoch_1.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip() == \
        str(work_dir / 'epoch_1.pth')
    log = read_log(work_dir)
    assert 'Distributed launcher: pytorch' in log
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert "backend='gloo'" in log
    # 16 clips / (batch 4 x 2 ranks) = 2 iterations (1 process: 4)
    assert 'Epoch(train) [1][2/2]' in log


def test_dist_test_matches_single_process(trained, data, tmp_path):
    work_dir, done = trained
    assert done.returncode == 0, done.stdout[-6000:]
    ckpt = work_dir / 'epoch_1.pth'
    flags = ['--eval', 'top_k_accuracy', 'mean_class_accuracy',
             '--cfg-options'] + data['options']
    dist = run(['bash', osp.join(TOOLS, 'dist_test.sh'), CONFIG, ckpt, 2,
                '--out', 'result.json', '--work-dir', 'work_dist'] + flags,
               script_env(PORT=free_port()), tmp_path)
    assert dist.returncode == 0, dist.stdout[-6000:]
    assert 'GPU number: 2' in read_log(tmp_path / 'work_dist')
    # the metrics and the summary come from rank 0 only
    assert dist.stdout.count('\ntop1_acc: ') == 1, dist.stdout[-3000:]
    assert dist.stdout.count('\nmean_class_accuracy: ') == 1
    assert f'scores of {NUM_VAL} videos written to result.json' in \
        dist.stdout

    env = script_env(PYTHONPATH=REPO)
    single = run([sys.executable, osp.join(TOOLS, 'test.py'), CONFIG, ckpt,
                  '--out', 'single.json', '--work-dir', 'work_single'] +
                 flags, env, tmp_path)
    assert single.returncode == 0, single.stdout[-6000:]

    result = json.loads((tmp_path / 'result.json').read_text())
    expected = json.loads((tmp_path / 'single.json').read_text())
    # one K-long list per val video: the sampler's padding is gone
    assert len(expected) == NUM_VAL
    assert len(result) == NUM_VAL
    assert all(len(scores) == NUM_CLASSES for scores in result)

    def diff(a, b):
        return max(abs(x - y) for x, y in zip(a, b))

    # the rows differ, so a reordering would be caught ...
    assert min(diff(expected[i], expected[j]) for i in range(NUM_VAL)
               for j in range(i)) > 1e-5
    # ... and the 2-process rows are the 1-process rows, in dataset order
    assert max(diff(r, e) for r, e in zip(result, expected)) <= 1e-6
    # the printed metrics agree too
    metric_lines = [line for line in single.stdout.splitlines()
                    if line.startswith(('top1_acc:', 'top5_acc:',
                                        'mean_class_accuracy:'))]
    assert len(metric_lines) == 3
    for line in metric_lines:
        assert '\n' + line + '\n' in dist.stdout


@pytest.fixture
def fake_slurm(tmp_path):
    """A bin folder with a fake ``srun`` (records argv, MASTER_PORT and
    PYTHONPATH as json, then runs the command as task 0 of 1 on this host,
    on the port given in FAKE_SRUN_PORT) and a fake ``scontrol``."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    write_script(bin_dir / 'srun', f'''#!{sys.executable}
import json, os, sys
argv = sys.argv[1:]
with open(os.environ['FAKE_SRUN_RECORD'], 'w') as f:
    json.dump(dict(argv=argv, MASTER_PORT=os.environ.get('MASTER_PORT'),
                   PYTHONPATH=os.environ.get('PYTHONPATH')), f)
i = 0
while argv[i].startswith('-'):  # srun options; -p takes a value
    i += 2 if argv[i] == '-p' else 1
env = dict(os.environ, SLURM_PROCID='0', SLURM_NTASKS='1', SLURM_LOCALID='0',
           SLURM_NODEID='0', SLURM_NNODES='1', SLURM_NODELIST='localhost',
           SLURM_JOB_ID='1', MASTER_PORT=os.environ['FAKE_SRUN_PORT'])
os.execvpe(argv[i], argv[i:], env)
''')
    write_script(bin_dir / 'scontrol', f'''#!{sys.executable}
import sys
assert sys.argv[1:3] in (['show', 'hostnames'], ['show', 'hostname'])
print(sys.argv[3])  # only single hosts here
''')
    record = tmp_path / 'srun.json'
    env = script_env(PATH=f'{bin_dir}{os.pathsep}{os.environ["PATH"]}',
                     FAKE_SRUN_RECORD=record, FAKE_SRUN_PORT=free_port())
    return env, record


def test_slurm_train(data, tmp_path, fake_slurm):
    env, record = fake_slurm
    work_dir = tmp_path / 'work'
    options = data_options(data, dict(train=data['train_small'],
                                      val=data['val'], test=data['val']))
    py_args = ['--seed', '0', '--work-dir', str(work_dir),
               '--cfg-options'] + options
    done = run(['bash', osp.join(TOOLS, 'slurm_train.sh'), 'gpu', 'my job',
                CONFIG] + py_args, env, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    srun = json.loads(record.read_text())
    assert srun['argv'] == [
        '-p', 'gpu', '--job-name=my job', '--gres=gpu:8', '--ntasks=8',
        '--ntasks-per-node=8', '--cpus-per-task=5', '--kill-on-bad-exit=1',
        sys.executable, '-u', osp.join(TOOLS, 'train.py'), CONFIG,
        '--launcher', 'slurm'] + py_args
    assert 12000 <= int(srun['MASTER_PORT']) < 32000
    assert srun['PYTHONPATH'] == REPO
    # training ran under the slurm launcher, as 1 task, to the end
    assert (work_dir / 'epoch_1.pth').is_file()
    log = read_log(work_dir)
    assert 'Distributed launcher: slurm' in log
    assert 'Distributed training: True' in log
    assert 'GPU number: 1' in log
    assert 'Epoch(train) [1][1/1]' in log  # 4 clips, batch 4, 1 task


def test_slurm_test(trained, data, tmp_path, fake_slurm):
    work_dir, done = trained
    assert done.returncode == 0, done.stdout[-6000:]
    env, record = fake_slurm
    env.update(GPUS='16', GPUS_PER_NODE='4', CPUS_PER_TASK='2',
               SRUN_ARGS='--quotatype=auto --exclusive', MASTER_PORT='12345',
               PYTHONPATH='/elsewhere')
    options = data_options(data, dict(test=data['val_small']))
    py_args = ['--out', 'scores.pkl', '--work-dir', 'work',
               '--cfg-options'] + options
    done = run(['bash', osp.join(TOOLS, 'slurm_test.sh'), 'p1', 'job',
                CONFIG, work_dir / 'epoch_1.pth'] + py_args, env, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:]
    srun = json.loads(record.read_text())
    assert srun['argv'] == [
        '-p', 'p1', '--job-name=job', '--gres=gpu:4', '--ntasks=16',
        '--ntasks-per-node=4', '--cpus-per-task=2', '--kill-on-bad-exit=1',
        '--quotatype=auto', '--exclusive', sys.executable, '-u',
        osp.join(TOOLS, 'test.py'), CONFIG, str(work_dir / 'epoch_1.pth'),
        '--launcher', 'slurm'] + py_args
    assert srun['MASTER_PORT'] == '12345'
    assert srun['PYTHONPATH'] == f'{REPO}:/elsewhere'
    assert 'Distributed launcher: slurm' in read_log(tmp_path / 'work')
    assert 'scores of 3 videos written to scores.pkl' in done.stdout
    assert (tmp_path / 'scores.pkl').is_file()


def test_dist_scripts_argv_and_env(tmp_path):
    """What the dist scripts hand torchrun, with a fake python."""
    record = tmp_path / 'python.json'
    fake = write_script(tmp_path / 'fakepy', f'''#!{sys.executable}
import json, os, sys
with open({str(record)!r}, 'w') as f:
    json.dump(dict(argv=sys.argv[1:], env={{
        k: os.environ.get(k) for k in ('PYTHONPATH', 'OMP_NUM_THREADS')}}), f)
''')
    run_py = ['-m', 'torch.distributed.run']

    done = run(['bash', osp.join(TOOLS, 'dist_train.sh'), 'cfg.py', 3,
                '--cfg-options', 'a=1 2', '--seed', 1],
               script_env(PYTHON=fake), tmp_path)
    assert done.returncode == 0, done.stdout
    got = json.loads(record.read_text())
    assert got['argv'] == run_py + [
        '--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
        '--master_port=29500', '--nproc_per_node=3', '--max-restarts=0',
        osp.join(TOOLS, 'train.py'), 'cfg.py', '--launcher', 'pytorch',
        '--cfg-options', 'a=1 2', '--seed', '1']
    assert got['env'] == dict(PYTHONPATH=REPO, OMP_NUM_THREADS='1')

    env = script_env(PYTHON=fake, NNODES=2, NODE_RANK=1,
                     MASTER_ADDR='10.1.2.3', PORT=4321, PYTHONPATH='/x',
                     OMP_NUM_THREADS=4, MAX_RESTARTS=2)
    done = run(['bash', osp.join(TOOLS, 'dist_test.sh'), 'cfg.py', 'w.pth',
                8, '--out', 'r.json'], env, tmp_path)
    assert done.returncode == 0, done.stdout
    got = json.loads(record.read_text())
    assert got['argv'] == run_py + [
        '--nnodes=2', '--node_rank=1', '--master_addr=10.1.2.3',
        '--master_port=4321', '--nproc_per_node=8', '--max-restarts=2',
        osp.join(TOOLS, 'test.py'), 'cfg.py', 'w.pth', '--launcher',
        'pytorch', '--out', 'r.json']
    assert got['env'] == dict(PYTHONPATH=f'{REPO}:/x', OMP_NUM_THREADS='4')


@pytest.mark.parametrize('script,nargs', [
    ('dist_train.sh', 2), ('dist_test.sh', 3), ('slurm_train.sh', 3),
    ('slurm_test.sh', 4)])
def test_scripts_need_their_positional_args(tmp_path, script, nargs):
    done = run(['bash', osp.join(TOOLS, script)] + ['x'] * (nargs - 1),
               script_env(), tmp_path)
    assert done.returncode == 2
    assert 'usage:' in done.stdout
