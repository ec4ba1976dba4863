# I3D R50 32x2x1 with dense sampling: each clip is drawn inside a 64-frame
# window (DenseSampleFrames); at test time 10 window positions x 3 crops.
_base_ = ['./i3d_r50_32x2x1_100e_kinetics400_rgb.py']

train_pipeline = [
    dict(type='DenseSampleFrames', clip_len=32, frame_interval=2,
         num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
         random_crop=False, max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DenseSampleFrames', clip_len=32, frame_interval=2,
         num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# num_sample_positions=10 (the default) gives 10 clips per video
test_pipeline = [
    dict(type='DenseSampleFrames', clip_len=32, frame_interval=2,
         num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
