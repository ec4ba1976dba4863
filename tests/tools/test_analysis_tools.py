"""tools/analysis/benchmark.py and analyze_logs.py, in subprocesses."""
import json
import os
import os.path as osp
import re
import struct
import subprocess
import sys

import pytest

from mmvid.models.recognizers.recognizer3d import resolve_memory_format
from tests.helpers import tiny_video_set
from tests.analysis.test_log_analysis import (EPOCHS, INTERVAL, ITERS_PER_EPOCH,
                                           demo_log_records, write_log)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


def run_tool(name, *args):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    return subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'analysis', name)] +
        [str(a) for a in args], capture_output=True, text=True, env=env,
        timeout=120)


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, 'rb') as f:
        header = f.read(24)
    assert header[:8] == b'\x89PNG\r\n\x1a\n' and header[12:16] == b'IHDR'
    return struct.unpack('>II', header[16:24])


def test_benchmark_cli_on_the_demo_config(tmp_path):
    root = tmp_path / 'syn'
    tiny_video_set(root)
    out = tmp_path / 'bench.json'
    done = run_tool(
        'benchmark.py', DEMO_CONFIG, '--num-videos', 1, '--warmup', 1,
        '--fuse-conv-bn', '--json', out, '--cfg-options',
        f'test_dataloader.dataset.ann_file={root}/val_list_videos.txt',
        f'test_dataloader.dataset.data_prefix.video={root}',
        f'test_dataloader.dataset.label_file={root}/label_map.txt',
        'test_dataloader.num_workers=1')
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for pattern in (
            r'device: cpu \(.+\); torch threads: \d+',
            r'dtype: float32; memory format: '
            + resolve_memory_format('auto') + '; '
            r'conv-bn fused: yes \(20 BN layers\); torch.compile: no',
            r'batch: 1 video\(s\); views per video: 6 of C x T x H x W = '
            r'3x16x64x64; loader workers: 1',
            r'timed: 1 videos \(6 clips\) after 1 warmup batch',
            r'model-only: [\d.]+ video/s  \([\d.]+ clip/s, [\d.]+ ms/video',
            r'end-to-end: [\d.]+ video/s', r'peak memory: [\d.]+ MiB',
            r'versions: torch \S+, mmvid \S+'):
        assert re.search(pattern, text), (pattern, text)
    result = json.loads(out.read_text())
    assert result['views_per_video'] == 6 and result['num_clips'] == 6
    assert result['clips_per_s'] == pytest.approx(
        6 * result['model_videos_per_s'])
    assert 'scores' not in result
    model_speed = float(re.search(r'model-only: ([\d.]+)', text).group(1))
    assert model_speed == pytest.approx(result['model_videos_per_s'],
                                        abs=0.01)


def test_plot_curve_cli(tmp_path):
    a = write_log(tmp_path / 'a.json', demo_log_records())
    b = write_log(tmp_path / 'b.json', demo_log_records(offset=0.1))
    out = tmp_path / 'curves.png'
    done = run_tool('analyze_logs.py', 'plot_curve', a, b, '--keys', 'loss',
                    'top1_acc', '--legend', 'run_a', 'run_b', '--title',
                    'demo', '--out', out)
    assert done.returncode == 0, done.stderr
    # loss (train), top1_acc (train and val): 3 panels, 2 columns x 2 rows
    # of 6 x 4 inches at 100 dpi
    assert '6 curve(s) of 2 log(s)' in done.stdout
    assert png_size(out) == (1200, 800)

    one = tmp_path / 'one.png'
    done = run_tool('analyze_logs.py', 'plot_curve', a, '--keys',
                    'val/top1_acc', '--out', one, '--dpi', 50)
    assert done.returncode == 0, done.stderr
    assert png_size(one) == (300, 200)

    done = run_tool('analyze_logs.py', 'plot_curve', a, '--keys', 'nope',
                    '--out', one)
    assert done.returncode == 1
    assert "'nope' is in none of the logs" in done.stderr
    assert 'mean_class_accuracy' in done.stderr  # the keys there are


def test_cal_train_time_cli(tmp_path):
    records = demo_log_records()
    work_dir = tmp_path / 'work'
    vis = work_dir / '20260101_120000' / 'vis_data'
    vis.mkdir(parents=True)
    log = write_log(vis / '20260101_120000.json', records)
    done = run_tool('analyze_logs.py', 'cal_train_time', work_dir)
    assert done.returncode == 0, done.stderr
    # each epoch's first logged value left out
    times = [r['time'] for r in records if 'iter' in r and
             r['iter'] % ITERS_PER_EPOCH != INTERVAL]
    assert len(times) == EPOCHS * (ITERS_PER_EPOCH // INTERVAL - 1)
    assert f'Analyze train time of {log}' in done.stdout
    assert (f'average iter time: {sum(times) / len(times):.4f} s/iter '
            f'({len(times)} logged values)') in done.stdout
    assert f'slowest epoch {EPOCHS},' in done.stdout
    assert 'fastest epoch 1,' in done.stdout

    done = run_tool('analyze_logs.py', 'cal_train_time', log,
                    '--include-outliers')
    every = [r['time'] for r in records if 'iter' in r]
    assert f'average iter time: {sum(every) / len(every):.4f}' in \
        done.stdout
