"""The tiny synthetic dataset the tool integration tests run on."""
import pytest

from mmvid.data_preparation import generate_synthetic_dataset

from .tiny_runs import NUM_CLASSES, NUM_TRAIN, data_options


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('launchers') / 'syn'
    generate_synthetic_dataset(
        str(root), num_classes=NUM_CLASSES, videos_per_class_train=2,
        videos_per_class_val=2, num_frames=16, size=(32, 24),
        write_rawframes=False, progress=False)
    train = root / 'train_list_videos.txt'
    assert len(train.read_text().splitlines()) == NUM_TRAIN
    # an odd val list in dataset order: clip 0 of each class + one more
    lines = (root / 'val_list_videos.txt').read_text().splitlines()
    val = root / 'val_odd.txt'
    val.write_text('\n'.join(lines[::2] + lines[-1:]) + '\n')
    small = root / 'val_small.txt'
    small.write_text('\n'.join(lines[:3]) + '\n')
    train_small = root / 'train_small.txt'
    train_small.write_text(
        '\n'.join(train.read_text().splitlines()[::4]) + '\n')
    data = dict(root=str(root), label_map=str(root / 'label_map.txt'),
                train=str(train), val=str(val), val_small=str(small),
                train_small=str(train_small))
    data['options'] = data_options(data, dict(train=train, val=val, test=val))
    return data
