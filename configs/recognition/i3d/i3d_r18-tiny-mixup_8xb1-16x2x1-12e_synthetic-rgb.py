# The demo trained with MixUp (Zhang et al., 2018): the data preprocessor
# blends each training batch and writes soft labels [8] into gt_label;
# validation and testing see the clips and labels as they are (mmaction2 1.x's
# blending).
_base_ = ['./i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py']
model = dict(
    data_preprocessor=dict(
        blending=dict(type='MixupBlending', num_classes=8, alpha=0.2)))
