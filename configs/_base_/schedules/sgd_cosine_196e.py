# PySlowFast's Kinetics schedule for I3D 8x8 trained from scratch: SGD
# lr 0.1 for 8 GPUs x 8 clips (batch 64), wd 1e-4, half-cosine decay to 0
# over 196 epochs, with a linear warm-up from lr 0.01 over the first 34.
# The two schedulers multiply over epochs 0-34: the warm-up is a linear
# ramp 0.1 -> 1 times the cosine, which starts at 0.01 and ends on the
# cosine curve (lr 0.0927 at epoch 34) as PySlowFast's straight line does,
# and stays within 6% of it in between.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=196, val_begin=1, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=34,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=196, eta_min=0, by_epoch=True,
         begin=0, end=196, convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
# --auto-scale-lr: lr * (total batch / 64)
auto_scale_lr = dict(enable=False, base_batch_size=64)
