"""Convert a Tushar-N/pytorch-resnet3d I3Res50 .pth to mmvid.

Examples:
    python tools/convert/tusharn_to_mmvid.py checkpoints/i3d_r50_nl_kinetics.pth \\
        configs/recognition/i3d/i3d_nl_embedded_gaussian_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py \\
        checkpoints/i3d_nl_r50_32x2_tusharn.pth

Prints what was loaded, skipped, filled and dropped; exits with status 1 and
a one-line message if the file is unsafe or does not fit the config. See
tools/convert/README.md and docs/model_zoo.md ("Converting checkpoints").
"""
import sys

from mmvid.convert.cli import main

if __name__ == '__main__':
    sys.exit(main('tusharn', __doc__.split('\n')[0], __doc__.split('\n', 1)[1]))
