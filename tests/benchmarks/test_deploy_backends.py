"""``benchmarks/deploy_backends.py`` on the demo model and a tiny view: the
mmvid rows (compiled ones included), the rows of the four exported
formats on their real backends (and the notes when the deployment
libraries are missing, forced), ratios, agreement and JSON."""
import json
import sys

import pytest
import torch

import deploy_backends
from tests.helpers import REPO

DEMO = (f'{REPO}/configs/recognition/i3d/'
        'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')
ARGS = ['--config', DEMO, '--frames', '8', '--size', '32', '--repeats', '1']


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_every_backend_row_against_eager_fp32(native, tmp_path, monkeypatch,
                                              capsys):
    """Both kinds of CPU (forced, in the script and in mmvid's fast-path
    policy): without native bf16 every row is fp32 and exact; with it the
    ``--fast`` rows run bf16 (score cosine >= 0.9999, the bf16 tolerance;
    top-1 is not judged on this random net's near ties) and OpenVINO gets
    a bf16 row. The four exported files (ONNX, OpenVINO, TorchScript,
    torch.export), run by their real backends, compute the model,
    normalisation included, and agree with mmvid's eager logits. Without
    native bf16 only the baseline mmvid row runs (the others are covered
    by the native run), to keep the test short."""
    from mmvid.apis import fast_path
    for module in (deploy_backends, fast_path):
        monkeypatch.setattr(module, 'native_bf16', lambda device: native)
    if not native:
        monkeypatch.setattr(deploy_backends, 'mmvid_variants',
                            lambda config, native: baseline_only(config))
    out = tmp_path / 'deploy.json'
    assert deploy_backends.main(ARGS + ['--json', str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())['rows']
    mmvid_rows = ['mmvid fp32 NCDHW eager', 'mmvid --fast (eager)',
                  'mmvid --compile (fp32)', 'mmvid --fast --compile']
    bf16_rows = {'mmvid --fast (eager)', 'mmvid --fast --compile',
                 'openvino (openvino) bf16'} if native else set()
    assert list(rows) == (mmvid_rows if native else mmvid_rows[:1]) + [
        'onnx (onnxruntime)', 'openvino (openvino)'] + (
            ['openvino (openvino) bf16'] if native else []) + [
        'torchscript (torchscript)', 'exported-program (exported-program)']
    base = rows['mmvid fp32 NCDHW eager']['seconds']
    for name, row in rows.items():
        assert row['speedup'] == pytest.approx(base / row['seconds'])
        if name in bf16_rows:
            assert row['cosine'] >= 0.999, name
        else:
            assert row['top1_agree'] and row['cosine'] > 0.99999, name
        assert f'{name:<26}' in printed
    if native:
        assert 'compiling the backbone for [1, 3, 8, 32, 32]' in printed
    assert 'not installed' not in printed


def test_missing_runtimes_are_named(monkeypatch, capsys):
    """Without onnx / onnxruntime / openvino (imports forced to fail) the
    TorchScript and torch.export rows remain and notes name the extra."""
    monkeypatch.setattr(deploy_backends, 'mmvid_variants',
                        lambda config, native: baseline_only(config))
    for module in ('onnx', 'onnxscript', 'onnxruntime', 'openvino'):
        monkeypatch.setitem(sys.modules, module, None)
    assert deploy_backends.main(ARGS) == 0
    printed = capsys.readouterr().out
    for fmt, purpose, module in (('onnx', 'ONNX export', 'onnx'),
                                 ('openvino', 'OpenVINO export', 'openvino')):
        assert (f'{fmt}: {purpose} needs {module}, which is not installed'
                in printed)
    assert printed.count("pip install 'mmvid[deploy]'") == 2
    assert 'mmvid fp32 NCDHW eager' in printed and '1.00x' in printed
    assert 'torchscript (torchscript)' in printed
    assert 'exported-program (exported-program)' in printed
    assert 'onnx (onnxruntime)' not in printed
    assert 'openvino (openvino)' not in printed


def baseline_only(config):
    """Only the baseline row (no compile): what the notes test needs."""
    model = deploy_backends.build(config, 'contiguous',
                                  torch.device('cpu')).eval()
    return {'mmvid fp32 NCDHW eager': (model, deploy_backends.FastPath())}
