# I3D R50 32x2x1 + 5 non-local blocks (gaussian) with mmaction2's
# settings (keys and values sub-sampled, no softmax scaling, BN in the
# output conv), on Kinetics-400 rawframes.
_base_ = [
    '../../_base_/models/i3d_nl_gaussian_r50.py',
    '../../_base_/datasets/kinetics400_rawframes_32x2x1.py',
    '../../_base_/schedules/sgd_100e.py', '../../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(interval=5))
