"""Caffe2 .pkl (video-nonlocal-net, PySlowFast zoo) -> mmvid, checked
against an independent forward pass of the source weights."""
import os.path as osp

import numpy as np
import pytest
import torch

from mmvid.apis import init_recognizer
from mmvid.checkpoint import load_file
from mmvid.convert import (build_model, convert_checkpoint,
                                            fit_to_model, format_report,
                                            map_caffe2_blobs)
from mmvid.version import __version__

from . import py2pickle
from .fair_nets import (CONFIG_8X8, CONFIG_8X8_NL, CONFIG_32X2,
                        CONFIG_32X2_NL, FAIR_NON_LOCAL, FULL_SIZE, LAYOUT_8X8,
                        LAYOUT_32X2, ZOO, Spec, assert_same_outputs,
                        caffe2_blobs, inflate_net, nl_spec, random_net,
                        write_config)

CASES = {
    '8x8': (Spec(), CONFIG_8X8, LAYOUT_8X8),
    '8x8_nl': (nl_spec(), CONFIG_8X8_NL, LAYOUT_8X8),
    '32x2': (Spec(), CONFIG_32X2, LAYOUT_32X2),
    '32x2_nl': (nl_spec(), CONFIG_32X2_NL, LAYOUT_32X2),
}


def write_pkl(tmp_path, blobs, name='model.pkl', wrap=True):
    path = str(tmp_path / name)
    py2pickle.dump({'blobs': blobs} if wrap else blobs, path)
    return path


@pytest.mark.parametrize('case', sorted(CASES))
def test_trained_model_reproduces_forward(tmp_path, case):
    spec, base, layout = CASES[case]
    net = random_net(spec)
    blobs = caffe2_blobs(net)
    src = write_pkl(tmp_path, blobs, 'i3d_32x2_IN_pretrain_400k.pkl')
    config = write_config(tmp_path, base, spec)
    out = str(tmp_path / 'converted' / 'i3d.pth')

    _, report = convert_checkpoint(src, config, out, fmt='caffe2')

    model = init_recognizer(config, out)  # strict
    assert_same_outputs(model, net, layout)
    momentum = [name for name in blobs if name.endswith('_momentum')]
    assert sorted(report.names('skipped')) == sorted(
        momentum + ['lr', 'model_iter'])
    weights = len(blobs) - len(momentum) - 2
    assert len(report.loaded) == weights
    assert report.counts() == dict(
        loaded=weights, inflated=0, skipped=len(momentum) + 2, dropped=0,
        filled=len(model.state_dict()) - weights, initialised=0)
    assert all(e.kind.startswith('num_batches_tracked')
               for e in report.filled)
    text = format_report(report)
    assert f'  skipped      {len(momentum) + 2}: {len(momentum)} *_momentum ' \
        'blobs (SGD history); lr (learning rate); model_iter (iteration ' \
        'counter)' in text
    assert text.endswith(f'saved {out}')
    meta = load_file(out)['meta']
    assert meta == dict(converted_from='i3d_32x2_IN_pretrain_400k.pkl',
                        format='caffe2', config=config, drop_head=False,
                        mmvid_version=__version__)


def test_riv_is_the_running_variance(tmp_path):
    net = random_net(Spec())
    mapped = map_caffe2_blobs(caffe2_blobs(net), 'model.pkl')
    tensors = mapped.tensors
    assert torch.equal(tensors['backbone.conv1.bn.running_var'],
                       torch.from_numpy(net.stem_bn.riv))
    assert torch.equal(tensors['backbone.layer2.0.conv3.bn.running_mean'],
                       torch.from_numpy(net.stages[1][0].bns[2].rm))
    assert torch.equal(tensors['backbone.layer4.0.downsample.conv.weight'],
                       torch.from_numpy(net.stages[3][0].branch1[0]))


def test_affine_flat_file_loads_as_frozen_bn(tmp_path):
    """modify_caffe2_ftvideo.py output: a flat dict, BN folded into _s/_b
    (no _rm/_riv), non-local blocks without BN, no pred_*, lr kept."""
    spec = nl_spec(affine=True)
    net = random_net(spec)
    blobs = caffe2_blobs(net, momentum=False, with_pred=False)
    blobs['lr'] = np.float32(0.00125)
    assert not any(name.endswith(('_rm', '_riv')) for name in blobs)
    src = write_pkl(tmp_path, blobs, 'affine_model_400k.pkl', wrap=False)
    config = write_config(tmp_path, CONFIG_32X2_NL, spec)
    out = str(tmp_path / 'affine.pth')

    _, report = convert_checkpoint(src, config, out, drop_head=True)

    model = init_recognizer(config, out)
    assert_same_outputs(model, net, LAYOUT_32X2,
                        stages=('stem', 'layer1', 'layer2', 'layer3',
                                'layer4'))
    bn = model.backbone.layer1[0].conv1.bn
    assert torch.equal(bn.running_mean, torch.zeros_like(bn.running_mean))
    assert torch.allclose(bn.running_var + bn.eps,
                          torch.ones_like(bn.running_var))
    frozen = [e.name for e in report.filled if e.kind.startswith('frozen')]
    identity = [e.name for e in report.filled if e.kind.startswith('non-loc')]
    assert 'backbone.conv1.bn' in frozen and len(frozen) == 23
    assert identity == ['backbone.layer2.1.non_local_block.conv_out.bn',
                        'backbone.layer3.1.non_local_block.conv_out.bn']
    nl_bn = model.backbone.layer2[1].non_local_block.conv_out.bn
    assert torch.equal(nl_bn.weight, torch.ones_like(nl_bn.weight))
    assert torch.equal(nl_bn.bias, torch.zeros_like(nl_bn.bias))
    assert report.names('skipped') == ['lr']
    assert report.names('initialised') == ['cls_head.fc_cls.weight',
                                           'cls_head.fc_cls.bias']
    text = format_report(report)
    assert '23 frozen-BN layers without statistics, given running_mean 0, ' \
        'running_var 1 - eps' in text


def test_imagenet_2d_pkl_is_inflated(tmp_path):
    """The Caffe2 ImageNet ResNet (4-D kernels, 1000-way pred)."""
    spec = Spec(two_d=True)
    net2d = random_net(spec)
    src = write_pkl(tmp_path, caffe2_blobs(net2d),
                    'r50_pretrain_c2_model_iter450450_clean.pkl')
    config = write_config(tmp_path, CONFIG_32X2, spec)

    state_dict, report = convert_checkpoint(src, config, str(tmp_path / 'o'))

    model = init_recognizer(config, str(tmp_path / 'o'))
    assert_same_outputs(model, inflate_net(net2d, spec), LAYOUT_32X2,
                        stages=('stem', 'layer1', 'layer2', 'layer3',
                                'layer4'))
    kernels = [k for k in state_dict if k.endswith('.conv.weight')]
    assert sorted(report.inflated) == sorted(kernels)
    assert report.names('dropped') == ['cls_head.fc_cls.weight [1000, 256]',
                                       'cls_head.fc_cls.bias [1000]']
    assert osp.exists(str(tmp_path / 'o'))


def test_test_net_pred_as_1x1x1_conv(tmp_path):
    """A test net saves pred_w as a 1x1x1 conv [K, C, 1, 1, 1]."""
    spec = Spec()
    net = random_net(spec)
    blobs = caffe2_blobs(net)
    blobs['pred_w'] = net.pred_w[:, :, None, None, None]
    src = write_pkl(tmp_path, blobs)
    config = write_config(tmp_path, CONFIG_32X2, spec)
    convert_checkpoint(src, config, str(tmp_path / 'o.pth'))
    assert_same_outputs(init_recognizer(config, str(tmp_path / 'o.pth')),
                        net, LAYOUT_32X2)


@pytest.mark.parametrize('base,non_local,layout', [
    (CONFIG_32X2_NL, FAIR_NON_LOCAL, LAYOUT_32X2),
    (CONFIG_8X8, None, LAYOUT_8X8),
], ids=['32x2_nl', '8x8'])
def test_full_size_files_fit_the_zoo_configs(base, non_local, layout):
    """A full-size R50 file (327 weights for I3D-NL: Appendix A of the FAIR
    name table less its 3 non-weight rows) fits the zoo config unchanged."""
    net = random_net(Spec(non_local=non_local, **FULL_SIZE))
    mapped = map_caffe2_blobs(caffe2_blobs(net), 'i3d.pkl')
    model, _ = build_model(osp.join(ZOO, base))
    state_dict, report = fit_to_model(mapped, model)
    assert len(report.loaded) == (327 if non_local else 267)
    model.load_state_dict(state_dict)
    assert_same_outputs(model, net, layout, size=96)
