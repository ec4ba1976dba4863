"""Folding batch norms into the convolutions they follow: same outputs,
only conv -> BN pairs, clear refusals."""
import pytest
import torch
import torch.nn as nn
from mmcv.cnn import ConvModule

from mmvid.models.utils import (count_batchnorms, fold_bn_into_conv,
                                fuse_conv_bn)
from tests.helpers import random_bn, randomize_bns


@pytest.mark.parametrize('conv,bn,shape', [
    (nn.Conv1d(4, 6, 3, bias=True), nn.BatchNorm1d(6), (2, 4, 9)),
    (nn.Conv2d(4, 6, 3, bias=False), nn.BatchNorm2d(6), (2, 4, 9, 9)),
    (nn.Conv3d(4, 6, (3, 1, 1), groups=2, bias=False), nn.BatchNorm3d(6),
     (2, 4, 5, 7, 7)),
    (nn.Conv3d(4, 6, 3, bias=True), nn.BatchNorm3d(6, affine=False),
     (2, 4, 5, 7, 7)),
])
def test_fold_bn_into_conv_keeps_the_output(conv, bn, shape):
    random_bn(bn).eval()
    conv.eval()
    x = torch.randn(shape)
    expected = bn(conv(x))
    fused = fold_bn_into_conv(conv, bn)
    assert fused is conv and conv.bias is not None
    torch.testing.assert_close(fused(x), expected, rtol=0, atol=1e-5)


def test_fold_refuses_training_bn_and_mismatched_channels():
    with pytest.raises(RuntimeError, match='training mode'):
        fold_bn_into_conv(nn.Conv3d(2, 3, 1), nn.BatchNorm3d(3).train())
    with pytest.raises(ValueError, match='3 output channels'):
        fold_bn_into_conv(nn.Conv3d(2, 3, 1), nn.BatchNorm3d(4).eval())
    with pytest.raises(TypeError):
        fold_bn_into_conv(nn.Linear(2, 3), nn.BatchNorm1d(3).eval())


class Mixed(nn.Module):
    """Conv-then-BN ConvModule, BN-then-conv ConvModule, a Sequential."""

    def __init__(self):
        super().__init__()
        self.a = ConvModule(3, 4, 3, padding=1, conv_cfg=dict(type='Conv3d'),
                            norm_cfg=dict(type='BN3d'))
        self.b = ConvModule(4, 5, 1, conv_cfg=dict(type='Conv3d'),
                            norm_cfg=dict(type='BN3d'),
                            order=('norm', 'conv', 'act'))
        self.c = nn.Sequential(nn.Conv3d(5, 6, 1), nn.BatchNorm3d(6),
                               nn.ReLU())

    def forward(self, x):
        return self.c(self.b(self.a(x)))


def test_fuse_conv_bn_only_folds_bn_after_conv():
    model = randomize_bns(Mixed())
    x = torch.randn(2, 3, 4, 6, 6)
    expected = model(x)
    assert count_batchnorms(model) == 3
    fuse_conv_bn(model)
    # the norm-first ConvModule keeps its BN (it normalises the input)
    assert count_batchnorms(model) == 1
    assert isinstance(model.b.norm, nn.BatchNorm3d)
    assert isinstance(model.a.norm, nn.Identity)
    assert isinstance(model.c[1], nn.Identity)
    torch.testing.assert_close(model(x), expected, rtol=0, atol=1e-5)
