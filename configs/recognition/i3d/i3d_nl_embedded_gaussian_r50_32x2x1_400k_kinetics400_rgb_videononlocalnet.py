# video-nonlocal-net's I3D-NL R50 32x2 (run_i3d_nlnet_400k_32f.sh): the
# 32x2 baseline with 5 non-local blocks after layer2.{1,3} and
# layer3.{1,3,5} (CONV3/CONV4_NONLOCAL), softmax scaled by 1/sqrt(inner
# channels) (USE_SCALE), keys and values max-pooled 1x2x2, output BN with
# zero gamma (USE_BN, BN_INIT_GAMMA 0).
_base_ = ['./i3d_r50_32x2x1_400k_kinetics400_rgb_videononlocalnet.py']
model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=True,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='embedded_gaussian')))
