_base_ = './i3d_nl_dot_product_r50.py'
model = dict(backbone=dict(non_local_cfg=dict(mode='gaussian')))
