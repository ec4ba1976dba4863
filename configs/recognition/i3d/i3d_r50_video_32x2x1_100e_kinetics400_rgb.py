# I3D R50 32x2x1 trained on the Kinetics-400 videos, decoded with decord.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/kinetics400_videos_32x2x1.py',
    '../../_base_/schedules/sgd_100e.py', '../../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(interval=5))
