# PySlowFast's I3D-NLN R50 8x8 (configs/Kinetics/I3D_NLN_8x8_R50.yaml): the
# I3D 8x8 recipe with FAIR's 5 non-local blocks ("softmax" instantiation,
# NONLOCAL.POOL 1x2x2 on x before phi and g, output BN zero-initialised; see
# fair_non_local.py).
_base_ = [
    './i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py',
    '../../_base_/models/fair_non_local.py'
]
model = dict(backbone=_base_.fair_non_local)
