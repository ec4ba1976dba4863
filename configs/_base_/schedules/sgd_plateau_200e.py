# PyVideoAI's fine-tuning schedule (HMDB-51 I3D, original release): SGD
# lr 1e-4 for one GPU x 8 clips, momentum 0.9, wd 5e-4, up to 200 epochs,
# lr x0.1 after 10 validations without improvement (ReduceLROnPlateau).
# PyVideoAI watches the val loss (and, later, the val accuracy too); mmvid's
# validation reports accuracies only, so the plateau is on top-1 accuracy.
# The lr only drops when validation runs: train with --validate.
train_cfg = dict(
    type='EpochBasedTrainLoop', max_epochs=200, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    dict(type='ReduceOnPlateauLR', monitor='top1_acc', rule='greater',
         factor=0.1, patience=10, by_epoch=True)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=1e-4, momentum=0.9, weight_decay=5e-4))
# --auto-scale-lr: lr * (total batch / 8)
auto_scale_lr = dict(enable=False, base_batch_size=8)
