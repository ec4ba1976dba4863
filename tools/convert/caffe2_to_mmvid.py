"""Convert a Caffe2 .pkl (video-nonlocal-net, PySlowFast model zoo) to mmvid.

Examples:
    python tools/convert/caffe2_to_mmvid.py \\
        checkpoints/i3d_nonlocal_32x2_IN_pretrain_400k.pkl \\
        configs/recognition/i3d/i3d_nl_embedded_gaussian_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py \\
        checkpoints/i3d_nl_r50_32x2_videononlocalnet.pth
    python tools/convert/caffe2_to_mmvid.py checkpoints/I3D_8x8_R50.pkl \\
        configs/recognition/i3d/i3d_r50_8x8x1_200e_hmdb51_split1_rgb_pyvideoai.py \\
        checkpoints/i3d_r50_8x8_k400_for_hmdb51.pth --drop-head

Prints what was loaded, skipped, filled and dropped; exits with status 1 and
a one-line message if the file is unsafe or does not fit the config. See
tools/convert/README.md and docs/model_zoo.md ("Converting checkpoints").
"""
import sys

from mmvid.convert.cli import main

if __name__ == '__main__':
    sys.exit(main('caffe2', __doc__.split('\n')[0], __doc__.split('\n', 1)[1]))
