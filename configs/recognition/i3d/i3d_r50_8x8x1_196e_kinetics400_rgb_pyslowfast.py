# PySlowFast's I3D R50 8x8 (configs/Kinetics/I3D_8x8_R50.yaml): trained from
# scratch, 5x7x7 stem without temporal stride, temporal pool after layer1
# only, so 8 frames reach layer4 as 4; last BN of every block zero-init;
# RGB 0-255 normalised by the scalar 0.45/0.225 of 255.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/kinetics400_videos_8x8x1_pyslowfast.py',
    '../../_base_/schedules/sgd_cosine_196e.py',
    '../../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        pretrained=None,
        conv1_stride_t=1,
        pool1_stride_t=1,
        zero_init_residual=True),
    data_preprocessor=dict(mean=[114.75] * 3, std=[57.375] * 3))
default_hooks = dict(checkpoint=dict(interval=10))
# BN.USE_PRECISE_STATS / NUM_BATCHES_PRECISE: the BN statistics are
# recomputed on 200 training batches (per GPU) after the epochs that save a
# checkpoint or validate (every 10th and the last, as PySlowFast), before
# both
custom_hooks = _base_.custom_hooks + [
    dict(type='PreciseBNHook', num_batches=200, interval=10)
]
