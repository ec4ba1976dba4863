"""``benchmarks/data_throughput.py`` on tiny data: its table and JSON."""
import json

import pytest

import data_throughput

CONFIGS = [('video', 'eager'), ('video', 'lazy'), ('rawframes', 'eager'),
           ('rawframes', 'lazy')]


def table_rows(out: str, unit: str = 'clips/s') -> list:
    """The rows of the per-configuration table, split into fields."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.split() == ['workers', 'source', 'mode', unit,
                                     'vs', 'baseline'])
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_table_and_json(tmp_path, capsys):
    out_json = tmp_path / 'figures.json'
    result = data_throughput.main([
        '--videos', '2', '--frames', '12', '--rounds', '1', '--workers', '0',
        '1', '--codec', 'mpeg4', '--json', str(out_json)
    ])
    out = capsys.readouterr().out
    assert out.startswith('I3D 32x2x1 train pipeline in clips/s (one sample '
                          '= 1 clip of 3x32x224x224 per video) through torch '
                          'DataLoaders: 2 videos x 12 frames')
    assert 'MPEG-4 Part 2 (mp4v)' in out
    assert 'machine: ' in out and 'decord ' in out and 'opencv ' in out

    rows = table_rows(out)
    assert [(int(r[0]), r[1], r[2]) for r in rows] == [
        (w, source, mode) for w in (0, 1) for source, mode in CONFIGS]
    assert all(len(r) == 5 and r[4].endswith('x') for r in rows)
    assert rows[0][4] == '1.00x'  # the baseline: eager video, workers=0
    assert all(float(r[3]) > 0 for r in rows)

    summary = out.splitlines()[out.splitlines().index('ratios vs baseline')
                               + 1:]
    assert summary[0].split() == ['workers', 'video', 'eager', 'video',
                                  'lazy', 'rawframes', 'eager', 'rawframes',
                                  'lazy', 'lazy/eager', 'video',
                                  'lazy/eager', 'raw']
    assert [line.split()[0] for line in summary[1:3]] == ['0', '1']
    assert summary[1].split()[1] == '1.00x'

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'load_average', 'baseline',
                          'results', 'lazy_over_eager'}
    assert {'cpu', 'logical_cores', 'torch', 'decord',
            'opencv'} <= set(saved['machine'])
    assert saved['settings']['workers'] == [0, 1]
    assert saved['settings']['persistent_workers'] is True
    assert saved['settings']['pipeline'] == 'train'
    assert saved['settings']['unit'] == 'clips/s'
    assert saved['settings']['sample_shape'] == [1, 3, 32, 224, 224]
    assert set(saved['baseline']) == {'workers', 'source', 'mode',
                                      'clips_per_s'}
    assert saved['baseline']['workers'] == 0
    assert len(saved['results']) == 8
    for row in saved['results']:
        assert set(row) == {'workers', 'source', 'mode', 'clips', 'seconds',
                            'clips_per_s', 'ratio'}
        assert row['clips'] == 2 and row['clips_per_s'] > 0
    assert saved['results'][0]['ratio'] == 1.0
    assert set(saved['lazy_over_eager']) == {'0', '1'}


def test_test_pipeline_table_and_json(tmp_path, capsys):
    """``--pipeline test``: videos/s of 30-view samples, the two eager
    configurations only, and one line instead of the lazy columns."""
    out_json = tmp_path / 'figures.json'
    result = data_throughput.main([
        '--pipeline', 'test', '--videos', '2', '--frames', '12', '--rounds',
        '1', '--workers', '0', '--codec', 'mpeg4', '--json', str(out_json)
    ])
    out = capsys.readouterr().out
    assert out.startswith('I3D 32x2x1 test pipeline in videos/s (one sample '
                          '= 1 video: 10 clips x 3 crops = 30 views of '
                          '3x32x256x256) through torch DataLoaders: 2 videos '
                          'x 12 frames')
    assert 'clips/s' not in out

    rows = table_rows(out, 'videos/s')
    assert [(int(r[0]), r[1], r[2]) for r in rows] == [
        (0, source, mode) for source, mode in CONFIGS[::2]]
    assert all(len(r) == 5 and float(r[3]) > 0 for r in rows)
    assert rows[0][4] == '1.00x'
    for row, saved in zip(rows, result['results']):
        assert row[3] == f'{saved["videos_per_s"]:.2f}'

    lines = out.splitlines()
    summary = lines[lines.index('ratios vs baseline') + 1:]
    assert summary[0].split() == ['workers', 'video', 'eager', 'rawframes',
                                  'eager']
    assert summary[1].split()[:2] == ['0', '1.00x']
    assert len(summary[1].split()) == 3
    assert summary[2:] == ['no lazy configurations: ThreeCrop has no lazy '
                           'mode, so the test pipeline runs eager only']

    saved = json.loads(out_json.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved) == {'machine', 'settings', 'load_average', 'baseline',
                          'results'}
    assert saved['settings']['pipeline'] == 'test'
    assert saved['settings']['unit'] == 'videos/s'
    assert saved['settings']['sample_shape'] == [30, 3, 32, 256, 256]
    assert 'ThreeCrop has no lazy mode' in saved['settings']['no_lazy']
    assert [(r['workers'], r['source'], r['mode'])
            for r in saved['results']] == [(0, 'video', 'eager'),
                                           (0, 'rawframes', 'eager')]
    for row in saved['results']:
        assert set(row) == {'workers', 'source', 'mode', 'videos', 'seconds',
                            'videos_per_s', 'ratio'}
        assert row['videos'] == 2 and row['videos_per_s'] > 0
    assert saved['baseline'] == {
        'workers': 0, 'source': 'video', 'mode': 'eager',
        'videos_per_s': saved['results'][0]['videos_per_s']}
    assert saved['results'][0]['ratio'] == 1.0


def test_rejects_repeated_worker_counts():
    with pytest.raises(SystemExit):
        data_throughput.parse_args(['--workers', '1', '1'])


def test_pipeline_option():
    assert data_throughput.parse_args([]).pipeline == 'train'
    assert data_throughput.parse_args(['--pipeline', 'test']).pipeline == \
        'test'
    with pytest.raises(SystemExit):
        data_throughput.parse_args(['--pipeline', 'val'])
