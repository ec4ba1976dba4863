"""Inflate a torchvision ImageNet ResNet .pth into an mmvid I3D checkpoint.

Examples:
    python tools/convert/torchvision_to_mmvid.py checkpoints/resnet50-0676ba61.pth \\
        configs/recognition/i3d/i3d_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py \\
        checkpoints/i3d_r50_inflated_imagenet.pth
    python tools/convert/torchvision_to_mmvid.py torchvision://resnet50 CONFIG OUT

The same inflation as ResNet3d(pretrained=..., pretrained2d=True): every
kernel repeated along time and divided by its temporal size; the classifier
(and any non-local block) keeps the config's fresh initialisation.

Prints what was loaded, skipped, filled and dropped; exits with status 1 and
a one-line message if the file is unsafe or does not fit the config. See
tools/convert/README.md and docs/model_zoo.md ("Converting checkpoints").
"""
import sys

from mmvid.convert.cli import main

if __name__ == '__main__':
    sys.exit(main('torchvision', __doc__.split('\n')[0], __doc__.split('\n', 1)[1]))
