"""Parsing mmengine json scalar logs: modes, series, train time."""
import json
import math

import pytest

from mmvid.analysis.log_analysis import (find_json_log, get_series, line_mode,
                                      load_json_log, plot_curves,
                                      scalar_keys, train_time_stats)

ITERS_PER_EPOCH, INTERVAL, EPOCHS, VAL_INTERVAL = 24, 6, 4, 2


def demo_log_records(offset: float = 0.0):
    """Lines as mmengine 0.10 writes them for the demo config (epoch-based,
    logger interval 6, validation every 2 epochs), with known values."""
    records = []
    for epoch in range(1, EPOCHS + 1):
        for k in range(INTERVAL, ITERS_PER_EPOCH + 1, INTERVAL):
            it = (epoch - 1) * ITERS_PER_EPOCH + k
            loss = 2.2 - 0.01 * it + offset
            records.append({
                'lr': 0.05 * (1 - it / 100), 'data_time': 0.01 + it / 1e4,
                'grad_norm': 4.0 + it / 50, 'loss': loss,
                'top1_acc': (it % 8) / 8, 'top5_acc': 0.5,
                'loss_cls': loss, 'time': 0.3 + 0.001 * it + 0.1 * (k == 6),
                'epoch': epoch, 'iter': it, 'step': it})
        if epoch % VAL_INTERVAL == 0:
            records.append({
                'top1_acc': 0.1 * epoch + offset, 'top5_acc': 0.6,
                'mean_class_accuracy': 0.1 * epoch, 'data_time': 0.02,
                'time': 0.1, 'step': epoch})
    return records


def write_log(path, records):
    with open(path, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
    return str(path)


def test_modes_and_keys(tmp_path):
    records = demo_log_records()
    log = load_json_log(write_log(tmp_path / 'a.json', records))
    assert len(log['train']) == EPOCHS * ITERS_PER_EPOCH // INTERVAL
    assert len(log['val']) == EPOCHS // VAL_INTERVAL and log['test'] == []
    assert log['train'][0] == records[0]
    keys = scalar_keys(log)
    assert keys['train'][:4] == ['lr', 'data_time', 'grad_norm', 'loss']
    assert 'epoch' not in keys['train'] and 'iter' not in keys['train']
    assert keys['val'] == ['top1_acc', 'top5_acc', 'mean_class_accuracy',
                           'data_time', 'time']
    assert line_mode({'top1_acc': 0.5}) == 'test'


def test_series_equal_the_values_written(tmp_path):
    records = demo_log_records()
    log = load_json_log(write_log(tmp_path / 'a.json', records))
    train = [r for r in records if 'iter' in r]
    val = [r for r in records if 'iter' not in r]

    (loss, ) = get_series(log, 'loss')
    assert (loss.mode, loss.xlabel) == ('train', 'iter')
    assert loss.x == [r['iter'] for r in train]
    assert loss.y == [r['loss'] for r in train]

    acc_train, acc_val = get_series(log, 'top1_acc')
    assert acc_train.y == [r['top1_acc'] for r in train]
    assert (acc_val.mode, acc_val.xlabel) == ('val', 'epoch')
    assert acc_val.x == [2, 4] and acc_val.y == [r['top1_acc'] for r in val]
    assert get_series(log, 'val/top1_acc') == [acc_val]
    assert get_series(log, 'nothing') == []

    (per_epoch, ) = get_series(log, 'loss', xaxis='epoch')
    assert per_epoch.x == [1, 2, 3, 4]
    for epoch, value in zip(per_epoch.x, per_epoch.y):
        losses = [r['loss'] for r in train if r['epoch'] == epoch]
        assert value == pytest.approx(sum(losses) / len(losses))


def test_hierarchy_prefixes_are_removed(tmp_path):
    path = write_log(tmp_path / 'h.json', [
        {'train/loss': 1.5, 'train/lr': 0.1, 'epoch': 1, 'iter': 5,
         'step': 5},
        {'val/top1_acc': 0.25, 'step': 1}])
    log = load_json_log(path)
    assert get_series(log, 'loss')[0].y == [1.5]
    assert get_series(log, 'top1_acc')[0].mode == 'val'


def test_bad_line_names_its_number(tmp_path):
    path = tmp_path / 'bad.json'
    path.write_text('{"loss": 1, "iter": 1, "step": 1}\nnot json\n')
    with pytest.raises(ValueError, match='line 2'):
        load_json_log(str(path))


def test_find_json_log_in_a_work_dir(tmp_path):
    for stamp in ('20260101_000000', '20260102_000000'):
        vis = tmp_path / stamp / 'vis_data'
        vis.mkdir(parents=True)
        write_log(vis / f'{stamp}.json', demo_log_records())
        write_log(vis / 'scalars.json', demo_log_records())
    assert find_json_log(str(tmp_path)) == str(
        tmp_path / '20260102_000000' / 'vis_data' / '20260102_000000.json')
    with pytest.raises(FileNotFoundError):
        find_json_log(str(tmp_path / 'missing'))


def test_train_time_stats(tmp_path):
    records = demo_log_records()
    stats = train_time_stats(load_json_log(write_log(tmp_path / 'a.json',
                                                     records)))
    # first line of each epoch left out
    kept = [r for r in records
            if 'iter' in r and r['iter'] % ITERS_PER_EPOCH != INTERVAL]
    assert stats['num_values'] == len(kept)
    assert stats['avg_iter_time'] == pytest.approx(
        sum(r['time'] for r in kept) / len(kept))
    assert stats['avg_data_time'] == pytest.approx(
        sum(r['data_time'] for r in kept) / len(kept))
    means = [sum(r['time'] for r in kept if r['epoch'] == e) / 3
             for e in range(1, EPOCHS + 1)]
    assert [m for _, m in stats['epochs']] == pytest.approx(means)
    assert stats['slowest'][0] == EPOCHS and stats['fastest'][0] == 1
    mean = sum(means) / len(means)
    assert stats['std_over_epochs'] == pytest.approx(
        math.sqrt(sum((m - mean)**2 for m in means) / len(means)))
    everything = train_time_stats(load_json_log(str(tmp_path / 'a.json')),
                                  include_outliers=True)
    assert everything['num_values'] == EPOCHS * ITERS_PER_EPOCH // INTERVAL
    with pytest.raises(ValueError, match='no train lines'):
        train_time_stats({'train': [], 'val': [], 'test': []})


def test_plot_curves_writes_the_panels(tmp_path):
    a = write_log(tmp_path / 'a.json', demo_log_records())
    b = write_log(tmp_path / 'b.json', demo_log_records(offset=0.05))
    out = tmp_path / 'curves.png'
    series = plot_curves([a, b], ['loss', 'val/top1_acc'], str(out),
                         legend=['a', 'b'], title='t')
    assert out.stat().st_size > 1000
    assert [[(s.mode, s.key) for s in per_log] for per_log in series] == \
        [[('train', 'loss'), ('val', 'top1_acc')]] * 2
    assert series[1][1].y == pytest.approx([0.25, 0.45])
    with pytest.raises(KeyError, match='missing'):
        plot_curves([a], ['missing'], str(out))
    with pytest.raises(ValueError, match='legend'):
        plot_curves([a, b], ['loss'], str(out), legend=['only one'])
