# Kinetics-400 videos with PySlowFast's 8x8 sampling and test protocol
# (I3D_8x8_R50 / I3D_NLN_8x8_R50): 8 frames 8 apart; train scale jitter
# (short side 256-320, random 224 crop, flip); test 10 clips spread from the
# first to the last possible start x 3 crops of 256 along the long side
# (short side 256). Scalar mean/std 0.45/0.225 of 255 go in the model's
# data_preprocessor.
# Scale jitter: a random 224 crop of a frame rescaled to short side s in
# [256, 320] is a square crop of 224/s = 0.875..0.7 of the short side,
# resized to 224; MultiScaleCrop draws that fraction from a few values.
# A child config that changes a pipeline must assign it to its dataloader
# again, e.g. `train_dataloader = dict(dataset=dict(pipeline=train_pipeline))`.
_base_ = ['./default_loaders.py']

dataset_type = 'VideoDataset'
data_root = 'data/kinetics400/videos_train'
data_root_val = 'data/kinetics400/videos_val'
ann_file_train = 'data/kinetics400/kinetics400_train_list_videos.txt'
ann_file_val = 'data/kinetics400/kinetics400_val_list_videos.txt'
ann_file_test = 'data/kinetics400/kinetics400_val_list_videos.txt'
label_file = 'tools/data/kinetics/label_map_k400.txt'  # class names, label order

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='MultiScaleCrop', input_size=224,
         scales=(0.875, 0.8, 0.75, 0.7), random_crop=True,
         max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1,
         test_mode=True, test_spacing='uniform'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=10,
         test_mode=True, test_spacing='uniform'),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='ThreeCrop', crop_size=256),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        label_file=label_file,
        data_prefix=dict(video=data_root),
        on_error='skip',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        label_file=label_file,
        data_prefix=dict(video=data_root_val),
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        label_file=label_file,
        data_prefix=dict(video=data_root_val),
        pipeline=test_pipeline))
