# PySlowFast's I3D-NLN R50 8x8 (configs/Kinetics/I3D_NLN_8x8_R50.yaml): the
# I3D 8x8 recipe with 5 non-local blocks after layer2.{1,3} and
# layer3.{1,3,5}, "softmax" instantiation = embedded Gaussian scaled by
# 1/sqrt(inner channels), keys and values max-pooled 1x2x2, output BN
# zero-initialised.
_base_ = ['./i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py']
model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=True,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
