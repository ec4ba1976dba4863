"""``benchmarks/non_local_e2e.py`` on a reduced NL R50: the result's
structure, the two attention forms' agreement, and ratios that are the ones
of the printed times."""
import json
import os
import statistics

import pytest
import torch

import benchkit
import non_local_e2e as bench

# The NL embedded-gaussian R50 config shrunk: 1-2-2-1 blocks of 8 stem
# channels, non-local blocks after layer2.1 and layer3.1, 5 classes.
TINY_OPTIONS = {
    'model.backbone.stage_blocks': (1, 2, 2, 1),
    'model.backbone.non_local': ((0, ), (0, 1), (0, 1), (0, )),
    'model.backbone.inflate': ((1, ), (1, 0), (1, 0), (0, )),
    'model.backbone.base_channels': 8,
    'model.cls_head.in_channels': 256,
    'model.cls_head.num_classes': 5,
}
FORMS = ('matmul', 'sdpa')
PHASES = ('inference', 'train')


def tiny_settings(**kwargs):
    values = dict(cfg_options=TINY_OPTIONS, frames=8, size=64, batch=2,
                  warmup=1, repeats=3, memory='inprocess')
    values.update(kwargs)
    return bench.E2ESettings(**values)


@pytest.fixture(scope='module')
def result():
    return bench.run_end_to_end(tiny_settings(), log=lambda msg: None)


def test_result_structure(result):
    machine = result['machine']
    assert machine['torch'] == torch.__version__
    assert machine['device'] == 'cpu' and machine['logical_cores'] >= 1
    assert machine['cpu'] and machine['torch_threads'] >= 1
    model = result['model']
    assert model['nonlocal_blocks'] == 2
    assert model['nonlocal_names'] == [
        'backbone.layer2.1.non_local_block',
        'backbone.layer3.1.non_local_block'
    ]
    assert model['built_with_attention'] == ['sdpa']
    assert model['default_attention'] == 'sdpa'
    for phase in PHASES:
        r = result[phase]
        assert set(r) == {'ms', 'ratio', 'memory_mib', 'memory_ratio',
                          'times_ms'}
        for form in FORMS:
            times = r['times_ms'][form]
            assert len(times) == 3 and all(t > 0 for t in times)
            assert r['ms'][form] == statistics.median(times)
            mib = r['memory_mib'][form]
            assert mib is None or mib >= 0
    json.dumps(result)  # --json writes it as is


def test_the_two_forms_agree_and_run_different_kernels(result):
    agreement = result['agreement']
    errors, measured, floor, limits = (agreement[k] for k in (
        'relative_errors', 'measured_floor', 'float32_floor', 'limits'))
    training = {'train_logits', 'train_loss', 'train_gradients'}
    assert set(errors) == training | {'eval_logits'}
    assert set(floor) == set(measured) == training
    assert set(limits) == set(errors)
    assert agreement['tolerance'] == 1e-4
    assert agreement['min_floor'] == torch.finfo(torch.float32).eps
    assert 0 <= errors['eval_logits'] < 1e-4 == limits['eval_logits']
    for name in training:
        # whether the one-ulp nudge moves the outputs depends on the CPU's
        # kernels (it did not on a Sapphire Rapids): the floor is at least
        # float32's epsilon either way (both cases: the test below)
        assert measured[name] >= 0
        assert floor[name] == max(measured[name], agreement['min_floor'])
        assert limits[name] == max(1e-4, 3 * floor[name])
        assert 0 <= errors[name] < limits[name], (name, errors, floor)
    # the outputs agree to 1e-4 on this model, the gradients to its floor
    assert errors['train_logits'] < 1e-4 and errors['train_loss'] < 1e-4
    assert agreement['agree']
    kernels = agreement['attention_kernels']
    assert kernels['matmul'] == []
    assert any('scaled_dot_product' in k for k in kernels['sdpa'])
    assert agreement['kernels_as_expected']


@pytest.mark.parametrize('nudge', ['absorbed', 'moves-the-outputs'])
def test_the_floor_is_never_zero(monkeypatch, nudge):
    """Both cases forced on any CPU: a nudge the kernels absorb (none at
    all) gives float32's epsilon as the floor; one that moves the outputs
    (1% of each value, more than any kernel absorbs) the measured change."""
    nudged = {'absorbed': lambda x, seed=0: x,
              'moves-the-outputs': lambda x, seed=0: x * 1.01}[nudge]
    monkeypatch.setattr(bench, 'one_ulp_away', nudged)
    model, blocks, _, _, batches = bench.build_e2e(tiny_settings())
    agreement = bench.e2e_agreement(model, blocks, batches)
    eps = torch.finfo(torch.float32).eps
    for name, measured in agreement['measured_floor'].items():
        floor = agreement['float32_floor'][name]
        if nudge == 'absorbed':
            assert (measured, floor) == (0.0, eps)
            assert agreement['limits'][name] == 1e-4
        else:
            assert measured > eps and floor == measured
            assert agreement['limits'][name] == max(1e-4, 3 * measured)


def test_ratios_are_those_of_the_printed_figures(result):
    text = bench.format_end_to_end(result)
    assert f'torch {torch.__version__}' in text
    assert result['machine']['cpu'] in text
    assert 'NonLocal3d default: sdpa' in text
    rows = {line.split()[0]: line.split() for line in text.splitlines()
            if line.split() and line.split()[0] in PHASES}
    assert set(rows) == set(PHASES)
    for phase in PHASES:
        r = result[phase]
        assert r['ratio'] == pytest.approx(
            r['ms']['matmul'] / r['ms']['sdpa'], rel=1e-12)
        mm, ms = (r['memory_mib'][f] for f in FORMS)
        assert r['memory_ratio'] == benchkit.ratio(mm, ms)
        _, p_matmul, p_sdpa, p_ratio, p_mm, p_ms, p_mratio = rows[phase]
        assert p_matmul == f'{r["ms"]["matmul"]:.1f}'
        assert p_sdpa == f'{r["ms"]["sdpa"]:.1f}'
        assert p_ratio == f'{r["ratio"]:.2f}x'
        # the printed ratio follows from the printed times, up to rounding
        m, s = float(p_matmul), float(p_sdpa)
        assert float(p_ratio[:-1]) == pytest.approx(
            m / s, abs=0.006 + 0.05 * (1 + m / s) / s)
        assert p_mratio == ('n/a' if r['memory_ratio'] is None else
                            f'{r["memory_ratio"]:.2f}x')


def test_cpu_memory_worker_in_a_fresh_process():
    peak = bench.e2e_memory_in_subprocess(tiny_settings(), 'train', 'sdpa')
    # this machine's branch; both are forced in test_benchkit.py
    if not os.access('/proc/self/clear_refs', os.W_OK):
        assert peak is None  # the peak RSS cannot be reset: n/a
        return
    # at least the gradients: the parameters in float32
    assert isinstance(peak, int) and peak > 0


def test_command_line_writes_json(tmp_path, capsys):
    out = tmp_path / 'e2e.json'
    options = [f'{k}={v}'.replace(' ', '') for k, v in TINY_OPTIONS.items()]
    threads = torch.get_num_threads()
    bench.main([
        '--frames', '8', '--size', '64', '--repeats', '1', '--warmup', '0',
        '--memory', 'none', '--json', str(out), '--cfg-options', *options
    ])
    assert torch.get_num_threads() == threads
    printed = capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data['settings']['frames'] == 8 and data['settings']['batch'] == 2
    assert data['agreement']['agree']
    assert data['inference']['memory_mib'] == {'matmul': None, 'sdpa': None}
    assert f'{data["train"]["ratio"]:.2f}x' in printed
