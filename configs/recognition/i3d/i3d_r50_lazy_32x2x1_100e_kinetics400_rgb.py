# I3D R50 32x2x1 with lazy geometric transforms (mmaction2's "fast" config):
# the resize/crop/flip chain is only recorded and Fuse applies it once, and
# JPEG frames are decoded with OpenCV (mmaction2's "fast" config used
# libjpeg-turbo: decoding_backend='turbojpeg' needs PyTurboJPEG and the
# libturbojpeg system library).
_base_ = ['./i3d_r50_32x2x1_100e_kinetics400_rgb.py']

train_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
    dict(type='RawFrameDecode', decoding_backend='cv2'),
    dict(type='Resize', scale=(-1, 256), lazy=True),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.8),
         random_crop=False, max_wh_scale_gap=0, lazy=True),
    dict(type='Resize', scale=(224, 224), keep_ratio=False, lazy=True),
    dict(type='Flip', flip_ratio=0.5, lazy=True),
    dict(type='Fuse'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1,
         test_mode=True),
    dict(type='RawFrameDecode', decoding_backend='cv2'),
    dict(type='Resize', scale=(-1, 256), lazy=True),
    dict(type='CenterCrop', crop_size=224, lazy=True),
    dict(type='Flip', flip_ratio=0, lazy=True),
    dict(type='Fuse'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
# ThreeCrop has no lazy mode: the test pipeline is the eager one
test_pipeline = [
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=10,
         test_mode=True),
    dict(type='RawFrameDecode', decoding_backend='cv2'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
