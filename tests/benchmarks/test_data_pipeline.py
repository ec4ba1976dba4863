"""``benchmarks/data_pipeline.py`` on tiny data: the samples each
configuration runs, its table and JSON."""
import json

import cv2
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
                               'frames at 340x256 (mp4v / JPEG q95), 1 '
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
    assert lines[6:] == [
        f'lazy / eager ({source}): '
        f'{result["lazy_over_eager"][source]:.2f}x'
        for source in ('video', 'rawframes')]

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'baseline', 'results',
                          'lazy_over_eager'}
    assert {'cpu', 'logical_cores', 'torch', 'decord', 'opencv',
            'cuda'} <= set(saved['machine'])
    assert saved['settings']['workers'] == workers
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
        '1', '--json', str(out_json)
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
    assert lines[4:] == ['no lazy configurations: ThreeCrop has no lazy '
                         'mode, so the test pipeline runs eager only']

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'baseline', 'results'}
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
