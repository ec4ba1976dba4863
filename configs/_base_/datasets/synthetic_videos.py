# The built-in synthetic motion dataset (tools/data/generate_synthetic.py):
# 8 classes told apart only by motion, 48 train + 16 val clips each, 32 frames
# of 128x96. No flips: a flip turns move_left into move_right. Test views:
# 2 clips x 3 crops at the training scale (64 px); larger test crops than the
# training crop change a small net's final feature map and cost accuracy.
_base_ = ['./default_loaders.py']

dataset_type = 'VideoDataset'
data_root = 'data/synthetic'
clip_len = 16
frame_interval = 2

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len,
         frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72), lazy=True),
    dict(type='RandomCrop', size=64, lazy=True),
    dict(type='Fuse'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len,
         frame_interval=frame_interval, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 72)),
    dict(type='CenterCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len,
         frame_interval=frame_interval, num_clips=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='ThreeCrop', crop_size=64),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/train_list_videos.txt',
        data_prefix=dict(video=data_root),
        label_file=f'{data_root}/label_map.txt',
        on_error='skip',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=data_root),
        label_file=f'{data_root}/label_map.txt',
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=f'{data_root}/val_list_videos.txt',
        data_prefix=dict(video=data_root),
        label_file=f'{data_root}/label_map.txt',
        pipeline=test_pipeline))

val_evaluator = dict(type='AccMetric', topk=(1, 5))
test_evaluator = val_evaluator
