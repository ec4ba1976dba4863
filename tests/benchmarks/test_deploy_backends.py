"""``benchmarks/deploy_backends.py`` on the demo model and a tiny view: the
mmvid rows (compiled ones included), the runtime rows where ONNX Runtime /
OpenVINO are installed (forced both ways: missing, and stand-ins that run
the exported module), ratios, agreement and JSON."""
import importlib.util
import json
import sys
import types

import pytest
import torch

import deploy_backends
from tests.helpers import REPO

DEMO = (f'{REPO}/configs/recognition/i3d/'
        'i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py')
ARGS = ['--config', DEMO, '--frames', '8', '--size', '32', '--repeats', '1']


def fake_runtimes(monkeypatch, exported):
    """onnx / onnxruntime / openvino stand-ins: the "export" keeps the
    module, the sessions run it on their float input."""
    run = lambda x: exported[0](torch.from_numpy(x)).detach().numpy()  # noqa
    monkeypatch.setattr(deploy_backends, 'export_onnx',
                        lambda model, x, path: exported.append(
                            deploy_backends.Exported(model).eval()))

    class Session:
        def __init__(self, path, options, providers):
            assert providers == ['CPUExecutionProvider']
            assert options.intra_op_num_threads == torch.get_num_threads()

        def get_inputs(self):
            return [types.SimpleNamespace(name='clip')]

        def run(self, outputs, feed):
            return [run(feed['clip'])]

    class Core:
        def compile_model(self, path, device, config):
            hints.append(config['INFERENCE_PRECISION_HINT'])
            return lambda x: [run(x)]

    hints = []

    ort = types.SimpleNamespace(__version__='9.9', InferenceSession=Session,
                                SessionOptions=types.SimpleNamespace)
    ov = types.SimpleNamespace(__version__='2099.1-x', Core=Core)
    monkeypatch.setitem(sys.modules, 'onnxruntime', ort)
    monkeypatch.setitem(sys.modules, 'openvino', ov)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: object() if name in (
                            'onnx', 'onnxruntime', 'openvino')
                        else real(name, *a))
    return hints


@pytest.mark.parametrize('native', [True, False],
                         ids=['native-bf16', 'no-native-bf16'])
def test_every_backend_row_against_eager_fp32(native, tmp_path, monkeypatch,
                                              capsys):
    """Both kinds of CPU (forced, in the script and in mmvid's fast-path
    policy): without native bf16 every row is fp32 and exact; with it the
    ``--fast`` rows run bf16 (score cosine >= 0.9999, the bf16 tolerance;
    top-1 is not judged on this random net's near ties) and OpenVINO gets
    a bf16 row. The runtimes (stand-ins) compute the exported module,
    normalisation included, and agree with mmvid's eager logits."""
    from mmvid.apis import fast_path
    for module in (deploy_backends, fast_path):
        monkeypatch.setattr(module, 'native_bf16', lambda device: native)
    exported = []
    hints = fake_runtimes(monkeypatch, exported)
    out = tmp_path / 'deploy.json'
    assert deploy_backends.main(ARGS + ['--json', str(out)]) == 0
    printed = capsys.readouterr().out
    rows = json.loads(out.read_text())['rows']
    bf16_rows = {'mmvid --fast (eager)', 'mmvid --fast --compile'} \
        if native else set()
    assert list(rows) == ['mmvid fp32 NCDHW eager', 'mmvid --fast (eager)',
                          'mmvid --compile (fp32)', 'mmvid --fast --compile',
                          'onnxruntime 9.9', 'openvino 2099.1 f32'] + (
                              ['openvino 2099.1 bf16'] if native else [])
    assert hints == (['f32', 'bf16'] if native else ['f32'])
    base = rows['mmvid fp32 NCDHW eager']['seconds']
    for name, row in rows.items():
        assert row['speedup'] == pytest.approx(base / row['seconds'])
        if name in bf16_rows:
            assert row['cosine'] >= 0.9999, name
        else:
            assert row['top1_agree'] and row['cosine'] > 0.99999, name
        assert f'{name:<26}' in printed
    assert 'compiling the backbone for [1, 3, 8, 32, 32]' in printed
    assert 'not installed' not in printed


@pytest.mark.parametrize('missing', ['onnx', 'runtimes'])
def test_missing_runtimes_are_named(missing, monkeypatch, capsys):
    monkeypatch.setattr(deploy_backends, 'mmvid_variants',
                        lambda config, native: baseline_only(config))
    real = importlib.util.find_spec
    gone = {'onnx'} if missing == 'onnx' else {'onnxruntime', 'openvino'}
    monkeypatch.setattr(importlib.util, 'find_spec',
                        lambda name, *a: None if name in gone else object()
                        if name == 'onnx' else real(name, *a))
    if missing == 'runtimes':  # onnx "present": an export that writes
        monkeypatch.setattr(deploy_backends, 'export_onnx',
                            lambda model, x, path: open(path, 'w').close())
    assert deploy_backends.main(ARGS) == 0
    printed = capsys.readouterr().out
    if missing == 'onnx':
        assert ('ONNX export: onnx is not installed (pip install onnx '
                'onnxscript); no runtime rows') in printed
    else:
        assert 'onnxruntime: not installed (pip install onnxruntime)' in \
            printed
        assert 'openvino: not installed (pip install openvino)' in printed
    assert 'mmvid fp32 NCDHW eager' in printed and '1.00x' in printed
    assert 'onnxruntime 9' not in printed and 'openvino 20' not in printed


def baseline_only(config):
    """Only the baseline row (no compile): what the notes test needs."""
    model = deploy_backends.build(config, 'contiguous',
                                  torch.device('cpu')).eval()
    return {'mmvid fp32 NCDHW eager': (model, deploy_backends.FastPath())}
