"""Convert a PySlowFast .pyth (I3D, or the 2-D R50_IN1K.pyth, inflated) to mmvid.

Examples:
    python tools/convert/pyslowfast_to_mmvid.py checkpoints/I3D_8x8_R50.pyth \\
        configs/recognition/i3d/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py \\
        checkpoints/i3d_r50_8x8_pyslowfast.pth
    python tools/convert/pyslowfast_to_mmvid.py checkpoints/R50_IN1K.pyth \\
        configs/recognition/i3d/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py \\
        checkpoints/i3d_r50_8x8_in1k_inflated.pth

A .pkl from the PySlowFast model zoo is a Caffe2 file and is read as one.

Prints what was loaded, skipped, filled and dropped; exits with status 1 and
a one-line message if the file is unsafe or does not fit the config. See
tools/convert/README.md and docs/model_zoo.md ("Converting checkpoints").
"""
import sys

from mmvid.convert.cli import main

if __name__ == '__main__':
    sys.exit(main('pyslowfast', __doc__.split('\n')[0], __doc__.split('\n', 1)[1]))
