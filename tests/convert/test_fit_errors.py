"""What does not fit is refused with a message naming the cause; nothing is
written then. --drop-head keeps the config's fresh classifier."""
import os
import re

import numpy as np
import pytest
import torch

from mmvid.apis import init_recognizer
from mmvid.checkpoint import CheckpointError
from mmvid.convert import convert_checkpoint

from . import py2pickle
from .fair_nets import (CONFIG_8X8, CONFIG_32X2, CONFIG_32X2_NL, CONFIG_HMDB,
                        LAYOUT_8X8, Spec, assert_same_outputs, caffe2_blobs,
                        nl_spec, pyslowfast_state, random_net, tusharn_state,
                        write_config)

I3D_INFLATE_50 = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_INFLATE_101 = ((1, 1, 1), (1, 0, 1, 0), (1, 0) * 11 + (1, ), (0, 1, 0))


def pkl(tmp_path, blobs, name='model.pkl'):
    path = str(tmp_path / name)
    py2pickle.dump({'blobs': blobs}, path)
    return path


def refused(src, config, message, **kwargs):
    """Converting raises ``'{src} does not fit {config}: {message}'``."""
    folder = os.path.dirname(config)
    before = sorted(os.listdir(folder))
    with pytest.raises(CheckpointError) as info:
        convert_checkpoint(src, config, os.path.join(folder, 'out.pth'),
                           **kwargs)
    assert str(info.value) == f'{src} does not fit {config}: {message}'
    assert '\n' not in str(info.value)
    assert sorted(os.listdir(folder)) == before  # nothing written


def test_depth_101_checkpoint_into_depth_50_config(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(
        Spec(stage_blocks=(3, 4, 23, 3), inflate=I3D_INFLATE_101))))
    config = write_config(tmp_path, CONFIG_32X2,
                          Spec(stage_blocks=(3, 4, 6, 3),
                               inflate=I3D_INFLATE_50))
    refused(src, config,
            "checkpoint has layer3.6.* but the config builds 6 blocks in "
            "layer3: is the config's depth right (the checkpoint looks like "
            "depth 101)?")


def test_shallower_checkpoint_into_deeper_config(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(
        Spec(stage_blocks=(3, 4, 6, 3), inflate=I3D_INFLATE_50))))
    config = write_config(tmp_path, CONFIG_32X2,
                          Spec(stage_blocks=(3, 4, 23, 3),
                               inflate=I3D_INFLATE_101))
    refused(src, config,
            "the config builds 23 blocks in layer3 but the checkpoint has 6 "
            "(layer3.0-5): is the config's depth right (the checkpoint looks "
            "like depth 50)?")


def test_non_local_checkpoint_into_baseline_config(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(nl_spec())))
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    refused(src, config,
            'checkpoint has non-local blocks at layer2.1, layer3.1 but the '
            'config has none: use a non-local config (backbone.non_local and '
            'non_local_cfg, e.g. _base_/models/fair_non_local.py)')


def test_baseline_checkpoint_into_non_local_config(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(Spec())))
    config = write_config(tmp_path, CONFIG_32X2_NL, nl_spec())
    refused(src, config,
            'the config has non-local blocks at layer2.1, layer3.1 but the '
            'checkpoint has none: use the config without non-local blocks')


def test_non_local_blocks_elsewhere(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(nl_spec())))
    config = write_config(tmp_path, CONFIG_32X2_NL,
                          Spec(non_local=((1, ), (0, 1), (0, 0), (0, ))))
    refused(src, config,
            'checkpoint has non-local blocks at layer2.1, layer3.1 but the '
            'config at layer1.0, layer2.1: make backbone.non_local match')


def test_mmcv_style_non_local_config(tmp_path):
    """FAIR's output conv has a bias; mmcv's (mmaction2's) has none."""
    src = pkl(tmp_path, caffe2_blobs(random_net(nl_spec())))
    config = write_config(tmp_path, CONFIG_32X2_NL, nl_spec())
    refused(src, config,
            "checkpoint's non-local output convs have a bias (FAIR's) but "
            "the config's do not: set non_local_cfg out_bias=True (see "
            '_base_/models/fair_non_local.py)',
            cfg_options={'model.backbone.non_local_cfg.out_bias': False})


def test_400_classes_into_hmdb51_config(tmp_path):
    spec = Spec(num_classes=400)
    net = random_net(spec)
    src = pkl(tmp_path, caffe2_blobs(net), 'I3D_8x8_R50.pkl')
    config = write_config(tmp_path, CONFIG_HMDB, spec, num_classes=51)
    refused(src, config,
            'classifier: checkpoint has 400 classes, the config 51: pass '
            "--drop-head (drop_head=True) to keep the config's freshly "
            'initialised head and load the backbone')

    out = str(tmp_path / 'hmdb51_init.pth')
    torch.manual_seed(3)
    state_dict, report = convert_checkpoint(src, config, out, drop_head=True)
    model = init_recognizer(config, out)
    assert_same_outputs(model, net, LAYOUT_8X8,
                        stages=('stem', 'layer1', 'layer2', 'layer3',
                                'layer4'))
    torch.manual_seed(3)
    fresh = init_recognizer(config)  # the config's own initialisation
    for key in ('cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'):
        assert torch.equal(state_dict[key], fresh.state_dict()[key])
    assert state_dict['cls_head.fc_cls.weight'].shape == (51, spec.feat_dim)
    assert report.names('dropped') == ['cls_head.fc_cls.weight [400, 256]',
                                       'cls_head.fc_cls.bias [400]']
    assert report.names('initialised') == ['cls_head.fc_cls.weight',
                                           'cls_head.fc_cls.bias']


def test_no_classifier_needs_drop_head(tmp_path):
    net = random_net(Spec())
    src = pkl(tmp_path, caffe2_blobs(net, with_pred=False))
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    refused(src, config,
            "checkpoint has no classifier but the config's cls_head has 7 "
            "classes: pass --drop-head (drop_head=True) to keep the config's "
            'freshly initialised head')


def test_config_without_head(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(Spec())))
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    options = {'model.cls_head': None}
    refused(src, config,
            'checkpoint has a classifier (7 classes) but the config builds '
            'no cls_head: pass --drop-head (drop_head=True) to convert the '
            'backbone only', cfg_options=options)
    state_dict, report = convert_checkpoint(src, config, drop_head=True,
                                            cfg_options=options)
    assert not any(k.startswith('cls_head') for k in state_dict)
    assert len(report.dropped) == 2 and not report.initialised


def test_inflate_pattern_differs(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(Spec())))
    config = write_config(
        tmp_path, CONFIG_32X2,
        Spec(inflate=((1, ), (0, 1), (1, 0), (1, ))))
    refused(src, config,
            'temporal kernel sizes differ (checkpoint vs config) at '
            'layer2.0.conv1 (3 vs 1), layer2.1.conv1 (1 vs 3): is the '
            "config's inflate pattern (or conv1_kernel) right?")


def test_width_differs(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(Spec(base=16))))
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    with pytest.raises(CheckpointError,
                       match=re.escape("tensor(s) differ in shape "
                                       "(checkpoint vs config): conv1.conv."
                                       "weight: [16, 3, 5, 7, 7] vs "
                                       "[8, 3, 5, 7, 7]")):
        convert_checkpoint(src, config)


def test_2d_file_through_the_tusharn_converter(tmp_path):
    src = str(tmp_path / 'resnet50.pth')
    torch.save(tusharn_state(random_net(Spec(two_d=True))), src)
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    with pytest.raises(CheckpointError,
                       match=re.escape(
                           'conv1.conv.weight is a 2-D kernel [8, 3, 7, 7] '
                           'in the checkpoint but [8, 3, 5, 7, 7] in the '
                           'config: the checkpoint is a 2-D (ImageNet) '
                           'network')):
        convert_checkpoint(src, config, fmt='tusharn')


def test_unmapped_blob_names(tmp_path):
    blobs = caffe2_blobs(random_net(Spec()))
    blobs['res6_0_branch2a_w'] = np.zeros(3, np.float32)
    blobs['res2_0_branch2d_w'] = np.zeros(3, np.float32)
    blobs['gpu_0/pred_w'] = np.zeros(3, np.float32)
    src = pkl(tmp_path, blobs)
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    with pytest.raises(CheckpointError) as info:
        convert_checkpoint(src, config)
    assert str(info.value) == (
        f'cannot convert {src}: 3 blob(s) match no Caffe2 I3D blob name '
        '(conv1_w, res_conv1_bn_*, res<stage>_<block>_branch{1,2a,2b,2c}_*, '
        'nonlocal_conv<stage>_<block>_*, pred_*; *_momentum, lr, model_iter '
        'and epoch are skipped): res6_0_branch2a_w, res2_0_branch2d_w, '
        'gpu_0/pred_w')


def test_unmapped_pyslowfast_keys(tmp_path):
    state = pyslowfast_state(random_net(Spec()))
    state['s2.pathway1_res0.branch2.a.weight'] = torch.zeros(1)  # SlowFast
    src = str(tmp_path / 'SLOWFAST_8x8_R50.pyth')
    torch.save({'model_state': state}, src)
    config = write_config(tmp_path, CONFIG_8X8, Spec())
    with pytest.raises(CheckpointError,
                       match=re.escape(
                           '1 key(s) match no PySlowFast I3D name (s1.pathway0'
                           '_stem.*, s<stage>.pathway0_res<block>.branch{1,2}'
                           '*, s<stage>.pathway0_nonlocal<block>.*, '
                           'head.projection.*): s2.pathway1_res0.branch2.a.'
                           'weight')):
        convert_checkpoint(src, config, fmt='pyslowfast')


def test_bn_with_one_statistic(tmp_path):
    blobs = caffe2_blobs(random_net(Spec()))
    del blobs['res2_0_branch2a_bn_riv']
    src = pkl(tmp_path, blobs)
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    with pytest.raises(CheckpointError,
                       match=re.escape(
                           'backbone.layer1.0.conv1.bn has running_mean '
                           '(res2_0_branch2a_bn_rm) but no running_var')):
        convert_checkpoint(src, config)


def test_never_overwrites_the_source(tmp_path):
    src = pkl(tmp_path, caffe2_blobs(random_net(Spec())))
    config = write_config(tmp_path, CONFIG_32X2, Spec())
    before = open(src, 'rb').read()
    with pytest.raises(CheckpointError, match='refusing to overwrite'):
        convert_checkpoint(src, config, out=src)
    assert open(src, 'rb').read() == before


def test_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'onnx'"):
        convert_checkpoint('x', 'y', fmt='onnx')
