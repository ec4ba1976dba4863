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
    rates = {(r['source'], r['mode']): r['clips_per_s']
             for r in saved['results']}
    assert saved['baseline']['clips_per_s'] == rates['video', 'eager']
    assert all(rate > 0 for rate in rates.values())
    assert saved['results'][0]['ratio'] == 1.0
    assert saved['lazy_over_eager']['video'] == \
        rates['video', 'lazy'] / rates['video', 'eager']
