# The PyVideoAI HMDB-51 fine-tuning recipe applied to UCF-101 split 1: same
# network, Kinetics-400 initialisation, pipelines and schedule; 101 classes.
_base_ = ['./i3d_r50_8x8x1_200e_hmdb51_split1_rgb_pyvideoai.py']
model = dict(cls_head=dict(num_classes=101))

data_root = 'data/ucf101/rawframes'
ann_file_train = 'data/ucf101/ucf101_train_split_1_rawframes.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_rawframes.txt'
ann_file_test = ann_file_val
label_file = 'tools/data/ucf101/label_map.txt'  # classInd.txt order
train_dataloader = dict(
    dataset=dict(ann_file=ann_file_train, label_file=label_file,
                 data_prefix=dict(img=data_root)))
val_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, label_file=label_file,
                 data_prefix=dict(img=data_root)))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_test, label_file=label_file,
                 data_prefix=dict(img=data_root)))
