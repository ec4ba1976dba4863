"""``benchmarks/data_pipeline.py`` on tiny data: the samples each
configuration runs, its table and JSON."""
import json
import time

import cv2
import decord
import numpy as np
import pytest
import torch

import data_pipeline

ROWS = [('video', 'eager'), ('video', 'lazy'), ('rawframes', 'eager'),
        ('rawframes', 'lazy')]


@pytest.fixture(autouse=True)
def keep_thread_settings():
    """main() runs on one OpenCV and one torch thread; the tests after it
    get the settings back."""
    saved = torch.get_num_threads(), cv2.getNumThreads()
    yield
    torch.set_num_threads(saved[0])
    cv2.setNumThreads(saved[1])


def test_each_configuration_runs_every_video_in_turn(tmp_path, monkeypatch):
    items = data_pipeline.write_data(str(tmp_path), 2, 12)
    samples = []
    make_sample = data_pipeline.make_sample

    def recorded(item, source, num_frames, seed):
        samples.append((source, items.index(item), seed))
        return make_sample(item, source, num_frames, seed)

    monkeypatch.setattr(data_pipeline, 'make_sample', recorded)
    rates = data_pipeline.interleaved_rates(items, 12, rounds=2)
    assert list(rates) == list(data_pipeline.CONFIGS)
    assert all(rate > 0 for rate in rates.values())
    for source in ('video', 'rawframes'):
        # eager and lazy: videos 0, 1, 0, 1 with the sample index as seed
        assert [(i, seed) for s, i, seed in samples if s == source] == [
            (0, 0), (0, 0), (1, 1), (1, 1), (0, 2), (0, 2), (1, 3), (1, 3)]


@pytest.mark.parametrize('workers', [0, 1])
def test_table_and_json(workers, tmp_path, capsys):
    out_json = tmp_path / 'figures.json'
    result = data_pipeline.main([
        '--videos', '2', '--frames', '12', '--rounds', '1', '--workers',
        str(workers), '--json', str(out_json)
    ])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('I3D 32x2x1 train pipeline, 2 videos x 12 '
                               'frames at 340x256 (H.264 x264 defaults / '
                               'JPEG q95), 1 '
                               f'rounds, workers={workers}, torch ')
    assert lines[0].endswith('; clips/s (one sample = 1 clip of '
                             '3x32x224x224 per video)')
    assert lines[1].split() == ['source', 'mode', 'clips/s', 'vs', 'eager',
                                'video']
    rows = [line.split() for line in lines[2:6]]
    assert [tuple(row[:2]) for row in rows] == ROWS
    assert rows[0][3] == '1.00x'
    for row, saved in zip(rows, result['results']):
        assert row[2] == f'{saved["clips_per_s"]:.2f}'
        assert row[3] == f'{saved["ratio"]:.2f}x'
    assert lines[6:8] == [
        f'lazy / eager ({source}): '
        f'{result["lazy_over_eager"][source]:.2f}x'
        for source in ('video', 'rawframes')]
    assert lines[8].startswith('per transform (eager')

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'baseline', 'results',
                          'lazy_over_eager', 'per_transform'}
    assert {'cpu', 'logical_cores', 'torch', 'decord', 'opencv',
            'cuda'} <= set(saved['machine'])
    assert saved['settings']['workers'] == workers
    assert saved['settings']['codec'] == 'h264'  # PyAV is installed here
    assert saved['settings']['pipeline'] == 'train'
    assert saved['settings']['unit'] == 'clips/s'
    assert saved['settings']['sample_shape'] == [1, 3, 32, 224, 224]
    assert 'no_lazy' not in saved['settings']
    assert all(set(r) == {'source', 'mode', 'clips_per_s', 'ratio'}
               for r in saved['results'])
    assert set(saved['baseline']) == {'source', 'mode', 'clips_per_s'}
    rates = {(r['source'], r['mode']): r['clips_per_s']
             for r in saved['results']}
    assert saved['baseline']['clips_per_s'] == rates['video', 'eager']
    assert all(rate > 0 for rate in rates.values())
    assert saved['results'][0]['ratio'] == 1.0
    assert saved['lazy_over_eager']['video'] == \
        rates['video', 'lazy'] / rates['video', 'eager']


def test_test_pipeline_table_and_json(tmp_path, capsys):
    """``--pipeline test``: 30 views per video, videos/s, eager rows only
    (ThreeCrop has no lazy mode) and one line saying why."""
    out_json = tmp_path / 'figures.json'
    result = data_pipeline.main([
        '--pipeline', 'test', '--videos', '2', '--frames', '12', '--rounds',
        '1', '--codec', 'mp4v', '--json', str(out_json)
    ])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('I3D 32x2x1 test pipeline, 2 videos x 12 '
                               'frames at 340x256 (mp4v / JPEG q95), 1 '
                               'rounds, workers=0, torch ')
    assert lines[0].endswith('; videos/s (one sample = 1 video: 10 clips x '
                             '3 crops = 30 views of 3x32x256x256)')
    assert lines[1].split() == ['source', 'mode', 'videos/s', 'vs', 'eager',
                                'video']
    rows = [line.split() for line in lines[2:4]]
    assert [tuple(row[:2]) for row in rows] == ROWS[::2]
    assert rows[0][3] == '1.00x'
    for row, saved in zip(rows, result['results']):
        assert row[2] == f'{saved["videos_per_s"]:.2f}'
        assert row[3] == f'{saved["ratio"]:.2f}x'
    assert lines[4:5] == ['no lazy configurations: ThreeCrop has no lazy '
                          'mode, so the test pipeline runs eager only']
    assert lines[5].startswith('per transform (eager')

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'baseline', 'results',
                          'per_transform'}
    assert saved['settings']['pipeline'] == 'test'
    assert saved['settings']['unit'] == 'videos/s'
    assert saved['settings']['sample_shape'] == [30, 3, 32, 256, 256]
    assert saved['settings']['no_lazy'] == data_pipeline.NO_LAZY_TEST
    assert [(r['source'], r['mode']) for r in saved['results']] == ROWS[::2]
    for row in saved['results']:
        assert set(row) == {'source', 'mode', 'videos_per_s', 'ratio'}
        assert row['videos_per_s'] > 0
    assert saved['baseline'] == {
        'source': 'video', 'mode': 'eager',
        'videos_per_s': saved['results'][0]['videos_per_s']}
    assert saved['results'][0]['ratio'] == 1.0


@pytest.mark.parametrize('source', ['video', 'rawframes'])
def test_test_pipeline_views(source, tmp_path):
    """One test sample: 10 clips x 3 crops, crop-major (views 0-9 the left
    crop, 10-19 the right, 20-29 the middle of the 340-wide frames); the
    pipeline has no lazy form."""
    items = data_pipeline.write_data(str(tmp_path), 1, 5)
    dataset = data_pipeline.PipelineDataset(items, source, False, 5, 1,
                                            pipeline='test')
    assert len(dataset) == 1 and dataset.shape == (30, 3, 32, 256, 256)
    inputs = dataset[0]
    assert tuple(inputs.shape) == data_pipeline.TEST_SHAPE
    left, right, middle = inputs[:10], inputs[10:20], inputs[20:]
    # ThreeCrop 256 of 340: x offsets 0, 84 and 42
    assert torch.equal(left[..., 84:], right[..., :172])
    assert torch.equal(left[..., 42:], middle[..., :214])
    assert not torch.equal(left, right)
    with pytest.raises(ValueError, match='ThreeCrop has no lazy mode'):
        data_pipeline.PROTOCOLS['test'].build(source, True)
    assert data_pipeline.PROTOCOLS['test'].configs == (('video', False),
                                                       ('rawframes', False))
    assert data_pipeline.lazy_over_eager({('video', False): 2.0,
                                          ('rawframes', False): 3.0}) == {}


TRAIN_TRANSFORMS = {
    'video': ['DecordInit', 'SampleFrames', 'DecordDecode'],
    'rawframes': ['SampleFrames', 'RawFrameDecode']}
TRAIN_SPATIAL = ['Resize', 'MultiScaleCrop', 'Resize', 'Flip', 'FormatShape',
                 'PackActionInputs']
TEST_SPATIAL = ['Resize', 'ThreeCrop', 'FormatShape', 'PackActionInputs']


def check_per_transform(row, names, protocol, samples):
    """One ``per_transform`` row: the pipeline's transforms in order, each
    with non-negative ms whose sum is at most the pipeline's time and at
    least 90% of it (the loop's own overhead is the rest); the shares and
    the rate agree with the times."""
    assert [t['name'] for t in row['transforms']] == names
    assert row['samples'] == samples
    ms = [t['ms'] for t in row['transforms']]
    assert all(m >= 0 for m in ms)
    assert 0.9 * row['total_ms'] <= sum(ms) <= row['total_ms']
    for t in row['transforms']:
        assert t['share'] == pytest.approx(t['ms'] / row['total_ms'])
    assert row[protocol.rate_key] == pytest.approx(1e3 / row['total_ms'])


def printed_tables(lines, protocol):
    """``{source: [(name, ms, share %)]}`` of the printed per-transform
    tables (the lines after the one starting 'per transform')."""
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('per transform (eager'))
    tables, source = {}, None
    for line in lines[start + 1:]:
        if not line.startswith('  '):
            source = line.split()[0]
            assert line.split()[1] == 'eager:'
            tables[source] = []
        elif line.split()[:2] != ['transform', protocol.per_sample]:
            name, ms, share = line.split()
            tables[source].append((name, float(ms), float(share[:-1])))
    return tables


@pytest.mark.parametrize('pipeline', ['train', 'test'])
def test_per_transform_table_and_json(pipeline, tmp_path, capsys):
    """The eager video and rawframes pipelines timed transform by
    transform: printed and under ``per_transform`` in the JSON."""
    out_json = tmp_path / 'figures.json'
    result = data_pipeline.main([
        '--pipeline', pipeline, '--videos', '2', '--frames', '12',
        '--rounds', '1', '--json', str(out_json)])
    protocol = data_pipeline.PROTOCOLS[pipeline]
    spatial = TRAIN_SPATIAL if pipeline == 'train' else TEST_SPATIAL
    rows = json.loads(out_json.read_text())['per_transform']
    assert rows == json.loads(json.dumps(result['per_transform']))
    assert [(r['source'], r['mode']) for r in rows] == [
        ('video', 'eager'), ('rawframes', 'eager')]
    tables = printed_tables(capsys.readouterr().out.splitlines(), protocol)
    assert list(tables) == ['video', 'rawframes']
    for row in rows:
        names = TRAIN_TRANSFORMS[row['source']] + spatial
        assert names == [type(t).__name__ for t in protocol.build(
            row['source'], False).transforms]
        check_per_transform(row, names, protocol, samples=2)
        table = tables[row['source']]
        assert [name for name, _, _ in table] == names + ['sum']
        for (_, ms, share), saved in zip(table, row['transforms']):
            assert ms == round(saved['ms'], 2)
            assert share == round(100 * saved['share'], 1)


def test_timed_pipeline_times_each_transform():
    """Each transform's own time lands in its slot; the chain's output is
    what the transforms return, and a None stops it as in Compose."""

    class Sleep:
        def __init__(self, seconds, key):
            self.seconds, self.key = seconds, key

        def __call__(self, data):
            time.sleep(self.seconds)
            return dict(data, **{self.key: self.seconds})

    class Stop:
        def __call__(self, data):
            return None

    class Pipeline:
        transforms = [Sleep(0.01, 'a'), Sleep(0.03, 'b')]

    timed = data_pipeline.TimedPipeline(Pipeline())
    assert timed({'x': 1}) == {'x': 1, 'a': 0.01, 'b': 0.03}
    assert timed({'x': 2})['x'] == 2
    first, second = timed.seconds
    assert first >= 0.02 and second >= 0.06
    assert first + second <= timed.total
    row = timed.breakdown()
    assert row['samples'] == 2
    assert [t['name'] for t in row['transforms']] == ['Sleep', 'Sleep']
    assert row['transforms'][1]['ms'] >= 30
    Pipeline.transforms = [Stop(), Sleep(0.01, 'a')]
    stopped = data_pipeline.TimedPipeline(Pipeline())
    assert stopped({}) is None and stopped.seconds[1] == 0.0


def test_timed_pipeline_output_is_compose_output(tmp_path):
    """Timed transform by transform, the train pipeline gives the same
    inputs as Compose for the same sample."""
    items = data_pipeline.write_data(str(tmp_path), 1, 12)
    for source in ('video', 'rawframes'):
        compose = data_pipeline.train_pipeline(source, False)
        timed = data_pipeline.TimedPipeline(compose)
        sample = data_pipeline.make_sample(items[0], source, 12, 7)
        again = data_pipeline.make_sample(items[0], source, 12, 7)
        assert torch.equal(timed(sample)['inputs'], compose(again)['inputs'])


def test_size_sets_the_generated_videos(tmp_path, capsys):
    """``--size WxH``: the videos and rawframes are written at that size
    and the report says it; malformed sizes are rejected."""
    items = data_pipeline.write_data(str(tmp_path), 1, 4, size=(160, 96))
    video, frame_dir = items[0]
    reader = decord.VideoReader(video)
    assert len(reader) == 4 and reader[0].shape == (96, 160, 3)
    assert cv2.imread(f'{frame_dir}/img_00001.jpg').shape == (96, 160, 3)
    assert data_pipeline.parse_size('1280x720') == (1280, 720)

    result = data_pipeline.main(['--size', '160x96', '--videos', '1',
                                 '--frames', '8', '--rounds', '1'])
    assert (result['settings']['width'], result['settings']['height']) == \
        (160, 96)
    assert ' 1 videos x 8 frames at 160x96 (H.264 x264 defaults / JPEG q95)'\
        in capsys.readouterr().out.splitlines()[0]
    for bad in ('340', '0x256', 'axb', '340x256x3'):
        with pytest.raises(SystemExit):
            data_pipeline.main(['--size', bad])
        assert 'expected WIDTHxHEIGHT' in capsys.readouterr().err


def write_videos(folder, sizes):
    """Small mp4v videos of 10 frames, one per (width, height)."""
    folder.mkdir()
    for i, (width, height) in enumerate(sizes):
        writer = cv2.VideoWriter(str(folder / f'clip_{i}.mp4'),
                                 cv2.VideoWriter_fourcc(*'mp4v'), 25,
                                 (width, height))
        for f in range(10):
            writer.write(np.full((height, width, 3), 20 * f + 10 * i,
                                 np.uint8))
        writer.release()


def test_video_dir_runs_on_the_folder(tmp_path, capsys):
    """``--video-dir``: the folder's videos (sorted, other files skipped),
    video configurations only, the report names the folder and count."""
    folder = tmp_path / 'vids'
    write_videos(folder, [(96, 64), (80, 64)])
    (folder / 'notes.txt').write_text('not a video')
    assert data_pipeline.find_videos(str(folder)) == [
        str(folder / 'clip_0.mp4'), str(folder / 'clip_1.mp4')]
    out_json = tmp_path / 'figures.json'
    result = data_pipeline.main(['--video-dir', str(folder), '--rounds', '1',
                                 '--json', str(out_json)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(
        f'I3D 32x2x1 train pipeline, 2 videos of {folder} (80x64, 96x64, 10 '
        'frames; video only, no rawframes), 1 rounds, workers=0, ')
    assert [line.split()[:2] for line in lines[2:4]] == [
        ['video', 'eager'], ['video', 'lazy']]
    assert lines[4] == f'lazy / eager (video): ' \
        f'{result["lazy_over_eager"]["video"]:.2f}x'
    saved = json.loads(out_json.read_text())
    assert saved['settings']['video_dir'] == str(folder)
    assert saved['settings']['videos'] == 2
    assert saved['settings']['video_files'] == [
        dict(file='clip_0.mp4', width=96, height=64, frames=10),
        dict(file='clip_1.mp4', width=80, height=64, frames=10)]
    assert [(r['source'], r['mode']) for r in saved['results']] == [
        ('video', 'eager'), ('video', 'lazy')]
    assert list(saved['lazy_over_eager']) == ['video']
    [row] = saved['per_transform']
    protocol = data_pipeline.PROTOCOLS['train']
    check_per_transform(row, TRAIN_TRANSFORMS['video'] + TRAIN_SPATIAL,
                        protocol, samples=2)
    assert list(printed_tables(lines, protocol)) == ['video']


def test_video_dir_rejects_missing_or_empty_folder(tmp_path, capsys):
    empty = tmp_path / 'empty'
    empty.mkdir()
    (empty / 'notes.txt').write_text('not a video')
    for folder, message in ((tmp_path / 'missing', 'no such folder'),
                            (empty, 'no videos (files ending .mp4, .avi, '
                             '.mkv, .webm, .mov) in this folder')):
        with pytest.raises(SystemExit) as exit_info:
            data_pipeline.main(['--video-dir', str(folder)])
        assert exit_info.value.code == 2
        assert f'--video-dir {folder}: {message}' in capsys.readouterr().err


@pytest.mark.parametrize('extra,named', [
    (['--frames', '30'], '--frames would be ignored; leave it out'),
    (['--videos', '3', '--size', '64x48'],
     '--videos, --size would be ignored; leave them out'),
    (['--codec', 'mp4v'], '--codec would be ignored; leave it out')])
def test_video_dir_refuses_options_it_would_ignore(extra, named, tmp_path,
                                                   capsys):
    with pytest.raises(SystemExit) as stop:
        data_pipeline.main(['--video-dir', str(tmp_path)] + extra)
    assert stop.value.code == 2
    assert ('--video-dir runs on the videos of the folder: ' + named) in \
        capsys.readouterr().err


def test_h264_videos_and_the_codec_choice(tmp_path, monkeypatch, capsys):
    """--codec h264 (the default with PyAV) writes x264-default H.264 with
    B-frames, decoded as the rawframes were written; without PyAV the
    default is mp4v and --codec h264 is refused, naming the package."""
    import av
    items = data_pipeline.write_data(str(tmp_path), 1, 30, (96, 64), 'h264')
    video, frame_dir = items[0]
    with av.open(video) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == 'h264'
        assert stream.frames == 30
        assert stream.codec_context.has_b_frames
        first = next(container.decode(stream)).to_ndarray(format='rgb24')
    jpeg = cv2.imread(str(tmp_path / 'frames_0' / 'img_00001.jpg'))[..., ::-1]
    assert np.abs(first.astype(int) - jpeg).mean() < 3
    assert data_pipeline.default_codec() == 'h264'
    monkeypatch.setitem(__import__('sys').modules, 'av', None)
    assert data_pipeline.default_codec() == 'mp4v'
    with pytest.raises(SystemExit):
        data_pipeline.main(['--codec', 'h264', '--videos', '1'])
    assert "--codec h264 writes with PyAV: pip install av" in \
        capsys.readouterr().err
