"""Inference speed and memory of a recognizer on its real test pipeline.

What is measured (:func:`run_benchmark`), per batch of videos from the
config's test dataloader (all the views of each video, e.g. 10 clips x 3
crops for I3D):

- **model-only time**: the data preprocessor (host-to-device copy,
  normalisation), the forward over every view, the averaging of the views
  and copying the scores back to the host; with ``torch.cuda.synchronize``
  before and after on CUDA. Data loading and decoding are not included.
  This is the "inference_time (video/s)" column of mmaction2 0.x's model
  zoo (batch 1, model time only), and clips/s counts views instead of
  videos.
- **end-to-end time**: the wall time of the whole timed loop, waiting for
  the dataloader included (its workers decode in parallel with the model).
- **peak memory**: on CUDA ``torch.cuda.max_memory_allocated`` over the
  timed loop; on CPU the peak resident set size of the main process (its
  high-water mark is reset after the warmup where Linux allows it; loader
  worker processes are not counted).

The first ``warmup`` batches are run but not timed.

``--fuse-conv-bn`` folds every batch norm that follows a convolution into
that convolution (:func:`mmvid.models.utils.fuse_conv_bn`).
"""
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config

from mmvid.apis.fast_path import (apply_fast_path, check_amp,
                                  count_run_views, describe_fast_path,
                                  make_fast_path)
from mmvid.models.utils import memory_format_of

from .machine import cpu_name, peak_rss_mib, reset_peak_rss
from .test_protocol import (bottleneck, data_only_speed, set_test_views,
                            use_video_dir)

DEVICES = ('cpu', 'cuda')


# --------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------
@dataclass
class BenchmarkResult:
    """What :func:`run_benchmark` measured and under which settings.

    Times are seconds over the timed videos (the warmup excluded);
    ``scores`` are the view-averaged scores of every video run (warmup
    included), in dataloader order, as float32 ``[videos, classes]``.
    """
    config: str
    checkpoint: Optional[str]
    device: str
    device_name: str
    dtype: str
    memory_format: str
    batch_size: int
    views_per_video: int
    view_shape: Tuple[int, ...]
    num_workers: int
    torch_threads: int
    fuse_conv_bn: bool
    fused_batchnorms: int
    compiled: bool
    compile_seconds: float
    warmup_batches: int
    num_videos: int
    num_clips: int
    model_time: float
    e2e_time: float
    model_videos_per_s: float
    clips_per_s: float
    e2e_videos_per_s: float
    data_videos_per_s: float
    data_videos: int
    peak_memory_mib: float
    memory_kind: str
    torch_version: str
    mmvid_version: str
    scores: np.ndarray = field(repr=False)

    def as_dict(self) -> dict:
        """Plain-type fields (``scores`` as nested lists)."""
        out = asdict(self)
        out['scores'] = self.scores.tolist()
        out['view_shape'] = list(self.view_shape)
        return out

    def format(self) -> str:
        """Human-readable report."""
        shape = 'x'.join(str(s) for s in self.view_shape)
        lines = [
            f'config: {self.config}',
            f'weights: {self.checkpoint or "random (no checkpoint)"}',
            f'device: {self.device} ({self.device_name}); torch threads: '
            f'{self.torch_threads}',
            f'dtype: {self.dtype}; memory format: {self.memory_format}; '
            'conv-bn fused: ' + (f'yes ({self.fused_batchnorms} BN layers)'
                                 if self.fuse_conv_bn else 'no') +
            '; torch.compile: ' + (
                f'yes (frozen weights; compiled in {self.compile_seconds:.1f}'
                ' s during the warmup)' if self.compiled else 'no'),
            f'batch: {self.batch_size} video(s); views per video: '
            f'{self.views_per_video} of C x T x H x W = {shape}; '
            f'loader workers: {self.num_workers}',
            f'timed: {self.num_videos} videos ({self.num_clips} clips) '
            f'after {self.warmup_batches} warmup batch(es)',
            f'model-only: {self.model_videos_per_s:.2f} video/s  '
            f'({self.clips_per_s:.2f} clip/s, '
            f'{1000 * self.model_time / max(self.num_videos, 1):.1f} '
            'ms/video; data loading excluded)',
            f'end-to-end: {self.e2e_videos_per_s:.2f} video/s  '
            '(data loading included, overlapped by the loader workers)',
            f'data only: {self.data_videos_per_s:.2f} video/s  (decode, '
            f'crops, format of {self.data_videos} videos by '
            f'{self.num_workers} loader worker(s), no model)',
            bottleneck(self.model_videos_per_s, self.data_videos_per_s),
            f'peak memory: {self.peak_memory_mib:.1f} MiB '
            f'({self.memory_kind})',
            f'versions: torch {self.torch_version}, mmvid '
            f'{self.mmvid_version}',
        ]
        return '\n'.join(lines)


# --------------------------------------------------------------------------
# the benchmark
# --------------------------------------------------------------------------
def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def build_test_dataloader(cfg: Config, batch_size: int = 1,
                          num_workers: Optional[int] = None):
    """The config's ``test_dataloader`` (unshuffled) with ``batch_size``,
    no persistent workers, and optionally ``num_workers``."""
    from mmengine.runner import Runner
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg['batch_size'] = batch_size
    if num_workers is not None:
        loader_cfg['num_workers'] = num_workers
    loader_cfg['persistent_workers'] = False
    sampler = dict(loader_cfg.get('sampler') or dict(type='DefaultSampler'))
    if 'shuffle' in sampler:
        sampler['shuffle'] = False
    loader_cfg['sampler'] = sampler
    return Runner.build_dataloader(loader_cfg)


def run_benchmark(config: Union[str, Config],
                  checkpoint: Optional[str] = None,
                  num_videos: int = 20,
                  warmup: int = 2,
                  device: str = 'cpu',
                  fuse: bool = False,
                  amp: Optional[str] = None,
                  channels_last: bool = False,
                  compile: bool = False,
                  fast: bool = False,
                  batch_size: int = 1,
                  num_workers: Optional[int] = None,
                  cfg_options: Optional[dict] = None,
                  log_interval: int = 0,
                  log: Callable[[str], None] = print,
                  views: Optional[int] = None,
                  video_dir: Optional[str] = None) -> BenchmarkResult:
    """Measure the config's model on its test dataloader.

    Args:
        config: Config file or ``Config``.
        checkpoint: Weights to load; None keeps the random initialisation
            (``pretrained`` entries are always turned off).
        num_videos: Videos to time after the warmup (whole batches: rounded
            up to a multiple of ``batch_size``; fewer if the test set ends).
        warmup: Batches run before timing starts.
        device: ``'cpu'`` or ``'cuda'`` (``'cuda:N'`` also accepted).
        fuse: Fold batch norms into convolutions.
        amp: Autocast precision: None (fp32), ``'bf16'`` or ``'fp16'``
            (checked by :func:`~mmvid.apis.fast_path.check_amp`).
        channels_last: channels_last_3d weights and inputs.
        compile: ``torch.compile`` the backbone with frozen weights
            (compiled during the warmup, which must be >= 1).
        fast: Start from :func:`~mmvid.apis.fast_path.best_fast_path` for
            the device; the other switches add to it. Compiles too when
            the run (warmup + timed videos) has enough views
            (:func:`~mmvid.apis.fast_path.fast_compile_choice`).
        batch_size: Videos per batch (mmaction2 0.x used 1).
        num_workers: Override the test loader's worker count.
        cfg_options: Overrides merged into the config.
        log_interval: Report the running model-only speed every this many
            timed batches (0: never).
        log: Where progress lines go.
        views: Views per video (clips x crops; 30: I3D's 10 clips x 3
            crops), rewriting the test pipeline
            (:func:`~mmvid.analysis.test_protocol.set_test_views`); None
            keeps the config's.
        video_dir: Test on every video of this folder instead of the
            config's test set.

    After the model loop the test loader runs alone over the same number
    of videos (``data_videos_per_s``), so the result says whether data or
    model limits the end-to-end speed.

    Returns:
        A :class:`BenchmarkResult`.
    """
    import mmvid
    from mmvid.apis.inference import init_recognizer, load_config
    from mmvid.utils import register_all_modules

    dev = check_run_args(num_videos, warmup, batch_size, log_interval,
                         device)
    register_all_modules()
    cfg = load_config(config, cfg_options)
    config_name = cfg.filename or str(config)
    if views is not None:
        set_test_views(cfg, views)
    with tempfile.TemporaryDirectory(prefix='mmvid-bench-') as tmp:
        if video_dir is not None:  # the datasets read the list when built
            found = use_video_dir(cfg, video_dir, os.path.join(tmp, 'v.txt'))
            log(f'test set: the {found} videos of {video_dir}')
        loader = build_test_dataloader(cfg, batch_size, num_workers)
        data_loader = build_test_dataloader(cfg, batch_size, num_workers)
    run_views = None
    if fast and not compile:  # --fast compiles when the run repays it
        run_views = count_run_views(loader.dataset,
                                    warmup * batch_size + num_videos)
    fast_path = make_fast_path(dev, fast=fast, amp=amp,
                               channels_last=channels_last,
                               fuse_conv_bn=fuse, compile=compile,
                               total_views=run_views)
    check_amp(fast_path.amp, dev)  # before building the model
    if fast_path.compile and warmup < 1:
        raise ValueError('compiling needs warmup >= 1 (the first call '
                         'compiles; it must not be timed)')
    if not fast_path.is_default:
        log(describe_fast_path(fast_path, dev, fast))
    model = init_recognizer(cfg, checkpoint, device=str(dev))
    fused = apply_fast_path(model, fast_path, log=log)
    step = ModelStep(model)
    iterator = iter(loader)
    try:
        for index in range(warmup):
            batch = next(iterator, None)
            if batch is None:
                raise ValueError(f'the test set has only {index} batch(es), '
                                 f'fewer than warmup={warmup} + 1')
            step(batch)
        _synchronize(dev)
        memory_kind = reset_peak_memory(dev)
        model_time, videos, e2e_time = timed_loop(
            iterator, step, dev, math.ceil(num_videos / batch_size),
            batch_size, log_interval, log)
    finally:
        del iterator  # stop the loader's workers
    if videos == 0:
        raise ValueError(f'the test set has no batch left after warmup='
                         f'{warmup}')
    peak, device_name = peak_memory(dev)
    data_speed, data_videos = data_only_speed(data_loader, videos)
    dtype = {None: 'float32', 'bf16': 'bfloat16 autocast',
             'fp16': 'float16 autocast'}[fast_path.amp]
    clips = videos * step.views
    return BenchmarkResult(
        config=config_name, checkpoint=checkpoint, device=str(dev),
        device_name=device_name, dtype=dtype,
        memory_format=memory_format_of(model),
        batch_size=batch_size, views_per_video=step.views,
        view_shape=step.view_shape, num_workers=loader.num_workers,
        torch_threads=torch.get_num_threads(),
        fuse_conv_bn=fast_path.fuse_conv_bn, fused_batchnorms=fused,
        compiled=fast_path.compile,
        compile_seconds=sum(getattr(model.backbone, 'compile_seconds', [])),
        warmup_batches=warmup, num_videos=videos, num_clips=clips,
        model_time=model_time, e2e_time=e2e_time,
        model_videos_per_s=videos / model_time,
        clips_per_s=clips / model_time,
        e2e_videos_per_s=videos / e2e_time,
        data_videos_per_s=data_speed, data_videos=data_videos,
        peak_memory_mib=peak,
        memory_kind=memory_kind, torch_version=torch.__version__,
        mmvid_version=mmvid.__version__,
        scores=np.concatenate(step.scores).astype(np.float32))


def check_run_args(num_videos: int, warmup: int, batch_size: int,
                   log_interval: int, device: str) -> torch.device:
    """The counts are ints in range and ``device`` is a usable CPU or CUDA
    device; returns it.

    Raises:
        ValueError: a count out of range or an unknown device.
        RuntimeError: CUDA asked for but not available.
    """
    for name, value, low in (('num_videos', num_videos, 1),
                             ('warmup', warmup, 0),
                             ('batch_size', batch_size, 1),
                             ('log_interval', log_interval, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or \
                value < low:
            raise ValueError(f'{name} must be an int >= {low}, got {value!r}')
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in DEVICES:
        raise ValueError(f'device must be one of {DEVICES}, got {device!r}')
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('device cuda requested but CUDA is not available')
    return dev


class ModelStep:
    """One model-only step on a batch: ``model.test_step`` (autocast inside
    with amp), the float32 scores ``[B, K]`` kept in ``scores``, and the
    views per video and view shape ``(C, T, H, W)`` of the first batch."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        self.scores: List[np.ndarray] = []
        self.views = 0
        self.view_shape: Tuple[int, ...] = ()

    def __call__(self, batch: dict) -> int:
        """Run ``batch``; returns its video count."""
        with torch.no_grad():
            outputs = self.model.test_step(batch)
            batch_scores = torch.stack(
                [s.pred_score for s in outputs]).float().cpu()
        self.scores.append(batch_scores.numpy())
        if not self.views:
            first = batch['inputs'][0]  # [views, C, T, H, W] of one video
            self.views, self.view_shape = first.shape[0], tuple(
                first.shape[1:])
        return len(outputs)


def reset_peak_memory(dev: torch.device) -> str:
    """Start the peak-memory count of the timed loop where possible;
    returns what the figure will cover."""
    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
        return 'CUDA max_memory_allocated, timed loop'
    if reset_peak_rss():
        return 'CPU peak RSS of the main process, timed loop'
    return 'CPU peak RSS of the main process, whole run'


def timed_loop(iterator, step: Callable[[dict], int], dev: torch.device,
               timed_batches: int, batch_size: int, log_interval: int,
               log: Callable[[str], None]) -> Tuple[float, int, float]:
    """Up to ``timed_batches`` batches from ``iterator`` through ``step``.

    Returns:
        (model-only seconds, videos, end-to-end seconds of the loop).
    """
    model_time, videos = 0.0, 0
    e2e_start = time.perf_counter()
    for done in range(1, timed_batches + 1):
        batch = next(iterator, None)
        if batch is None:
            break
        _synchronize(dev)
        start = time.perf_counter()
        videos += step(batch)
        _synchronize(dev)
        model_time += time.perf_counter() - start
        if log_interval and done % log_interval == 0:
            log(f'Done video [{videos}/{timed_batches * batch_size}], '
                f'model-only: {videos / model_time:.2f} video/s')
    return model_time, videos, time.perf_counter() - e2e_start


def peak_memory(dev: torch.device) -> Tuple[float, str]:
    """(peak memory in MiB, device name) after the timed loop."""
    if dev.type == 'cuda':
        return (torch.cuda.max_memory_allocated(dev) / 2**20,
                torch.cuda.get_device_name(dev))
    return peak_rss_mib(), cpu_name()
