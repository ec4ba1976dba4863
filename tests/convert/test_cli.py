"""tools/convert/*_to_mmvid.py: end to end in subprocesses, the cheaper
checks in-process."""
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch

from mmvid.apis import init_recognizer

from . import py2pickle
from .fair_nets import (CONFIG_32X2, CONFIG_32X2_NL, LAYOUT_32X2, Spec,
                        assert_same_outputs, caffe2_blobs, nl_spec,
                        random_net, tusharn_state, write_config)
from tests.helpers import REPO

TOOLS = osp.join(REPO, 'tools', 'convert')


def run_in_process(monkeypatch, capsys, name, *args):
    """Run a tool as ``__main__`` here: ``(exit status, stdout, stderr)``."""
    monkeypatch.setattr(sys, 'argv', [name, *args])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(osp.join(TOOLS, name), run_name='__main__')
    captured = capsys.readouterr()
    return info.value.code, captured.out, captured.err


def run_tool(name, *args):
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    return subprocess.run([sys.executable, osp.join(TOOLS, name), *args],
                          capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.fixture
def caffe2_nl(tmp_path):
    net = random_net(nl_spec())
    src = str(tmp_path / 'i3d_nonlocal_32x2_IN_pretrain_400k.pkl')
    py2pickle.dump({'blobs': caffe2_blobs(net)}, src)
    return net, src


def test_caffe2_cli(tmp_path, caffe2_nl):
    net, src = caffe2_nl
    config = write_config(tmp_path, CONFIG_32X2_NL, nl_spec())
    out = str(tmp_path / 'i3d_nl.pth')
    done = run_tool('caffe2_to_mmvid.py', src, config, out)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f'converted i3d_nonlocal_32x2_IN_pretrain_400k.pkl '
                        f'(caffe2) for {config}')
    assert lines[1] == '  loaded       141 tensors'
    assert lines[-2].startswith('  skipped      93: 91 *_momentum blobs ')
    assert lines[-1] == f'saved {out}'
    assert_same_outputs(init_recognizer(config, out), net, LAYOUT_32X2)


def test_caffe2_cli_error_is_one_line(tmp_path, caffe2_nl):
    _, src = caffe2_nl
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    out = str(tmp_path / 'never.pth')
    done = run_tool('caffe2_to_mmvid.py', src, config, out)
    assert done.returncode == 1
    assert done.stdout == ''
    assert done.stderr == (
        f'caffe2_to_mmvid.py: error: {src} does not fit {config}: checkpoint '
        'has non-local blocks at layer2.1, layer3.1 but the config has none: '
        'use a non-local config (backbone.non_local and non_local_cfg, e.g. '
        '_base_/models/fair_non_local.py)\n')
    assert not osp.exists(out)


def test_tusharn_cli_with_drop_head_and_cfg_options(tmp_path, monkeypatch,
                                                   capsys):
    spec = Spec(num_classes=400)
    net = random_net(spec)
    src = str(tmp_path / 'i3d_r50_kinetics.pth')
    torch.save(tusharn_state(net), src)
    config = write_config(tmp_path, CONFIG_32X2, spec)
    out = str(tmp_path / 'i3d_r50_ucf.pth')
    options = ['--cfg-options', 'model.cls_head.num_classes=101']
    status, stdout, stderr = run_in_process(monkeypatch, capsys,
                                            'tusharn_to_mmvid.py', src,
                                            config, out, *options)
    assert status == 1 and stdout == ''
    assert stderr.startswith('tusharn_to_mmvid.py: error: ')
    assert 'classifier: checkpoint has 400 classes, the config 101' in stderr
    assert not osp.exists(out)

    done = run_tool('tusharn_to_mmvid.py', src, config, out, '--drop-head',
                    *options)
    assert done.returncode == 0, done.stderr
    assert ('  dropped      2: cls_head.fc_cls.weight [400, 256], '
            'cls_head.fc_cls.bias [400] (checkpoint classifier, dropped by '
            '--drop-head)') in done.stdout.splitlines()
    model = init_recognizer(config, out,
                            cfg_options={'model.cls_head.num_classes': 101})
    assert model.cls_head.fc_cls.out_features == 101
    assert_same_outputs(model, net, LAYOUT_32X2,
                        stages=('stem', 'layer1', 'layer2', 'layer3',
                                'layer4'))


def test_missing_source_file(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    status, _, stderr = run_in_process(monkeypatch, capsys,
                                       'pyslowfast_to_mmvid.py',
                                       str(tmp_path / 'absent.pyth'), config,
                                       str(tmp_path / 'out.pth'))
    assert status == 1
    assert stderr == ('pyslowfast_to_mmvid.py: error: checkpoint file not '
                      f'found: {tmp_path / "absent.pyth"}\n')


@pytest.mark.parametrize('tool', [
    'caffe2_to_mmvid.py', 'pyslowfast_to_mmvid.py', 'pytorchvideo_to_mmvid.py',
    'tusharn_to_mmvid.py', 'torchvision_to_mmvid.py'
])
def test_help(tool, monkeypatch, capsys):
    status, stdout, _ = run_in_process(monkeypatch, capsys, tool, '--help')
    assert status == 0
    assert 'SRC CONFIG OUT' in stdout and '--drop-head' in stdout
    assert f'python tools/convert/{tool}' in stdout  # the examples
