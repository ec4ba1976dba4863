"""ResNet3d: depths, options, freezing, init and argument checks."""
import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmvid.models import ResNet3d
from mmvid.models.backbones.resnet3d_blocks import BasicBlock3d, Bottleneck3d
from mmvid.registry import MODELS


def tiny(**kwargs):
    """A narrow ResNet3d (base_channels 8) for fast tests."""
    args = dict(depth=50, base_channels=8, stage_blocks=(1, 2, 1, 1))
    args.update(kwargs)
    return ResNet3d(**args)


@pytest.mark.parametrize('depth,block,blocks', [
    (18, BasicBlock3d, (2, 2, 2, 2)),
    (34, BasicBlock3d, (3, 4, 6, 3)),
    (50, Bottleneck3d, (3, 4, 6, 3)),
    (101, Bottleneck3d, (3, 4, 23, 3)),
    (152, Bottleneck3d, (3, 8, 36, 3)),
])
def test_depths(depth, block, blocks):
    model = ResNet3d(depth=depth, base_channels=4)
    assert tuple(len(getattr(model, f'layer{i + 1}')) for i in range(4)) == \
        blocks
    assert all(isinstance(b, block) for b in model.layer3)
    assert model.feat_dim == 4 * 8 * block.expansion
    out = model(torch.randn(1, 3, 4, 32, 32))
    assert out.shape == (1, model.feat_dim, 2, 1, 1)  # pool2 halves T


def test_out_indices_return_tuple():
    model = tiny(out_indices=(0, 2, 3))
    outs = model(torch.randn(2, 3, 8, 64, 64))
    # T: 8 frames, no temporal stride in the stem, pool2 after layer1 -> 4
    assert [tuple(o.shape) for o in outs] == [(2, 32, 4, 16, 16),
                                              (2, 128, 4, 4, 4),
                                              (2, 256, 4, 2, 2)]


def test_inflate_styles_and_kernels():
    model = tiny(inflate=(1, (0, 1), 0, 1), inflate_style='3x1x1')
    assert model.layer1[0].conv1.conv.kernel_size == (3, 1, 1)
    assert model.layer1[0].conv2.conv.kernel_size == (1, 3, 3)
    assert model.layer2[0].conv1.conv.kernel_size == (1, 1, 1)
    assert model.layer2[1].conv1.conv.kernel_size == (3, 1, 1)
    model = tiny(inflate=(1, 1, 1, 1), inflate_style='3x3x3')
    assert model.layer1[0].conv1.conv.kernel_size == (1, 1, 1)
    assert model.layer1[0].conv2.conv.kernel_size == (3, 3, 3)
    assert model.layer1[0].conv2.conv.padding == (1, 1, 1)
    basic = ResNet3d(depth=18, base_channels=4, inflate=(1, 0, 0, 0))
    assert basic.layer1[0].conv1.conv.kernel_size == (3, 3, 3)
    assert basic.layer2[0].conv1.conv.kernel_size == (1, 3, 3)


def test_style_puts_stride_on_the_right_conv():
    pytorch = tiny(style='pytorch')
    caffe = tiny(style='caffe')
    assert pytorch.layer2[0].conv1.conv.stride == (1, 1, 1)
    assert pytorch.layer2[0].conv2.conv.stride == (1, 2, 2)
    assert caffe.layer2[0].conv1.conv.stride == (1, 2, 2)
    assert caffe.layer2[0].conv2.conv.stride == (1, 1, 1)


def test_strides_dilations_and_pools():
    model = tiny(spatial_strides=(1, 2, 2, 1), temporal_strides=(1, 1, 2, 1),
                 dilations=(1, 1, 1, 2), conv1_kernel=(5, 7, 7),
                 conv1_stride_t=2, pool1_stride_t=2, with_pool2=False)
    assert model.conv1.conv.padding == (2, 3, 3)
    assert model.layer4[0].conv2.conv.dilation == (1, 2, 2)
    assert model.layer4[0].conv2.conv.padding == (0, 2, 2)
    # a temporal stride alone still gets a shortcut that matches the shape
    assert model.layer3[0].downsample.conv.stride == (2, 2, 2)
    out = model(torch.randn(1, 3, 16, 64, 64))
    assert out.shape == (1, 256, 2, 4, 4)
    no_pool1 = tiny(with_pool1=False)
    assert no_pool1(torch.randn(1, 3, 4, 32, 32)).shape == (1, 256, 2, 2, 2)


def test_fair_32x2_stem_pools_2x3x3_without_padding():
    """video-nonlocal-net's 32x2 I3D / Tushar-N: conv1 stride 2x2x2, then a
    2x3x3 max pool, stride 2, no padding: 32x224 gives 8x55x55 after the
    pool, and res3-res5 match the 8x8 layout (4x28, 4x14, 4x7)."""
    model = tiny(conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                 pool1_kernel=(2, 3, 3), pool1_padding=(0, 0, 0),
                 out_indices=(0, 1, 2, 3)).eval()
    assert model.maxpool.kernel_size == (2, 3, 3)
    assert model.maxpool.padding == (0, 0, 0)
    x = torch.randn(1, 3, 32, 224, 224)
    with torch.no_grad():
        stem = model.maxpool(model.conv1(x))
        # independent: the max over each 2x3x3 window, stride 2
        expected = model.conv1(x).unfold(2, 2, 2).unfold(3, 3, 2).unfold(
            4, 3, 2).amax(dim=(-3, -2, -1))
        outs = model(x)
    assert stem.shape == (1, 8, 8, 55, 55)
    assert torch.equal(stem, expected)
    assert [tuple(o.shape[2:]) for o in outs] == [(4, 55, 55), (4, 28, 28),
                                                  (4, 14, 14), (4, 7, 7)]
    # the default stem (mmaction2, PySlowFast 8x8) pads: 56x56
    default = tiny(conv1_kernel=(5, 7, 7)).eval()
    assert default.maxpool.kernel_size == (1, 3, 3)
    assert default.maxpool.padding == (0, 1, 1)
    with torch.no_grad():
        assert default.maxpool(default.conv1(
            torch.randn(1, 3, 8, 224, 224))).shape == (1, 8, 8, 56, 56)


def test_every_parameter_gets_a_gradient():
    model = tiny(non_local=(0, (0, 1), 0, 0),
                 non_local_cfg=dict(sub_sample=True, mode='embedded_gaussian',
                                    norm_cfg=dict(type='BN3d')))
    model.init_weights()
    for m in model.modules():  # non-zero non-local output BN: grads reach g
        if isinstance(m, _BatchNorm):
            nn.init.uniform_(m.weight, 0.5, 1.5)
    model.train()
    model(torch.randn(2, 3, 8, 32, 32)).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []
    assert all(p.grad.abs().sum() > 0 for p in model.parameters())


def test_with_cp_matches_plain_forward_and_backward():
    plain = tiny()
    cp_model = tiny(with_cp=True)
    cp_model.load_state_dict(plain.state_dict())
    x1 = torch.randn(2, 3, 4, 32, 32, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    plain(x1).sum().backward()
    cp_model(x2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    for (n, p1), p2 in zip(plain.named_parameters(), cp_model.parameters()):
        torch.testing.assert_close(p1.grad, p2.grad, msg=n)


def test_frozen_stages():
    model = tiny(frozen_stages=2)
    model.train()
    for name in ('conv1', 'layer1', 'layer2'):
        module = getattr(model, name)
        assert not module.training
        assert all(not p.requires_grad for p in module.parameters())
    for name in ('layer3', 'layer4'):
        module = getattr(model, name)
        assert module.training
        assert all(p.requires_grad for p in module.parameters())
    frozen_before = model.layer1[0].conv1.bn.running_mean.clone()
    model(torch.randn(2, 3, 4, 32, 32))
    torch.testing.assert_close(model.layer1[0].conv1.bn.running_mean,
                               frozen_before)


def test_norm_eval_keeps_every_bn_in_eval():
    model = tiny(norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)
    assert model.layer3[0].conv1.conv.training
    model = tiny(norm_eval=False)
    model.train()
    assert all(m.training for m in model.modules()
               if isinstance(m, _BatchNorm))


def test_scratch_init_and_zero_init_residual():
    model = tiny(zero_init_residual=True,
                 non_local=(0, (0, 1), 0, 0),
                 non_local_cfg=dict(norm_cfg=dict(type='BN3d')))
    model.init_weights()
    assert torch.all(model.layer1[0].conv3.bn.weight == 0)
    assert torch.all(model.layer1[0].conv1.bn.weight == 1)
    # non-local blocks keep their identity init (mmaction2 overwrites it)
    nl = model.layer2[1].non_local_block
    assert torch.all(nl.conv_out.bn.weight == 0)
    assert 0.005 < nl.g.conv.weight.std() < 0.02
    # kaiming fan_out on convs: std ~ sqrt(2 / fan_out)
    w = model.layer4[0].conv2.conv.weight
    fan_out = w.shape[0] * w[0, 0].numel()
    assert abs(w.std().item() / (2 / fan_out)**0.5 - 1) < 0.1
    model = tiny(zero_init_residual=False)
    model.init_weights()
    assert torch.all(model.layer1[0].conv3.bn.weight == 1)


@pytest.mark.parametrize('kwargs,error,message', [
    (dict(depth=42), ValueError, r'depth must be one of \(18, 34, 50, 101, '
     r'152\), got 42'),
    (dict(depth=50, inflate=((1, 1), 1, 1, 1)), ValueError,
     r'inflate\[0\] has 2 entries but stage 0 \(layer1\) has 3 blocks'),
    (dict(depth=50, inflate=(1, 1, 1)), ValueError,
     'inflate must have one entry per stage'),
    (dict(depth=50, non_local=(0, (0, 1, 0), 0, 0)), ValueError,
     r'non_local\[1\] has 3 entries but stage 1 \(layer2\) has 4 blocks'),
    (dict(depth=50, inflate=(2, 1, 1, 1)), ValueError,
     r'inflate\[0\] entries must be 0 or 1'),
    (dict(depth=50, num_stages=5), ValueError, 'num_stages must be 1 to 4'),
    (dict(depth=50, spatial_strides=(1, 2)), ValueError,
     'spatial_strides must have num_stages=4 entries'),
    (dict(depth=50, out_indices=(4, )), ValueError, r'out_indices must lie'),
    (dict(depth=50, style='tf'), ValueError, "style must be 'pytorch' or "
     "'caffe'"),
    (dict(depth=50, inflate_style='2x1x1'), ValueError,
     "inflate_style must be '3x1x1' or '3x3x3'"),
    (dict(depth=50, conv1_kernel=(7, 7)), ValueError, 'conv1_kernel must be'),
    (dict(depth=50, pool1_kernel=(3, 3)), ValueError,
     r'pool1_kernel must be \(t, h, w\) of ints >= 0, got \(3, 3\)'),
    (dict(depth=50, pool1_padding=(0, 1.5, 1)), ValueError,
     'pool1_padding must be'),
    (dict(depth=50, pool1_kernel=(1, 3, 3), pool1_padding=(1, 1, 1)),
     ValueError, r'pool1_padding must be at most half of pool1_kernel, got '
     r'padding \(1, 1, 1\) for kernel \(1, 3, 3\)'),
    (dict(depth=50, frozen_stages=5), ValueError, 'frozen_stages must be'),
    (dict(depth=50, pretrained=1), TypeError, 'pretrained must be a str'),
    (dict(depth=50, non_local=(0, 1, 0, 0), non_local_cfg=dict(mode='x')),
     ValueError, 'non_local_cfg.mode must be one of'),
])
def test_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        MODELS.build(dict(type='ResNet3d', base_channels=4, **kwargs))


def test_unknown_pretrained_name_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.delenv('MMVID_CHECKPOINTS', raising=False)
    model = tiny(pretrained='torchvision://resnet50')
    with pytest.raises(FileNotFoundError,
                       match='download.pytorch.org/models/resnet50'):
        model.init_weights()
