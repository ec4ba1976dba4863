# I3D R50, 32x2x1 clips, 100 epochs on Kinetics-400 rawframes (mmaction2 0.x
# name and recipe): test 10 clips x 3 crops of 256 averaged by 'prob'.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/kinetics400_rawframes_32x2x1.py',
    '../../_base_/schedules/sgd_100e.py', '../../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(interval=5))
