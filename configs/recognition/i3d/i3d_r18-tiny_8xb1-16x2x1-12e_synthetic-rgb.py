# The demo: a small I3D (ResNet3d-18, 16 base channels, every block
# inflated) trained from scratch on the synthetic motion dataset in a few
# minutes on a 2-core CPU. `make demo` runs it.
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/synthetic_videos.py',
    '../../_base_/default_runtime.py'
]
model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet3d',
        depth=18,
        base_channels=16,
        pretrained=None,
        conv1_kernel=(3, 7, 7),
        inflate=(1, 1, 1, 1),
        zero_init_residual=False),
    cls_head=dict(num_classes=8, in_channels=128, dropout_ratio=0.3))

train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=12, val_begin=1, val_interval=3)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=1,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=11, by_epoch=True, begin=1, end=12,
         convert_to_iter_based=True)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=40, norm_type=2))
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(
    logger=dict(interval=6), checkpoint=dict(interval=3, max_keep_ckpts=2))
