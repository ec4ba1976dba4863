"""PySlowFast / PyTorchVideo .pyth, Tushar-N and torchvision .pth -> mmvid,
checked against an independent forward pass of the source weights."""
import pytest
import torch

from mmvid.apis import init_recognizer, load_config
from mmvid.registry import MODELS
from mmvid.checkpoint import CheckpointError
from mmvid.convert import convert_checkpoint

from . import py2pickle
from .fair_nets import (CONFIG_8X8, CONFIG_8X8_NL, CONFIG_32X2,
                        CONFIG_32X2_NL, LAYOUT_8X8, LAYOUT_32X2, Spec,
                        assert_same_outputs, caffe2_blobs, inflate_net,
                        nl_spec, pyslowfast_state, pytorchvideo_state,
                        random_net, tusharn_state, write_config)

BACKBONE = ('stem', 'layer1', 'layer2', 'layer3', 'layer4')


def convert_and_load(tmp_path, src, config, fmt, **kwargs):
    out = str(tmp_path / 'converted.pth')
    state_dict, report = convert_checkpoint(src, config, out, fmt=fmt,
                                            **kwargs)
    return init_recognizer(config, out), state_dict, report


def save_pyth(tmp_path, state, name, **extra):
    path = str(tmp_path / name)
    torch.save(dict(model_state=state, **extra), path)
    return path


@pytest.mark.parametrize('spec,base', [(Spec(), CONFIG_8X8),
                                       (nl_spec(), CONFIG_8X8_NL)],
                         ids=['baseline', 'non_local'])
def test_pyslowfast_pyth(tmp_path, spec, base):
    net = random_net(spec)
    src = save_pyth(tmp_path, pyslowfast_state(net), 'I3D_8x8_R50.pyth',
                    epoch=196, cfg='MODEL:\n  ARCH: i3d\n',
                    optimizer_state=dict(state={}, param_groups=[
                        dict(lr=0.001, momentum=0.9, params=[0, 1])]))
    config = write_config(tmp_path, base, spec)
    model, state_dict, report = convert_and_load(tmp_path, src, config,
                                                 'pyslowfast')
    assert_same_outputs(model, net, LAYOUT_8X8)
    # PySlowFast saves num_batches_tracked: they are loaded, not filled
    assert report.filled == [] and report.skipped == []
    assert len(report.loaded) == len(state_dict)
    assert int(state_dict['backbone.conv1.bn.num_batches_tracked']) == 1234


def test_pyslowfast_converter_reads_zoo_pkl_as_caffe2(tmp_path):
    spec = Spec()
    net = random_net(spec)
    src = str(tmp_path / 'I3D_8x8_R50.pkl')
    py2pickle.dump({'blobs': caffe2_blobs(net)}, src)
    config = write_config(tmp_path, CONFIG_8X8, spec)
    model, _, report = convert_and_load(tmp_path, src, config, 'pyslowfast')
    assert report.format == 'caffe2'
    assert_same_outputs(model, net, LAYOUT_8X8)


@pytest.mark.parametrize('five_d', [True, False], ids=['1xhxw', 'hxw'])
def test_pyslowfast_r50_in1k_is_inflated(tmp_path, five_d):
    spec = Spec(two_d=True)
    net2d = random_net(spec)
    src = save_pyth(tmp_path, pyslowfast_state(net2d, five_d=five_d),
                    'R50_IN1K.pyth')
    config = write_config(tmp_path, CONFIG_8X8, spec)
    model, state_dict, report = convert_and_load(tmp_path, src, config,
                                                 'pyslowfast')
    assert_same_outputs(model, inflate_net(net2d, spec), LAYOUT_8X8,
                        stages=BACKBONE)
    assert sorted(report.inflated) == sorted(
        k for k in state_dict if k.endswith('.conv.weight'))
    assert [e.name for e in report.dropped] == [
        'cls_head.fc_cls.weight [1000, 256]', 'cls_head.fc_cls.bias [1000]'
    ]
    assert report.names('initialised') == ['cls_head.fc_cls.weight',
                                           'cls_head.fc_cls.bias']


def test_pytorchvideo_pyth(tmp_path):
    spec = Spec(stage_blocks=(2, 2, 2, 2),
                inflate=((1, 1), (1, 0), (1, 0), (0, 1)))
    net = random_net(spec)
    src = save_pyth(tmp_path, pytorchvideo_state(net), 'I3D_8x8_R50.pyth')
    config = write_config(tmp_path, CONFIG_8X8, spec)
    model, _, report = convert_and_load(tmp_path, src, config, 'pytorchvideo')
    assert_same_outputs(model, net, LAYOUT_8X8)
    assert report.format == 'pytorchvideo' and report.filled == []


@pytest.mark.parametrize('spec,base,counters', [
    (Spec(), CONFIG_32X2, False),
    (nl_spec(), CONFIG_32X2_NL, False),
    (nl_spec(), CONFIG_32X2_NL, True),
], ids=['baseline', 'non_local', 'non_local_with_counters'])
def test_tusharn_pth(tmp_path, spec, base, counters):
    net = random_net(spec)
    src = str(tmp_path / 'i3d_r50_nl_kinetics.pth')
    torch.save(tusharn_state(net, counters=counters), src)
    config = write_config(tmp_path, base, spec)
    model, _, report = convert_and_load(tmp_path, src, config, 'tusharn')
    assert_same_outputs(model, net, LAYOUT_32X2)
    assert bool(report.filled) != counters


def test_torchvision_matches_resnet3d_pretrained2d(tmp_path):
    """The same inflation as ResNet3d(pretrained=PATH, pretrained2d=True)."""
    spec = Spec(two_d=True)
    net2d = random_net(spec)
    src = str(tmp_path / 'resnet50-0676ba61.pth')
    torch.save(tusharn_state(net2d, counters=True), src)
    config = write_config(tmp_path, CONFIG_32X2, spec)
    model, state_dict, report = convert_and_load(tmp_path, src, config,
                                                 'torchvision')
    assert_same_outputs(model, inflate_net(net2d, spec), LAYOUT_32X2,
                        stages=BACKBONE)
    assert report.names('dropped') == ['cls_head.fc_cls.weight [1000, 256]',
                                       'cls_head.fc_cls.bias [1000]']

    cfg = load_config(config, {'model.backbone.pretrained': src,
                               'model.backbone.pretrained2d': True})
    reference = MODELS.build(cfg.model)
    reference.init_weights()
    for key, value in reference.backbone.state_dict().items():
        assert torch.equal(state_dict[f'backbone.{key}'], value), key


def test_torchvision_refuses_3d_kernels(tmp_path):
    src = str(tmp_path / 'i3d_r50_kinetics.pth')
    torch.save(tusharn_state(random_net(Spec())), src)
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    with pytest.raises(CheckpointError,
                       match='its kernels are 3-D, expected a 2-D '
                       'torchvision ResNet'):
        convert_checkpoint(src, config, fmt='torchvision')


def test_2d_classifier_kept_when_it_fits(tmp_path):
    """A 2-D network's classifier is only left out when it does not fit."""
    spec = Spec(two_d=True)
    net2d = random_net(spec)  # 1000 classes
    src = save_pyth(tmp_path, pyslowfast_state(net2d), 'R50_IN1K.pyth')
    config = write_config(tmp_path, CONFIG_8X8, spec, num_classes=1000)
    model, _, report = convert_and_load(tmp_path, src, config, 'pyslowfast')
    assert_same_outputs(model, inflate_net(net2d, spec), LAYOUT_8X8)
    assert report.dropped == [] and report.initialised == []


def test_2d_weights_into_non_local_config(tmp_path):
    """ImageNet init of an I3D-NL: the non-local blocks stay fresh."""
    spec = Spec(two_d=True)
    src = str(tmp_path / 'resnet50.pth')
    torch.save(tusharn_state(random_net(spec)), src)
    config = write_config(tmp_path, CONFIG_32X2_NL, nl_spec())
    model, state_dict, report = convert_and_load(tmp_path, src, config,
                                                 'torchvision')
    fresh = report.names('initialised')
    non_local = [k for k in state_dict
                 if '.non_local_block.' in k and 'num_batches' not in k]
    assert sorted(fresh) == sorted(non_local + ['cls_head.fc_cls.weight',
                                                'cls_head.fc_cls.bias'])
    # a fresh FAIR block starts as the identity (zero-gamma output BN)
    block = model.backbone.layer2[1].non_local_block
    assert torch.equal(block.conv_out.bn.weight,
                       torch.zeros_like(block.conv_out.bn.weight))
