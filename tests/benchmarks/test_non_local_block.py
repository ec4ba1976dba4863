"""``benchmarks/non_local_block.py`` on one small case: its table, with the
memory measured in a fresh worker process, or n/a."""
import os

import pytest

import benchkit
import non_local_block

HEADER = ['shape', 'mode', 'phase', 'matmul', 'ms', 'sdpa', 'ms', 'speed-up',
          'matmul', 'MiB', 'sdpa', 'MiB', 'mem', 'ratio', 'sdpa', 'path',
          'rel.diff']


@pytest.mark.parametrize('clear_refs', ['as-on-this-machine',
                                        'not-writable'])
def test_table_of_one_block(clear_refs, monkeypatch, capsys):
    """This machine's memory branch, and n/a forced (then no worker runs);
    the writable branch is forced in test_benchkit.py."""
    if clear_refs == 'not-writable':
        monkeypatch.setattr(benchkit, 'reset_peak_rss', lambda: False)
    writable = clear_refs == 'as-on-this-machine' and os.access(
        '/proc/self/clear_refs', os.W_OK)
    non_local_block.main(['--shapes', 'layer3', '--modes',
                          'embedded_gaussian', '--batch', '1', '--repeats',
                          '1', '--warmup', '0'])
    captured = capsys.readouterr()
    assert captured.err.splitlines() == ['timing layer3 embedded_gaussian',
                                         'memory layer3 embedded_gaussian']
    lines = captured.out.splitlines()
    assert lines[0].startswith('NonLocal3d attention benchmark: torch ')
    assert 'batch 1, float32, warmup 0, median of 1' in lines[0]
    assert lines[1].endswith('memory = peak extra MiB of one call' + (
        '' if writable else ' (n/a: clear_refs not writable)'))
    assert lines[2].split() == HEADER
    eval_row, train_row = (line.split() for line in lines[4:6])
    assert lines[6].startswith('total ')
    for row, phase in ((eval_row, 'eval'), (train_row, 'train')):
        assert row[:3] == ['layer3', 'embedded_gaussian', phase]
        matmul_ms, sdpa_ms = float(row[3]), float(row[4])
        assert float(row[5][:-1]) == pytest.approx(
            matmul_ms / sdpa_ms, abs=0.006 + 0.05 * (1 + matmul_ms /
                                                      sdpa_ms) / sdpa_ms)
        if writable:
            matmul_mib, sdpa_mib = int(row[6]), int(row[7])
            assert matmul_mib > 0 and sdpa_mib > 0
            # the ratio is of the bytes, the MiB printed are rounded
            rounding = 1 / min(matmul_mib, sdpa_mib) + 0.01
            assert float(row[8][:-1]) == pytest.approx(
                matmul_mib / sdpa_mib, rel=rounding)
        else:
            assert row[6:9] == ['n/a', 'n/a', 'n/a']
        assert row[9] != 'explicit'  # embedded_gaussian runs fused SDPA
    assert float(eval_row[10]) < 1e-5  # rel.diff, eval only
    assert len(train_row) == 10
