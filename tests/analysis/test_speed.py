"""run_benchmark on the demo config with tiny data."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmvid.analysis import speed
from mmvid.analysis.speed import BenchmarkResult, run_benchmark
from mmvid.apis import fast_path, load_config
from mmvid.apis.fast_path import FastPath, describe_fast_path
from mmvid.models.recognizers.recognizer3d import resolve_memory_format
from mmvid.registry import MODELS
from tests.helpers import randomize_bns, tiny_video_set

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(
    REPO, 'configs', 'recognition', 'i3d',
    'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """Two val videos and a demo-model checkpoint with random BN stats."""
    root = tmp_path_factory.mktemp('bench') / 'syn'
    tiny_video_set(root)
    torch.manual_seed(3)
    model = randomize_bns(MODELS.build(load_config(DEMO_CONFIG).model))
    ckpt = root.parent / 'demo_random.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    options = {
        'test_dataloader.dataset.ann_file': str(root / 'val_list_videos.txt'),
        'test_dataloader.dataset.data_prefix.video': str(root),
        'test_dataloader.dataset.label_file': str(root / 'label_map.txt'),
    }
    return root, str(ckpt), options


def test_run_benchmark_reports_and_fusing_keeps_predictions(tiny):
    _, ckpt, options = tiny
    lines = []
    plain = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                          warmup=1, num_workers=0, cfg_options=options,
                          log_interval=1, log=lines.append)
    fused = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                          warmup=1, num_workers=0, cfg_options=options,
                          fuse=True)
    assert isinstance(plain, BenchmarkResult)
    assert lines == [f'Done video [1/1], model-only: '
                     f'{plain.model_videos_per_s:.2f} video/s']
    # the demo test pipeline: 2 clips x 3 crops of 16 x 64 x 64
    assert plain.views_per_video == 6
    assert plain.view_shape == (3, 16, 64, 64)
    assert (plain.num_videos, plain.num_clips) == (1, 6)
    assert plain.device == 'cpu' and plain.dtype == 'float32'
    # the recognizer's default layout on this machine
    assert plain.memory_format == resolve_memory_format('auto')
    assert plain.batch_size == 1
    assert plain.checkpoint == ckpt and not plain.compiled
    assert plain.model_time > 0 and plain.e2e_time >= plain.model_time
    assert plain.clips_per_s == pytest.approx(6 * plain.model_videos_per_s)
    assert plain.model_videos_per_s == pytest.approx(1 / plain.model_time)
    assert plain.e2e_videos_per_s == pytest.approx(1 / plain.e2e_time)
    assert plain.peak_memory_mib > 10 and 'RSS' in plain.memory_kind
    assert plain.torch_version == torch.__version__
    assert plain.mmvid_version
    # ResNet3d-18: stem + 8 blocks x 2 convs + 3 downsamples
    assert (plain.fused_batchnorms, fused.fused_batchnorms) == (0, 20)
    assert plain.scores.shape == (2, 8)  # warmup video + timed video
    np.testing.assert_allclose(fused.scores, plain.scores, rtol=0,
                               atol=1e-4)
    # the random BN statistics make the videos' predictions differ
    assert not np.allclose(plain.scores[0], plain.scores[1], atol=1e-4)

    text = plain.format()
    for field in ('device: cpu', 'dtype: float32',
                  f"memory format: {resolve_memory_format('auto')}", 'batch: 1 video(s)',
                  'views per video: 6', 'model-only:', 'clip/s',
                  'end-to-end:', 'peak memory:', 'versions: torch'):
        assert field in text
    assert plain.as_dict()['view_shape'] == [3, 16, 64, 64]


@pytest.mark.parametrize('clear_refs', [True, False],
                         ids=['peak-resettable', 'peak-not-resettable'])
def test_run_benchmark_says_what_its_memory_figure_covers(
        tiny, monkeypatch, clear_refs):
    """Both branches forced: where the peak RSS can be reset (Linux
    ``/proc/self/clear_refs`` writable) the figure covers the timed loop,
    elsewhere the whole run."""
    _, ckpt, options = tiny
    monkeypatch.setattr(speed, 'reset_peak_rss', lambda: clear_refs)
    result = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                           warmup=0, num_workers=0, cfg_options=options)
    assert result.memory_kind == (
        'CPU peak RSS of the main process, '
        + ('timed loop' if clear_refs else 'whole run'))
    assert result.peak_memory_mib > 10


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_run_benchmark_fast_says_what_it_picked(tiny, monkeypatch, native):
    """``benchmark.py --fast`` on either kind of CPU (forced): the line
    naming the choice, and the dtype it ran."""
    _, ckpt, options = tiny
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: native)
    lines = []
    result = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                           warmup=0, num_workers=0, cfg_options=options,
                           fast=True, log=lines.append)
    note = ('--fast: not compiled (6 views < 200: the compile would not '
            'repay itself; add --compile to compile anyway)')
    assert lines[0] == describe_fast_path(
        FastPath('bf16' if native else None, True, True, compile_note=note),
        'cpu', True)
    assert lines[0].endswith(f'; {note}')  # 1 video x 2 clips x 3 crops
    assert ('(--fast: this CPU has native bfloat16' in lines[0]) is native
    assert result.dtype == ('bfloat16 autocast' if native else 'float32')
    assert result.fused_batchnorms == 20
    assert result.memory_format == 'channels_last_3d'
    assert not result.compiled


def test_run_benchmark_fast_compiles_a_long_enough_run(tiny, monkeypatch):
    """``--fast`` compiles once the run has COMPILE_MIN_VIEWS views (here
    lowered to the 12 of 1 warmup + 1 timed video): BN left for inductor,
    the compile timed in the warmup and logged, scores as eager fp32."""
    _, ckpt, options = tiny
    monkeypatch.setattr(fast_path, 'native_bf16', lambda device: False)
    monkeypatch.setattr(fast_path, 'COMPILE_MIN_VIEWS', 12)
    lines = []
    result = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                           warmup=1, num_workers=0, cfg_options=options,
                           fast=True, log=lines.append)
    assert lines[0] == (
        'inference fast path: fp32, channels_last_3d, torch.compile with '
        'frozen weights (BN folded by inductor) (--fast: this CPU has no '
        'native bfloat16 (AVX512-BF16 / AMX), so fp32: bf16 would run slow '
        'reference kernels); --fast: compiled (12 views >= 12: the one-off '
        'compile repays itself)')
    assert lines[1].startswith('compiling the backbone for [6, 3, 16, 64, '
                               '64] (one-off, ~11 s cold on a small CPU')
    assert lines[2].startswith('compiled in ')
    assert len(lines) == 3  # one shape, one compile
    assert result.compiled and result.fused_batchnorms == 0
    assert result.compile_seconds > 0
    assert lines[2] == (f'compiled in {result.compile_seconds:.1f} s (first '
                        'call included)')
    assert 'torch.compile: yes (frozen weights; compiled in' in \
        result.format()
    exact = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                          warmup=1, num_workers=0, cfg_options=options)
    np.testing.assert_allclose(result.scores, exact.scores, rtol=1e-4,
                               atol=1e-6)


def test_run_benchmark_rejects_bad_arguments(tiny):
    _, _, options = tiny
    with pytest.raises(ValueError, match='num_videos'):
        run_benchmark(DEMO_CONFIG, num_videos=0, cfg_options=options)
    with pytest.raises(ValueError, match='device'):
        run_benchmark(DEMO_CONFIG, device='tpu', cfg_options=options)
    with pytest.raises(ValueError, match='fewer than warmup'):
        run_benchmark(DEMO_CONFIG, warmup=5, num_workers=0,
                      cfg_options=options)
