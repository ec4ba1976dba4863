"""2D -> 3D inflation, checked against a 2D ResNet written here."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvid.models import ResNet3d
from mmvid.models.backbones.inflate import (inflate_2d_state_dict,
                                            inflate_conv_weight)
from mmvid.checkpoint import CheckpointError


class Bottleneck2d(nn.Module):
    """torchvision's Bottleneck layout (stride on the 3x3 conv)."""

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or inplanes != planes * 4:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes * 4, 1, stride, bias=False),
                nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(out + identity)


class ResNet2d(nn.Module):
    """torchvision-style 2D ResNet-50 layout with a chosen width/depth."""

    def __init__(self, base=8, blocks=(1, 2, 1, 1), num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        inplanes = base
        for i, n in enumerate(blocks):
            planes = base * 2**i
            layer = []
            for b in range(n):
                layer.append(
                    Bottleneck2d(inplanes, planes,
                                 (1 if i == 0 else 2) if b == 0 else 1))
                inplanes = planes * 4
            setattr(self, f'layer{i + 1}', nn.Sequential(*layer))
        self.fc = nn.Linear(inplanes, num_classes)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        for i in range(4):
            x = getattr(self, f'layer{i + 1}')(x)
        return x


def random_2d_state_dict(model):
    """Random weights and BN statistics, so every copied tensor matters."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0, 0.1)
            m.running_mean.normal_(0, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.num_batches_tracked.fill_(7)
    return model.state_dict()


def test_inflated_conv_reproduces_2d_conv_on_static_clip():
    w2d = torch.randn(6, 4, 3, 3)
    frame = torch.randn(2, 4, 10, 10)
    clip = frame[:, :, None].repeat(1, 1, 5, 1, 1)  # 5 identical frames
    w3d = inflate_conv_weight(w2d, 3)
    assert w3d.shape == (6, 4, 3, 3, 3)
    torch.testing.assert_close(w3d.sum(2), w2d)
    out3d = F.conv3d(clip, w3d, padding=1)
    out2d = F.conv2d(frame, w2d, padding=1)
    for t in (1, 2, 3):  # interior frames: the temporal window is all inside
        torch.testing.assert_close(out3d[:, :, t], out2d, rtol=1e-5,
                                   atol=1e-5)
    # boundary frames see zero padding, so they differ
    assert not torch.allclose(out3d[:, :, 0], out2d, atol=1e-3)


def test_3d_net_with_unit_temporal_kernels_equals_2d_resnet(tmp_path):
    resnet2d = ResNet2d().eval()
    state_2d = random_2d_state_dict(resnet2d)
    path = tmp_path / 'resnet2d.pth'
    torch.save(state_2d, path)
    resnet3d = ResNet3d(
        depth=50, base_channels=8, stage_blocks=(1, 2, 1, 1),
        conv1_kernel=(1, 7, 7), inflate=(0, 0, 0, 0), with_pool2=False,
        pretrained=str(path), pretrained2d=True)
    resnet3d.init_weights()
    resnet3d.eval()
    image = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = resnet2d.features(image)
        actual = resnet3d(image[:, :, None])  # a 1-frame clip
    assert actual.shape == (2, 256, 1, 2, 2)
    torch.testing.assert_close(actual[:, :, 0], expected, rtol=1e-5,
                               atol=1e-5)


def test_i3d_stem_and_blocks_inflate_exactly(tmp_path):
    state_2d = random_2d_state_dict(ResNet2d())
    model = ResNet3d(depth=50, base_channels=8, stage_blocks=(1, 2, 1, 1),
                     conv1_kernel=(5, 7, 7),
                     inflate=((1, ), (1, 0), (1, ), (0, )),
                     non_local=(0, (0, 1), 0, 0),
                     non_local_cfg=dict(norm_cfg=dict(type='BN3d')))
    inflated, report = inflate_2d_state_dict(state_2d, model)
    stem = inflated['conv1.conv.weight']
    assert stem.shape == (8, 3, 5, 7, 7)
    for t in range(5):
        torch.testing.assert_close(stem[:, :, t], state_2d['conv1.weight'] / 5)
    torch.testing.assert_close(inflated['layer1.0.conv1.conv.weight'][:, :, 1,
                                                                      0, 0],
                               state_2d['layer1.0.conv1.weight'][:, :, 0, 0]
                               / 3)
    torch.testing.assert_close(inflated['layer2.1.conv2.conv.weight'][:, :, 0],
                               state_2d['layer2.1.conv2.weight'])
    torch.testing.assert_close(inflated['layer2.0.downsample.bn.running_var'],
                               state_2d['layer2.0.downsample.1.running_var'])
    torch.testing.assert_close(inflated['conv1.bn.running_mean'],
                               state_2d['bn1.running_mean'])
    assert report['unused_2d'] == ['fc.bias', 'fc.weight']
    assert report['missing_3d'] == sorted(
        k for k in model.state_dict() if '.non_local_block.' in k)
    # loading keeps the non-local block's identity init
    model.load_state_dict(inflated, strict=False)
    assert torch.all(model.layer2[1].non_local_block.conv_out.bn.weight == 0)


def test_shape_mismatch_is_an_error():
    state_2d = random_2d_state_dict(ResNet2d(base=16))
    model = ResNet3d(depth=50, base_channels=8, stage_blocks=(1, 2, 1, 1))
    with pytest.raises(CheckpointError,
                       match=r'cannot inflate conv1\.weight \(16, 3, 7, 7\) '
                       r'into conv1\.conv\.weight \(8, 3, 3, 7, 7\)'):
        inflate_2d_state_dict(state_2d, model)
