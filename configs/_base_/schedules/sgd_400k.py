# video-nonlocal-net's Kinetics schedule (32-frame I3D recipes): 400k
# iterations of batch 64 (8 GPUs x 8 clips), Nesterov SGD lr 0.01, x0.1
# after 150k and 300k iterations, wd 1e-4 except on BN (WEIGHT_DECAY_BN 0).
# Iteration-based: a config using it also sets its checkpoint hook and log
# processor to by_epoch=False.
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=400000, val_begin=1,
    val_interval=20000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=400000, by_epoch=False,
         milestones=[150000, 300000], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True,
                   weight_decay=1e-4),
    paramwise_cfg=dict(norm_decay_mult=0.0))
# --auto-scale-lr: lr * (total batch / 64)
auto_scale_lr = dict(enable=False, base_batch_size=64)
