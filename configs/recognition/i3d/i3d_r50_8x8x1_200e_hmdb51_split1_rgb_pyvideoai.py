# PyVideoAI's HMDB-51 (split 1) fine-tuning of I3D R50 8x8 (exp config
# hmdb/i3d_resnet50-crop224_8x8_largejit_plateau_1scrop5tcrop_split1):
# the PySlowFast I3D 8x8 network initialised from its Kinetics-400 weights
# (load_from; the 400-way classifier does not fit and keeps its random
# init), 51 classes, batch 8 on one GPU, lr 1e-4 reduced on plateau; test 5
# clips x 1 centre crop.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/hmdb51_split1_rawframes_8x8x1_pyvideoai.py',
    '../../_base_/schedules/sgd_plateau_200e.py',
    '../../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(pretrained=None, conv1_stride_t=1, pool1_stride_t=1),
    cls_head=dict(num_classes=51),
    data_preprocessor=dict(mean=[114.75] * 3, std=[57.375] * 3))
# The Kinetics-400 I3D 8x8 weights (PySlowFast I3D_8x8_R50, or a model
# trained with i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.py) in mmvid's
# parameter names.
load_from = 'checkpoints/i3d_r50_8x8x1_196e_kinetics400_rgb_pyslowfast.pth'
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
