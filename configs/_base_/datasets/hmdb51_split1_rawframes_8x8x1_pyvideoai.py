# HMDB-51 split 1 rawframes with PyVideoAI's I3D 8x8 fine-tuning protocol
# (exp crop224_8x8_largejit_plateau_1scrop5tcrop_split1): 8 frames 8 apart;
# train "largejit" (short side 224-336, random 224 crop, flip); val 1 clip x
# centre crop 224 at short side 224; test 5 clips spread from the first to
# the last possible start x 1 centre crop 224 (short side 224). Scalar
# mean/std 114.75/57.375 go in the model's data_preprocessor.
# Scale jitter: a random 224 crop of a frame rescaled to short side s in
# [224, 336] is a square crop of 224/s = 1..0.667 of the short side, resized
# to 224; MultiScaleCrop draws that fraction from a few values.
# A child config that changes a pipeline must assign it to its dataloader
# again, e.g. `train_dataloader = dict(dataset=dict(pipeline=train_pipeline))`.
_base_ = ['./default_loaders.py']

dataset_type = 'RawframeDataset'
data_root = 'data/hmdb51/rawframes'
ann_file_train = 'data/hmdb51/hmdb51_train_split_1_rawframes.txt'
ann_file_val = 'data/hmdb51/hmdb51_val_split_1_rawframes.txt'
ann_file_test = 'data/hmdb51/hmdb51_val_split_1_rawframes.txt'
label_file = 'tools/data/hmdb51/label_map.txt'  # class names, label order

train_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1),
    dict(type='RawFrameDecode'),
    dict(type='MultiScaleCrop', input_size=224,
         scales=(1, 0.875, 0.75, 0.667), random_crop=True,
         max_wh_scale_gap=0),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=1,
         test_mode=True, test_spacing='uniform'),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=8, frame_interval=8, num_clips=5,
         test_mode=True, test_spacing='uniform'),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        label_file=label_file,
        data_prefix=dict(img=data_root),
        on_error='skip',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        label_file=label_file,
        data_prefix=dict(img=data_root),
        pipeline=val_pipeline))
test_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        label_file=label_file,
        data_prefix=dict(img=data_root),
        pipeline=test_pipeline))
