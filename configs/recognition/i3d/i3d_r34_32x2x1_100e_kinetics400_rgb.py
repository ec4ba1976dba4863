# I3D on ResNet-34 (no published mmaction2 model): ImageNet ResNet-34
# inflated with the R50 config's per-block pattern (R34 has the same
# 3/4/6/3 blocks). An inflated BasicBlock3d gets 3x3x3 kernels in both of
# its convs; the others stay 1x3x3. layer4 outputs 512 channels.
_base_ = ['./i3d_r50_32x2x1_100e_kinetics400_rgb.py']
model = dict(
    backbone=dict(depth=34, pretrained='torchvision://resnet34'),
    cls_head=dict(in_channels=512))
