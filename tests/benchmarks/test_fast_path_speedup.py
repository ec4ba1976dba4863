"""``benchmarks/fast_path_speedup.py`` on a tiny input: its rows, ratios
and JSON."""
import json

import pytest

import fast_path_speedup


def test_fast_path_script_reports_ratios_against_ncdhw(tmp_path, capsys):
    out = tmp_path / 'fast.json'
    assert fast_path_speedup.main([
        '--frames', '8', '--size', '32', '--repeats', '1', '--batch', '2',
        '--slow-bf16', '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    inference, training = result['inference'], result['training']
    assert list(inference) == ['fp32 NCDHW', 'fp32 channels_last_3d',
                               'fp32 CL + folded BN', 'bf16 CL + folded BN']
    assert list(training) == ['fp32 NCDHW', 'fp32 channels_last_3d',
                              'bf16 autocast + CL']
    base = inference['fp32 NCDHW']['seconds']
    for name, row in inference.items():
        assert row['speedup'] == pytest.approx(base / row['seconds'])
        assert row['top1_agree'] and row['cosine'] > 0.999, name
        assert f'{row["speedup"]:5.2f}x' in printed
    assert inference['fp32 NCDHW']['speedup'] == 1.0
    assert inference['fp32 CL + folded BN']['cosine'] > 0.9999
    assert training['fp32 NCDHW']['speedup'] == 1.0
    assert result['input'] == [8, 32, 32]
    assert 'native bf16: ' in printed and 'median of 1' in printed


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_bf16_rows_follow_the_cpu(native, tmp_path, monkeypatch, capsys):
    """Without --slow-bf16 the bf16 rows are timed only where bf16 is
    native; both kinds of CPU forced."""
    monkeypatch.setattr(fast_path_speedup, 'native_bf16',
                        lambda device: native)
    out = tmp_path / 'fast.json'
    assert fast_path_speedup.main([
        '--frames', '8', '--size', '32', '--repeats', '1', '--skip-training',
        '--json', str(out)]) == 0
    printed = capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result['native_bf16'] is native
    assert f'native bf16: {"yes" if native else "no"}' in printed
    rows = ['fp32 NCDHW', 'fp32 channels_last_3d', 'fp32 CL + folded BN']
    if native:
        assert list(result['inference']) == rows + ['bf16 CL + folded BN']
        assert 'bf16 rows left out' not in printed
    else:
        assert list(result['inference']) == rows
        assert 'bf16 rows left out: no native bf16 here' in printed
    assert 'training' not in result
