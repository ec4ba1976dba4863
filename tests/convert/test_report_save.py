"""The printed report and the atomic save."""
import os

import pytest
import torch

from mmvid.checkpoint import load_file
from mmvid.convert import (ConversionReport, ReportEntry,
                                            format_report, save_converted)
from mmvid.convert import save as save_module


def test_format_report_groups_repeated_kinds():
    momentum = [ReportEntry(f'res2_{i}_branch2a_w_momentum', '*_momentum '
                            'blobs (SGD history)') for i in range(161)]
    report = ConversionReport(
        source='i3d.pkl', format='caffe2', config='cfg.py',
        loaded=['a'] * 5, inflated=['a'] * 2,
        skipped=momentum + [ReportEntry('lr', 'learning rate')],
        dropped=[ReportEntry('cls_head.fc_cls.weight [400, 2048]', 'head')],
        out='out.pth')
    assert format_report(report) == '\n'.join([
        'converted i3d.pkl (caffe2) for cfg.py',
        '  loaded       5 tensors (2 conv kernels inflated from 2-D)',
        '  dropped      1: cls_head.fc_cls.weight [400, 2048] (head)',
        '  skipped      162: 161 *_momentum blobs (SGD history); lr '
        '(learning rate)',
        'saved out.pth',
    ])
    assert report.counts()['skipped'] == 162
    assert report.names('skipped', 'learning rate') == ['lr']


def test_save_writes_state_dict_and_meta(tmp_path):
    out = str(tmp_path / 'new' / 'folder' / 'model.pth')
    save_converted({'w': torch.ones(2)}, out, dict(format='caffe2'))
    checkpoint = load_file(out)
    assert torch.equal(checkpoint['state_dict']['w'], torch.ones(2))
    assert checkpoint['meta'] == dict(format='caffe2')
    assert os.listdir(os.path.dirname(out)) == ['model.pth']


def test_failed_save_leaves_nothing_half_written(tmp_path, monkeypatch):
    out = tmp_path / 'model.pth'
    out.write_bytes(b'previous conversion')

    def fail_midway(obj, file):
        file.write(b'partial')
        raise OSError('disk full')

    monkeypatch.setattr(save_module.torch, 'save', fail_midway)
    with pytest.raises(OSError, match='disk full'):
        save_converted({'w': torch.ones(2)}, str(out), {})
    assert out.read_bytes() == b'previous conversion'
    assert os.listdir(tmp_path) == ['model.pth']
