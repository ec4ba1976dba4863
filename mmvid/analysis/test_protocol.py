"""The test protocol a speed run uses: how many views of each video
(``--views``), which videos (``--video-dir``), and how fast the data loader
alone delivers them.

``--views 30`` is I3D's test protocol: 10 clips x ``ThreeCrop``; ``--views
10`` 10 clips x ``CenterCrop``; ``--views 1`` one centre clip. The sampler's
``num_clips`` and the crop transform of the config's test pipeline are
rewritten; the crop size, clip length and everything else stay.
"""
import os
import os.path as osp
import time
from typing import List, Optional, Tuple

from mmengine.config import Config

from mmvid.apis.inference import pipeline_for_input, transform_type_name

SAMPLERS = ('SampleFrames', 'DenseSampleFrames')
CROPS = {'CenterCrop': 1, 'ThreeCrop': 3, 'TenCrop': 10}
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v')


def clips_and_crops(views: int) -> Tuple[int, int]:
    """``views`` as (clips, crops per clip): three crops where ``views`` is a
    multiple of 3 (30 -> 10 x 3), else one centre crop (10 -> 10 x 1)."""
    if isinstance(views, bool) or not isinstance(views, int) or views < 1:
        raise ValueError(f'views must be an int >= 1, got {views!r}')
    crops = 3 if views % 3 == 0 else 1
    return views // crops, crops


def set_test_views(cfg: Config, views: int) -> List[dict]:
    """Make the config's test pipeline give ``views`` views per video, in
    place; returns the pipeline.

    Raises:
        ValueError: ``views`` < 1, or the pipeline has no clip sampler
            (``SampleFrames`` / ``DenseSampleFrames``) or no crop
            (``CenterCrop`` / ``ThreeCrop`` / ``TenCrop``) to rewrite.
    """
    clips, crops = clips_and_crops(views)
    pipeline = cfg.test_dataloader.dataset.pipeline
    names = [transform_type_name(t) for t in pipeline]
    sampler = next((i for i, n in enumerate(names) if n in SAMPLERS), None)
    crop = next((i for i, n in enumerate(names) if n in CROPS), None)
    for index, what in ((sampler, 'clip sampler (' + ' / '.join(SAMPLERS)),
                        (crop, 'crop (' + ' / '.join(CROPS))):
        if index is None:
            raise ValueError(f'--views: test_dataloader.dataset.pipeline has '
                             f'no {what}) to rewrite; it has {names}')
    pipeline[sampler]['num_clips'] = clips
    size = pipeline[crop].get('crop_size')
    pipeline[crop] = dict(type='ThreeCrop' if crops == 3 else 'CenterCrop',
                          crop_size=size)
    return pipeline


def list_videos(video_dir: str) -> List[str]:
    """Video files (by extension) directly in ``video_dir``, sorted.

    Raises:
        FileNotFoundError: no such folder, or no video in it.
    """
    if not osp.isdir(video_dir):
        raise FileNotFoundError(f'--video-dir: no folder {video_dir}')
    names = sorted(n for n in os.listdir(video_dir)
                   if n.lower().endswith(VIDEO_EXTENSIONS))
    if not names:
        raise FileNotFoundError(
            f'--video-dir: no video ({", ".join(VIDEO_EXTENSIONS)}) in '
            f'{video_dir}')
    return names


def use_video_dir(cfg: Config, video_dir: str, list_file: str) -> int:
    """Make the config's test set every video of ``video_dir`` (label 0, no
    label map): a ``VideoDataset`` over the file list written to
    ``list_file``, the test pipeline made to decode videos (a rawframe
    pipeline gets ``DecordInit`` / ``DecordDecode``, as the demo does).
    Returns the number of videos."""
    names = list_videos(video_dir)
    with open(list_file, 'w') as f:
        f.writelines(f'{name} 0\n' for name in names)
    old = cfg.test_dataloader.dataset
    dataset = dict(type='VideoDataset', ann_file=list_file,
                   data_prefix=dict(video=osp.abspath(video_dir)),
                   pipeline=pipeline_for_input(old.pipeline, 'video'),
                   test_mode=True)
    if 'on_error' in old:
        dataset['on_error'] = old.on_error
    cfg.test_dataloader.dataset = dataset
    return len(names)


def data_only_speed(loader, num_videos: int) -> Tuple[float, int]:
    """Videos/s of ``loader`` alone (decode, crops, format: its workers in
    parallel, no model), over up to ``num_videos`` videos after one warm-up
    batch (starting the workers).

    Returns:
        (videos per second, videos timed).
    """
    iterator = iter(loader)
    try:
        if next(iterator, None) is None:
            return 0.0, 0
        videos, start = 0, time.perf_counter()
        while videos < num_videos:
            batch = next(iterator, None)
            if batch is None:
                break
            videos += len(batch['inputs'])
        seconds = time.perf_counter() - start
    finally:
        del iterator
    return (videos / seconds if videos else 0.0), videos


def bottleneck(model_videos_per_s: float,
               data_videos_per_s: Optional[float]) -> str:
    """Which side limits the end-to-end speed, as a sentence."""
    if not data_videos_per_s:
        return 'bottleneck: unknown (the data-only pass timed no video)'
    if data_videos_per_s < model_videos_per_s:
        return (f'bottleneck: data loading ({data_videos_per_s:.2f} video/s '
                f'< model {model_videos_per_s:.2f}); more loader workers or '
                'faster storage would help')
    return (f'bottleneck: the model ({model_videos_per_s:.2f} video/s < data '
            f'{data_videos_per_s:.2f}); a faster fast path or device would '
            'help')
