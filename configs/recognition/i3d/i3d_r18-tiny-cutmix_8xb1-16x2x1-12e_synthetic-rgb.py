# The demo trained with CutMix (Yun et al., 2019): the data preprocessor
# blends each training batch and writes soft labels [8] into gt_label;
# validation and testing see the clips and labels as they are (mmaction2 1.x's
# blending).
_base_ = ['./i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py']
model = dict(
    data_preprocessor=dict(
        blending=dict(type='CutmixBlending', num_classes=8, alpha=1.0)))
