"""run_tool: ending a CPU distributed run cleanly."""
import os.path as osp

RUN_TOOL_SCRIPT = '''
import os, sys, torch
from mmvid.cli.distributed import run_tool
os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=sys.argv[1])
def main():
    torch.distributed.init_process_group('gloo', rank=0, world_size=1)
    print('work done', flush=False)
    if sys.argv[2] == 'fail':
        raise ValueError('bad flag')
run_tool(main)
print('not reached after a distributed CPU run')
'''


def test_run_tool_ends_a_cpu_distributed_run_cleanly(tmp_path):
    import socket
    import subprocess
    import sys
    script = tmp_path / 'tool.py'
    script.write_text(RUN_TOOL_SCRIPT)
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    for mode in ('ok', 'fail'):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(script), str(port), mode],
            capture_output=True, text=True, timeout=120,
            env=dict(__import__('os').environ, PYTHONPATH=repo,
                     CUDA_VISIBLE_DEVICES=''))
        # the unflushed print still reaches stdout
        assert 'work done' in done.stdout
        assert 'not reached' not in done.stdout
        if mode == 'ok':
            assert done.returncode == 0, done.stderr[-2000:]
        else:
            assert done.returncode == 1
            assert 'ValueError: bad flag' in done.stderr
