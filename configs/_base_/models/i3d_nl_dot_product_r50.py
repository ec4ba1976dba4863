# I3D R50 + 5 non-local blocks (after layer2.{1,3} and layer3.{1,3,5}), the
# Non-local paper's "5-block" setting, as in mmaction2's i3d_nl_* configs.
_base_ = './i3d_r50.py'
model = dict(
    backbone=dict(
        non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
        non_local_cfg=dict(
            sub_sample=True,
            use_scale=False,
            norm_cfg=dict(type='BN3d', requires_grad=True),
            mode='dot_product')))
