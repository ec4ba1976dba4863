# Runtime shared by every config: mmengine hooks, logging, environment.
default_scope = 'mmvid'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))
# counts the bad samples a dataset with on_error='skip' replaced; checkpoints
# the random states and keeps validation off the training stream (exact
# resume)
custom_hooks = [
    dict(type='SkippedSamplesHook'),
    dict(type='RandomStatesHook')
]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))  # tools/train.py uses gloo without CUDA

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
use_tensorboard = False  # True adds a TensorboardVisBackend (needs tensorboard)

log_level = 'INFO'
load_from = None
resume = False
