"""Convert a PyTorchVideo i3d_r50 .pyth (I3D_8x8_R50.pyth) to mmvid.

Examples:
    python tools/convert/pytorchvideo_to_mmvid.py checkpoints/I3D_8x8_R50.pyth \\
        configs/recognition/i3d/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py \\
        checkpoints/i3d_r50_8x8_pytorchvideo.pth

Prints what was loaded, skipped, filled and dropped; exits with status 1 and
a one-line message if the file is unsafe or does not fit the config. See
tools/convert/README.md and docs/model_zoo.md ("Converting checkpoints").
"""
import sys

from mmvid.convert.cli import main

if __name__ == '__main__':
    sys.exit(main('pytorchvideo', __doc__.split('\n')[0], __doc__.split('\n', 1)[1]))
