"""The test protocol of a speed run: --views rewriting the test pipeline,
--video-dir, the data-only speed and the bottleneck sentence."""
import os

import pytest
from mmengine.config import Config

from mmvid.analysis.speed import run_benchmark
from mmvid.analysis.test_protocol import (bottleneck, clips_and_crops,
                                          data_only_speed, list_videos,
                                          set_test_views, use_video_dir)
from mmvid.apis import load_config
from tests.analysis.test_speed import DEMO_CONFIG, tiny  # noqa: F401
from tests.helpers import REPO

R50 = os.path.join(REPO, 'configs', 'recognition', 'i3d',
                   'i3d_r50_32x2x1_100e_kinetics400_rgb.py')


def pipeline_of(views, config=R50):
    cfg = load_config(config)
    return set_test_views(cfg, views) if views else \
        cfg.test_dataloader.dataset.pipeline


@pytest.mark.parametrize('views,clips,crop', [
    (30, 10, 'ThreeCrop'), (10, 10, 'CenterCrop'), (3, 1, 'ThreeCrop'),
    (1, 1, 'CenterCrop'), (7, 7, 'CenterCrop')])
def test_views_rewrite_the_sampler_and_the_crop(views, clips, crop):
    assert clips_and_crops(views) == (clips, 3 if crop == 'ThreeCrop' else 1)
    before = pipeline_of(None)
    after = pipeline_of(views)
    assert [t['type'] for t in after] == [
        crop if t['type'] == 'ThreeCrop' else t['type'] for t in before]
    sampler = next(t for t in after if t['type'] == 'SampleFrames')
    assert sampler == dict(
        next(t for t in before if t['type'] == 'SampleFrames'),
        num_clips=clips)
    assert dict(type=crop, crop_size=256) in after  # the size is kept


def test_views_errors():
    with pytest.raises(ValueError, match='views must be an int >= 1, got 0'):
        clips_and_crops(0)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[
        dict(type='DecordInit'), dict(type='SampleFrames', clip_len=8),
        dict(type='Resize', scale=(-1, 64))]))))
    with pytest.raises(ValueError, match=r"--views: test_dataloader.dataset."
                       r"pipeline has no crop \(CenterCrop / ThreeCrop / "
                       r"TenCrop\) to rewrite; it has \['DecordInit', "
                       r"'SampleFrames', 'Resize'\]"):
        set_test_views(cfg, 30)


def test_video_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match='--video-dir: no folder'):
        list_videos(str(tmp_path / 'none'))
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(FileNotFoundError, match=r'--video-dir: no video '
                       r'\(.mp4, .avi'):
        list_videos(str(tmp_path))
    for name in ('b.MP4', 'a.avi', 'c.mkv'):
        (tmp_path / name).write_bytes(b'')
    assert list_videos(str(tmp_path)) == ['a.avi', 'b.MP4', 'c.mkv']
    cfg = load_config(R50)
    listing = tmp_path / 'list.txt'
    assert use_video_dir(cfg, str(tmp_path), str(listing)) == 3
    assert listing.read_text() == 'a.avi 0\nb.MP4 0\nc.mkv 0\n'
    dataset = cfg.test_dataloader.dataset  # was a RawframeDataset
    assert dataset.type == 'VideoDataset' and dataset.test_mode
    assert dataset.ann_file == str(listing)
    assert dataset.data_prefix == dict(video=str(tmp_path))
    assert [t['type'] for t in dataset.pipeline] == [
        'DecordInit', 'SampleFrames', 'DecordDecode', 'Resize', 'ThreeCrop',
        'FormatShape', 'PackActionInputs']
    assert 'label_file' not in dataset


def test_data_only_speed_counts_videos_after_the_warmup_batch():
    batches = [dict(inputs=[0, 0])] * 4  # 2 videos a batch
    speed, videos = data_only_speed(batches, num_videos=3)
    assert videos == 4 and speed > 0  # whole batches: 2 + 2
    assert data_only_speed(batches[:1], 5) == (0.0, 0)
    assert data_only_speed([], 5) == (0.0, 0)


def test_bottleneck_sentences():
    assert bottleneck(2.0, 1.0) == (
        'bottleneck: data loading (1.00 video/s < model 2.00); more loader '
        'workers or faster storage would help')
    assert bottleneck(1.0, 3.0) == (
        'bottleneck: the model (1.00 video/s < data 3.00); a faster fast '
        'path or device would help')
    assert bottleneck(1.0, 0.0).startswith('bottleneck: unknown')


def test_run_benchmark_with_views_on_a_video_folder(tiny):  # noqa: F811
    """--views 3 on the val videos given as a folder: 1 clip x 3 crops, the
    data-only pass over the timed videos, the sentence in the report."""
    root, ckpt, options = tiny
    folder = root / 'videos_only'
    folder.mkdir()
    for line in (root / 'val_list_videos.txt').read_text().splitlines():
        path = line.split()[0]
        os.symlink(root / path, folder / path.replace('/', '_'))
    lines = []
    result = run_benchmark(DEMO_CONFIG, checkpoint=ckpt, num_videos=1,
                           warmup=1, num_workers=0, cfg_options=options,
                           views=3, video_dir=str(folder), log=lines.append)
    assert lines == [f'test set: the 2 videos of {folder}']
    assert result.views_per_video == 3 and result.num_videos == 1
    assert result.view_shape == (3, 16, 64, 64)
    assert result.data_videos == 1 and result.data_videos_per_s > 0
    text = result.format()
    assert (f'data only: {result.data_videos_per_s:.2f} video/s  (decode, '
            'crops, format of 1 videos by 0 loader worker(s), no model)') \
        in text
    assert bottleneck(result.model_videos_per_s,
                      result.data_videos_per_s) in text
