"""``benchmarks/data_throughput.py`` on tiny data: its table and JSON."""
import json

import pytest

import data_throughput

CONFIGS = [('video', 'eager'), ('video', 'lazy'), ('rawframes', 'eager'),
           ('rawframes', 'lazy')]


def table_rows(out: str) -> list:
    """The rows of the per-configuration table, split into fields."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.split() == ['workers', 'source', 'mode', 'clips/s',
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
    assert summary[0].split()[:5] == ['workers', 'video', 'eager', 'video',
                                      'lazy']
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
    assert saved['baseline']['workers'] == 0
    assert len(saved['results']) == 8
    for row in saved['results']:
        assert set(row) == {'workers', 'source', 'mode', 'clips', 'seconds',
                            'clips_per_s', 'ratio'}
        assert row['clips'] == 2 and row['clips_per_s'] > 0
    assert saved['results'][0]['ratio'] == 1.0
    assert set(saved['lazy_over_eager']) == {'0', '1'}


def test_rejects_repeated_worker_counts():
    with pytest.raises(SystemExit):
        data_throughput.parse_args(['--workers', '1', '1'])
