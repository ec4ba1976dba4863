"""tools/deployment/export.py (mmvid.cli.export) and tools/test.py
--backend on the demo model and the tiny test set."""
import json
import os
import subprocess
import sys

import pytest
import torch

from mmvid.cli import export as export_cli
from mmvid.cli import test as test_cli
from mmvid.deployment import ExportedRunner

from .conftest import DEMO_CONFIG, REPO


def export_args(demo, out, *flags):
    return [DEMO_CONFIG, demo['ckpt'], '--out', str(out), *flags,
            '--cfg-options', *demo['options']]


def test_export_prints_a_passed_check(demo, tmp_path, capsys):
    out = tmp_path / 'demo.pt'
    assert export_cli.main(export_args(
        demo, out, '--format', 'torchscript', '--shape', '1', '3', '8',
        '32', '32')) == 0
    printed = capsys.readouterr().out
    assert f'(torchscript, clip [1, 3, 8, 32, 32] float32, dynamic: batch) ' \
        f'to {out}' in printed
    assert 'torchscript against eager on a random clip [1, 3, 8, 32, 32]: ' \
        'check passed: cosine 1.000000' in printed
    assert os.listdir(tmp_path) == ['demo.pt']

    # a second export refuses to replace it (exit 2, before exporting)
    assert export_cli.main(export_args(demo, out, '--format',
                                       'torchscript')) == 2
    assert f'error: {out} exists; pass --force to replace it' in \
        capsys.readouterr().err


def test_export_fails_when_the_check_fails(demo, tmp_path, capsys,
                                           monkeypatch):
    """Exit 1 and the failed check when the exported scores differ."""
    real = ExportedRunner.__call__
    monkeypatch.setattr(ExportedRunner, '__call__',
                        lambda self, x: real(self, x).flip(1))
    assert export_cli.main(export_args(
        demo, tmp_path / 'm.pt2', '--format', 'exported-program',
        '--shape', '2', '3', '8', '32', '32', '--dynamic', 'none')) == 1
    printed = capsys.readouterr().out
    assert 'exported-program against eager on a random clip [2, 3, 8, 32, ' \
        '32]: check FAILED: cosine ' in printed
    assert 'top-1 DIFFERENT' in printed


def test_export_without_onnx(demo, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxscript', None)
    assert export_cli.main(export_args(demo, tmp_path / 'm.onnx')) == 2
    assert "error: ONNX export needs onnxscript, which is not installed" \
        in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_default_output_name():
    assert export_cli.default_output('w/epoch_3.pth', 'openvino') == \
        'w/epoch_3.xml'
    assert export_cli.default_output('w/epoch_3.pth', 'exported-program') \
        == 'w/epoch_3.pt2'


def test_test_tool_with_an_exported_model(demo, exported, tmp_path, capsys):
    """tools/test.py on the ONNX file gives what it gives on the
    checkpoint: the same metric lines and the same --out format, scores
    equal to 1e-5."""
    common = ['--eval', 'top_k_accuracy', '--cfg-options', *demo['options']]
    runs = {}
    for name, model, flags in (
            ('eager', demo['ckpt'], []),
            ('onnxruntime', exported['onnx'], ['--backend', 'onnxruntime'])):
        out = tmp_path / f'{name}.json'
        test_cli.main([DEMO_CONFIG, model, *flags, '--out', str(out),
                       '--work-dir', str(tmp_path / name), *common])
        printed = capsys.readouterr().out
        runs[name] = (json.loads(out.read_text()),
                      [line for line in printed.splitlines()
                       if line.startswith('top')])
    (eager, eager_lines), (ours, our_lines) = runs['eager'], \
        runs['onnxruntime']
    assert len(ours) == len(eager) == 3 and len(ours[0]) == 8
    assert torch.allclose(torch.tensor(ours), torch.tensor(eager),
                          atol=1e-5)
    assert our_lines == eager_lines and our_lines[0].startswith('top1_acc: ')


def test_test_tool_refuses_torch_flags(exported, capsys):
    with pytest.raises(SystemExit):
        test_cli.parse_args([DEMO_CONFIG, exported['onnx'], '--backend',
                             'onnxruntime', '--fast', '--non-strict'])
    assert '--non-strict, --fast: torch-model options; they do not apply ' \
        'to an exported model (--backend; it gives scores only, no ' \
        'features)' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        test_cli.parse_args([DEMO_CONFIG, exported['onnx'], '--backend',
                             'onnxruntime', '--dump', 'd.npz',
                             '--dump-features'])
    assert '--dump-features: torch-model options' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        test_cli.parse_args([DEMO_CONFIG, exported['onnx'], '--backend',
                             'onnxruntime', '--launcher', 'pytorch'])
    assert '--backend runs in one process: drop --launcher pytorch' in \
        capsys.readouterr().err


def test_core_imports_no_deploy_library():
    """mmvid's tools and the deployment package import the optional
    runtimes only when a format or backend needs them."""
    code = ('import sys, mmvid.cli.test, mmvid.cli.export, mmvid.deployment;'
            ' print(sorted(m for m in ("onnx", "onnxscript", "onnxruntime", '
            '"openvino") if m in sys.modules))')
    done = subprocess.run([sys.executable, '-c', code], check=True,
                          capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert done.stdout.strip() == '[]'
