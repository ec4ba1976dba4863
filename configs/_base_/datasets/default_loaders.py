# Dataloader settings shared by the dataset configs in this folder. A
# dataset config inherits this file and sets only what is its own: the
# dataset's type, ann_file, data_prefix, label_file, on_error and pipeline
# (and a batch size or evaluator where it differs); mmengine merges those
# dicts into the ones below.
# It holds no dataset, so it is no config of its own.

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='EpochSeedSampler', shuffle=True),
    worker_init_fn=dict(type='mmvid.limit_worker_threads'))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    worker_init_fn=dict(type='mmvid.limit_worker_threads'),
    dataset=dict(test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    worker_init_fn=dict(type='mmvid.limit_worker_threads'),
    dataset=dict(test_mode=True))

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
