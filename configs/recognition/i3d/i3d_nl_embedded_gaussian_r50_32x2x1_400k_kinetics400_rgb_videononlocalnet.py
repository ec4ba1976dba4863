# video-nonlocal-net's I3D-NL R50 32x2 (run_i3d_nlnet_400k_32f.sh): the
# 32x2 baseline with FAIR's 5 non-local blocks (CONV3/CONV4_NONLOCAL,
# USE_SCALE, USE_BN with BN_INIT_GAMMA 0; see fair_non_local.py).
_base_ = [
    './i3d_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py',
    '../../_base_/models/fair_non_local.py'
]
model = dict(backbone=_base_.fair_non_local)
