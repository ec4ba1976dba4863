"""``benchmarks/decoders.py`` on one tiny generated video: its rows, ratios,
frame comparison, JSON and argument checks."""
import json
import sys

import numpy as np
import pytest

import decoders


def test_table_json_and_identical_frames(tmp_path, capsys):
    out_json = tmp_path / 'decoders.json'
    result = decoders.main(['--size', '96x64', '--videos', '1', '--frames',
                            '80', '--rounds', '1', '--json', str(out_json)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('video decoders, ms per video (ratio: decord '
                               '1 thread time / this time), 1 rounds')
    # torchcodec is not a test requirement: not installed here, or its
    # libraries do not load
    assert lines[1].startswith('not measured: torchcodec exact (')
    assert result['not_measured'] == {
        'torchcodec exact': lines[1][len('not measured: torchcodec exact ('):
                                     -1]}
    assert 'torchcodec exact' not in decoders.DECODERS
    assert lines[3] == '1 videos, 96x64, 80-80 frames, h264'
    table = lines[5:]
    assert [row.split('  ')[1].strip() for row in table] == \
        list(decoders.DECODERS)
    rows = result['groups'][0]['rows']
    assert [(r['clips'], r['decoder']) for r in rows] == [
        (clips, name) for clips in decoders.CLIPS
        for name in decoders.DECODERS]
    by = {(r['clips'], r['decoder']): r for r in rows}
    for clips in decoders.CLIPS:
        base = by[clips, decoders.BASELINE]
        assert base['vs_baseline'] == 1.0
        for name in decoders.DECODERS:
            row = by[clips, name]
            assert row['vs_baseline'] == pytest.approx(
                base['ms_per_video'] / row['ms_per_video'])
    # H.264 8-bit: decord, the skipping PyAV decoder and PyAVDecode agree
    for name in ('decord auto threads', 'DecordDecode default',
                 'PyAVDecode'):
        assert by['train', name]['max_diff'] == 0
        assert by['test', name]['max_diff'] == 0
        line = next(row for row in table if row.split('  ')[1].strip()
                    == name)
        assert line.endswith('  yes')
    assert json.loads(out_json.read_text()) == json.loads(json.dumps(result))


def test_clip_indices_are_the_pipelines(tmp_path):
    """train: one 32x2 clip at a seeded start; test: 10 clips of 32x2."""
    video = decoders.write_h264(str(tmp_path / 'v.mp4'), (64, 48), 100, 0)
    train = decoders.clip_indices([video], 'train', 3)[0]
    assert train.shape == (32, ) and np.all(np.diff(train) == 2)
    assert np.array_equal(train, decoders.clip_indices([video], 'train',
                                                       3)[0])
    test = decoders.clip_indices([video], 'test', 3)[0]
    assert test.shape == (320, ) and test.max() < 100


def test_argument_checks(tmp_path, capsys, monkeypatch):
    for argv, message in (
            (['--frames', '40'], '--frames must be >= 64 (one 32x2 clip), '
             'got 40'),
            (['--video-dir', str(tmp_path), '--size', '64x48'],
             '--video-dir decodes the videos of the folder: leave --size '
             'out')):
        with pytest.raises(SystemExit):
            decoders.main(argv)
        assert message in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, 'av', None)
    with pytest.raises(SystemExit):
        decoders.main([])
    assert "needs decord and PyAV" in capsys.readouterr().err


def test_optional_decoders_are_added_where_they_build(monkeypatch):
    """Both answers forced: a decoder whose Init builds gets a row, one
    whose Init raises ImportError is reported with the reason."""
    monkeypatch.setattr(decoders, 'DECODERS', dict(decoders.DECODERS))

    def missing():
        raise ImportError('torchcodec is not installed: pip install x')

    monkeypatch.setattr(decoders, 'OPTIONAL', {
        'here': (decoders.PyAVInit, decoders.PyAVDecode),
        'absent': (missing, decoders.PyAVDecode)})
    assert decoders.add_optional_decoders() == {
        'absent': 'torchcodec is not installed'}
    assert decoders.DECODERS['here'] == (decoders.PyAVInit,
                                         decoders.PyAVDecode)
    assert 'absent' not in decoders.DECODERS
