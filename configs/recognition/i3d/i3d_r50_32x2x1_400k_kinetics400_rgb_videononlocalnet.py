# video-nonlocal-net's I3D R50 32x2 baseline (run_i3d_baseline_400k_32f.sh,
# resnet_video_org arc 2; also Tushar-N's I3Res50): ImageNet ResNet-50
# inflated, 5x7x7 stem with stride 2x2x2, then a 2x3x3 max pool with stride 2
# and no padding (224 -> 55x55), a temporal pool after layer1 (32 frames
# reach layer4 as 4); RGB 0-255 normalised by the scalar 114.75/57.375.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/kinetics400_videos_32x2x1_videononlocalnet.py',
    '../../_base_/schedules/sgd_400k.py', '../../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(pool1_kernel=(2, 3, 3), pool1_padding=(0, 0, 0)),
    data_preprocessor=dict(mean=[114.75] * 3, std=[57.375] * 3))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=20000))
log_processor = dict(by_epoch=False)
