# mmaction2's I3D schedule: SGD lr 0.01 for 8 GPUs x 8 clips (batch 64),
# x0.1 at epochs 40 and 80, gradient clipping at norm 40.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=100, by_epoch=True,
         milestones=[40, 80], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
# --auto-scale-lr: lr * (total batch / 64)
auto_scale_lr = dict(enable=False, base_batch_size=64)
