"""``benchmarks/benchkit.py``, what the benchmark scripts share: the order
of interleaved calls and their medians, peak memory on both sides of
``clear_refs``, the subprocess worker, ratios and formats, machine facts and
the atomic JSON write."""
import argparse
import json
import os
import platform
import statistics

import pytest
import torch

from mmvid.analysis.machine import cpu_model, peak_rss_mib, usable_cores

import benchkit


def timed_variants(monkeypatch, durations: dict, sequence: list) -> dict:
    """Calls that append their name to ``sequence`` and advance a fake
    ``perf_counter`` by their next duration (warm-up calls included)."""
    clock = [0.0]
    monkeypatch.setattr(benchkit, 'perf_counter', lambda: clock[0])

    def variant(name):
        seconds = iter(durations[name])

        def call():
            sequence.append(name)
            clock[0] += next(seconds)

        return call

    return {name: variant(name) for name in durations}


def test_three_variants_rotate_after_the_warmup(monkeypatch):
    sequence = []
    # first duration: the warm-up call's (not recorded)
    durations = dict(a=[9, 1, 5, 3, 2], b=[9, 4, 4, 1, 7],
                     c=[9, 0.5, 8, 6, 2])
    calls = timed_variants(monkeypatch, durations, sequence)
    times = benchkit.interleaved_times(calls, repeats=4, warmup=1)
    assert sequence == list('abc' 'abc' 'bca' 'cab' 'abc')
    assert times == dict(a=[1, 5, 3, 2], b=[4, 4, 1, 7], c=[0.5, 8, 6, 2])
    assert list(times) == ['a', 'b', 'c']
    assert benchkit.medians(times) == dict(a=2.5, b=4.0, c=4.0)
    assert benchkit.medians(times) == {
        name: statistics.median(values) for name, values in times.items()}


def test_two_variants_alternate(monkeypatch):
    sequence = []
    durations = dict(matmul=[7, 7, 3, 1, 2], sdpa=[7, 7, 2, 6, 5])
    calls = timed_variants(monkeypatch, durations, sequence)
    times = benchkit.interleaved_times(calls, repeats=3, warmup=2)
    assert sequence == (['matmul', 'sdpa'] * 2 + ['matmul', 'sdpa'] +
                        ['sdpa', 'matmul'] + ['matmul', 'sdpa'])
    assert times == dict(matmul=[3, 1, 2], sdpa=[2, 6, 5])
    assert benchkit.medians(times) == dict(matmul=2, sdpa=5)


def test_cuda_calls_are_synchronised(monkeypatch):
    """On a CUDA device every timed call (not the warm-up) is synchronised
    before and after; forced, so it runs without a GPU."""
    sequence = []
    calls = timed_variants(monkeypatch, dict(a=[1, 1], b=[1, 1]), sequence)
    monkeypatch.setattr(torch.cuda, 'synchronize',
                        lambda *args: sequence.append('sync'))
    benchkit.interleaved_times(calls, repeats=1, warmup=1,
                               device=torch.device('cuda'))
    assert sequence == ['a', 'b', 'sync', 'a', 'sync', 'sync', 'b', 'sync']


def test_ratio_and_formats():
    assert benchkit.ratio(3.0, 2.0) == 1.5
    assert benchkit.ratio(0.0, 2.0) == 0.0
    assert benchkit.ratio(None, 2.0) is None
    assert benchkit.ratio(3.0, None) is None
    assert benchkit.ratio(3.0, 0) is None
    assert benchkit.ratio(3.0, -1.0) is None
    assert benchkit.to_mib(3 * 2**20) == 3.0
    assert benchkit.to_mib(0) == 0.0
    assert benchkit.to_mib(None) is None
    assert benchkit.fmt_ms(751.84) == '751.8'
    assert benchkit.fmt_ms(0) == '0.0'
    assert benchkit.fmt_ms(None) == 'n/a'
    assert benchkit.fmt_mib(1517.6) == '1518'
    assert benchkit.fmt_mib(0) == '0'
    assert benchkit.fmt_mib(None) == 'n/a'
    assert benchkit.fmt_ratio(1.234) == '1.23x'
    assert benchkit.fmt_ratio(12.0) == '12.00x'
    assert benchkit.fmt_ratio(0.0) == '0.00x'
    assert benchkit.fmt_ratio(None) == 'n/a'
    assert benchkit.fmt_ratio(benchkit.ratio(1.0, 0)) == 'n/a'


def test_write_json_new_file(tmp_path):
    path = tmp_path / 'out.json'
    data = dict(ms={'matmul': 1.5, 'sdpa': None}, rows=[1, 2])
    benchkit.write_json(str(path), data)
    assert path.read_text() == json.dumps(data, indent=2)
    assert os.listdir(tmp_path) == ['out.json']


def test_write_json_replaces_a_file_once_written(tmp_path, monkeypatch):
    """The new content goes to a temporary file beside the old one, which
    is replaced (intact until then) in one ``os.replace``."""
    path = tmp_path / 'out.json'
    path.write_text('old')
    data = dict(figures=[1.0, 2.0])
    replaced = []
    real_replace = os.replace

    def replace(source, target):
        assert os.path.dirname(source) == str(tmp_path)
        with open(source) as f:
            assert f.read() == json.dumps(data, indent=2)
        assert path.read_text() == 'old'
        replaced.append(target)
        real_replace(source, target)

    monkeypatch.setattr(benchkit.os, 'replace', replace)
    benchkit.write_json(str(path), data)
    assert replaced == [str(path)]
    assert json.loads(path.read_text()) == data
    assert os.listdir(tmp_path) == ['out.json']


def test_write_json_without_a_path_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    benchkit.write_json(None, dict(a=1))
    assert os.listdir(tmp_path) == []


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / 'out.json'
    path.write_text('old')
    with pytest.raises(TypeError):
        benchkit.write_json(str(path), dict(a=1, b=object()))
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['out.json']


@pytest.mark.parametrize('clear_refs', ['writable', 'not-writable'])
def test_cpu_peak_memory_with_and_without_clear_refs(monkeypatch,
                                                     clear_refs):
    """CPU peak memory = VmHWM after the reset minus VmRSS before the call;
    n/a (None) where the high-water mark cannot be reset. Both forced."""
    resets = []

    def reset():
        resets.append(1)
        return clear_refs == 'writable'

    monkeypatch.setattr(benchkit, 'reset_peak_rss', reset)
    monkeypatch.setattr(benchkit, 'resident_mib', lambda: 100.0)
    monkeypatch.setattr(benchkit, 'peak_rss_mib', lambda: 350.25)
    memory = benchkit.PeakMemory(torch.device('cpu'))
    assert memory.available == (clear_refs == 'writable')
    out, peak = memory.measure(lambda: 'result')
    assert out == 'result'
    if clear_refs == 'writable':
        assert peak == 250 * 2**20 + 2**18 and len(resets) == 2
    else:
        assert peak is None and len(resets) == 1  # the probe only


def test_cuda_peak_memory(monkeypatch):
    """max_memory_allocated after the call minus memory_allocated before
    it, the peak statistics reset first; forced, so it runs without a
    GPU."""
    events = []
    allocated = [100]
    monkeypatch.setattr(torch.cuda, 'synchronize', lambda: None)
    monkeypatch.setattr(torch.cuda, 'reset_peak_memory_stats',
                        lambda: events.append('reset'))
    monkeypatch.setattr(torch.cuda, 'memory_allocated',
                        lambda: allocated[0])
    monkeypatch.setattr(torch.cuda, 'max_memory_allocated', lambda: 350)

    def call():
        events.append('call')
        allocated[0] = 120
        return 'result'

    memory = benchkit.PeakMemory(torch.device('cuda'))
    assert memory.available
    assert memory.measure(call) == ('result', 250)
    assert events == ['reset', 'call']


def test_resident_memory_is_below_the_peak():
    assert 0 < benchkit.resident_mib() <= peak_rss_mib()


def test_worker_result_and_environment():
    """The worker's last stdout line is its result; it runs with glibc's
    mmap threshold pinned."""
    code = ('import json, os; print("building"); '
            'print(json.dumps([os.environ["MALLOC_MMAP_THRESHOLD_"], 1.5]))')
    assert benchkit.run_worker(['-c', code], 'tiny') == ['131072', 1.5]


def test_a_failing_worker_raises_with_its_stderr():
    code = 'import sys; sys.exit("out of memory")'
    with pytest.raises(RuntimeError,
                       match='memory worker train sdpa failed:\n'
                       'out of memory'):
        benchkit.run_worker(['-c', code], 'train sdpa')


def test_report_to_parent_prints_one_json_line(capsys):
    benchkit.report_to_parent([['eval', 'sdpa', 1024], ['train', 'sdpa',
                                                        None]])
    assert capsys.readouterr().out == \
        '[["eval", "sdpa", 1024], ["train", "sdpa", null]]\n'


def test_kernel_recorder_names_the_aten_ops():
    x = torch.ones(3)
    recorder = benchkit.KernelRecorder()
    with recorder:
        x + 1
    assert recorder.ops == {'add'}


def test_run_options():
    parser = argparse.ArgumentParser()
    benchkit.add_run_options(parser, batch=8, batch_help='block batch')
    assert vars(parser.parse_args([])) == dict(
        device='cpu', batch=8, repeats=3, warmup=1, threads=None)
    assert vars(parser.parse_args([
        '--device', 'cuda', '--batch', '2', '--repeats', '5', '--warmup',
        '0', '--threads', '4'])) == dict(device='cuda', batch=2, repeats=5,
                                         warmup=0, threads=4)
    with pytest.raises(SystemExit):
        parser.parse_args(['--device', 'mps'])
    assert 'block batch' in parser.format_help()


def test_machine_description(monkeypatch):
    machine = benchkit.machine_description(torch.device('cpu'))
    assert machine == dict(
        cpu=cpu_model(), logical_cores=os.cpu_count(),
        usable_cores=usable_cores(), python=platform.python_version(),
        torch=torch.__version__, torch_threads=torch.get_num_threads(),
        device='cpu', gpu=None)
    monkeypatch.setattr(torch.cuda, 'get_device_name',
                        lambda device: 'NVIDIA H100')
    cuda = benchkit.machine_description(torch.device('cuda'))
    assert (cuda['device'], cuda['gpu']) == ('cuda', 'NVIDIA H100')
    assert benchkit.describe_cpu(dict(cpu='AMD EPYC', logical_cores=4,
                                      usable_cores=2)) == \
        'AMD EPYC, 4 logical cores (2 usable)'
