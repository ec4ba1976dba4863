# Ablation of the demo: the same model and schedule on 1-frame clips, so no
# layer sees time. The synthetic classes differ only in motion, so this
# stays near chance (0.125) while the 16-frame demo reaches ~1.0.
_base_ = ['./i3d_r18-tiny_8xb1-16x2x1-12e_synthetic-rgb.py']

# layer1's temporal max pool needs at least 2 frames
model = dict(backbone=dict(with_pool2=False))

train_pipeline = [
    dict(t, clip_len=1, frame_interval=1) if t['type'] == 'SampleFrames' else t
    for t in _base_.train_pipeline
]
val_pipeline = [
    dict(t, clip_len=1, frame_interval=1) if t['type'] == 'SampleFrames' else t
    for t in _base_.val_pipeline
]
test_pipeline = [
    dict(t, clip_len=1, frame_interval=1) if t['type'] == 'SampleFrames' else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
