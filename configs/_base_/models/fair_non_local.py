# FAIR's non-local blocks (video-nonlocal-net, PySlowFast, PyVideoAI,
# Tushar-N's port) for a ResNet-50 backbone: after layer2.{1,3} and
# layer3.{1,3,5}; embedded Gaussian ("softmax") scaled by 1/sqrt(inner
# channels); x max-pooled 1x2x2 BEFORE the phi and g convolutions (mmcv pools
# after them); output conv with a bias, then BN with zero gamma. Merge into a
# backbone with `model = dict(backbone=_base_.fair_non_local)`.
fair_non_local = dict(
    non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
    non_local_cfg=dict(
        mode='embedded_gaussian',
        use_scale=True,
        sub_sample=True,
        pool_before_conv=True,
        out_bias=True,
        norm_cfg=dict(type='BN3d', requires_grad=True)))
