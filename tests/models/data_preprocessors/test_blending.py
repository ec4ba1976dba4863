"""MixUp / CutMix batch blending: exact mixed inputs, soft labels and loss
against a hand computation with the same seed; training-only application
by ``ActionDataPreprocessor``; strict constructors."""
import math

import pytest
import torch

from mmvid.models import ActionDataPreprocessor, I3DHead
from mmvid.models.data_preprocessors import CutmixBlending, MixupBlending
from mmvid.registry import MODELS
from mmvid.structures import ActionDataSample

NUM_CLASSES = 5
LABELS = [0, 3, 1, 4]


def batch():
    """4 videos ``[B=4, views=1, C=2, T=3, H=6, W=8]``, distinct values."""
    inputs = torch.arange(4 * 2 * 3 * 6 * 8, dtype=torch.float32)
    return inputs.view(4, 1, 2, 3, 6, 8) / 100


def samples():
    return [ActionDataSample().set_gt_label(label) for label in LABELS]


def draw(alpha, seed, size=4):
    """``lam`` and the permutation, drawn as the blendings document:
    Beta(alpha, alpha) then randperm, from the global generator."""
    torch.manual_seed(seed)
    lam = torch.distributions.Beta(torch.tensor(float(alpha)),
                                   torch.tensor(float(alpha))).sample()
    return float(lam), torch.randperm(size)


def one_hot(labels):
    rows = torch.zeros(len(labels), NUM_CLASSES)
    for i, label in enumerate(labels):
        rows[i, label] = 1.0
    return rows


def head_and_feats():
    torch.manual_seed(123)
    head = I3DHead(num_classes=NUM_CLASSES, in_channels=3, dropout_ratio=0.0)
    head.init_weights()
    return head, torch.randn(4, 3, 1, 2, 2)


def expected_loss(head, feats, soft):
    logits = feats.mean((2, 3, 4)) @ head.fc_cls.weight.T + head.fc_cls.bias
    log_prob = logits - logits.exp().sum(1, keepdim=True).log()
    return -(soft * log_prob).sum(1).mean()


def test_mixup_equals_a_hand_computation():
    x, seed, alpha = batch(), 2, 0.4
    lam, perm = draw(alpha, seed)
    assert 0.1 < lam < 0.9 and perm.tolist() != [0, 1, 2, 3]
    expected_x = torch.empty_like(x)
    expected_y = torch.zeros(4, NUM_CLASSES)
    for i in range(4):
        j = int(perm[i])
        expected_x[i] = lam * x[i] + (1 - lam) * x[j]
        expected_y[i, LABELS[i]] += lam
        expected_y[i, LABELS[j]] += 1 - lam

    blending = MODELS.build(dict(type='MixupBlending',
                                 num_classes=NUM_CLASSES, alpha=alpha))
    assert isinstance(blending, MixupBlending)
    torch.manual_seed(seed)
    mixed, out = blending(x.clone(), samples())
    torch.testing.assert_close(mixed, expected_x)
    soft = torch.stack([s.gt_label for s in out])
    assert soft.dtype == torch.float32 and soft.shape == (4, NUM_CLASSES)
    torch.testing.assert_close(soft, expected_y)
    torch.testing.assert_close(soft.sum(1), torch.ones(4))

    head, feats = head_and_feats()
    losses = head.loss(feats, out)
    torch.testing.assert_close(losses['loss_cls'],
                               expected_loss(head, feats, expected_y))
    assert 'top1_acc' not in losses  # no top-k of soft targets (as 1.x)


def hand_box(height, width, lam):
    """The CutMix box, the centre drawn x then y after lam and perm."""
    cut = math.sqrt(1 - lam)
    cut_w, cut_h = int(width * cut), int(height * cut)
    cx = int(torch.randint(width, (1, )))
    cy = int(torch.randint(height, (1, )))
    return (min(max(cy - cut_h // 2, 0), height),
            min(max(cy + cut_h // 2, 0), height),
            min(max(cx - cut_w // 2, 0), width),
            min(max(cx + cut_w // 2, 0), width))


def test_cutmix_equals_a_hand_computation():
    x, seed, alpha = batch(), 3, 1.0
    lam, perm = draw(alpha, seed)  # leaves the generator at the box draw
    y1, y2, x1, x2 = hand_box(6, 8, lam)
    area = (y2 - y1) * (x2 - x1)
    # the seed gives a partial box, clipped at the bottom edge (cy + 1 > 6)
    assert perm.tolist() != [0, 1, 2, 3]
    assert (y1, y2, x1, x2) == (4, 6, 1, 5) and area == 8
    new_lam = 1 - area / 48
    inside = torch.zeros(6, 8, dtype=torch.bool)
    inside[y1:y2, x1:x2] = True
    expected_x = x.clone()
    expected_y = torch.zeros(4, NUM_CLASSES)
    for i in range(4):
        j = int(perm[i])
        for h in range(6):
            for w in range(8):
                if inside[h, w]:  # every view, channel and frame
                    expected_x[i, ..., h, w] = x[j, ..., h, w]
        expected_y[i, LABELS[i]] += new_lam
        expected_y[i, LABELS[j]] += 1 - new_lam

    blending = MODELS.build(dict(type='CutmixBlending',
                                 num_classes=NUM_CLASSES, alpha=alpha))
    assert isinstance(blending, CutmixBlending)
    torch.manual_seed(seed)
    before = x.clone()
    mixed, out = blending(x, samples())
    torch.testing.assert_close(x, before)  # the input is not written over
    torch.testing.assert_close(mixed, expected_x)
    soft = torch.stack([s.gt_label for s in out])
    torch.testing.assert_close(soft, expected_y)

    head, feats = head_and_feats()
    torch.testing.assert_close(head.loss(feats, out)['loss_cls'],
                               expected_loss(head, feats, expected_y))


def test_soft_and_multi_hot_labels_are_mixed_as_given():
    blending = MixupBlending(num_classes=3, alpha=1.0)
    targets = torch.tensor([[1., 0., 1.], [0., 1., 0.]])
    data = [ActionDataSample().set_gt_label(t) for t in targets]
    torch.manual_seed(0)
    _, out = blending(torch.zeros(2, 1), data)
    lam, perm = draw(1.0, 0, size=2)
    expected = lam * targets + (1 - lam) * targets[perm]
    torch.testing.assert_close(torch.stack([s.gt_label for s in out]),
                               expected)


def test_preprocessor_blends_in_training_only():
    mean, std = [10., 20.], [2., 4.]
    pre = ActionDataPreprocessor(
        mean=mean, std=std,
        blending=dict(type='MixupBlending', num_classes=NUM_CLASSES,
                      alpha=0.4))
    assert isinstance(pre.blending, MixupBlending)
    clips = [torch.randint(0, 256, (1, 2, 3, 6, 8), dtype=torch.uint8)
             for _ in range(4)]
    norm = (torch.stack(clips).float() -
            torch.tensor(mean).view(-1, 1, 1, 1)) / torch.tensor(
                std).view(-1, 1, 1, 1)

    out = pre(dict(inputs=clips, data_samples=samples()), training=False)
    torch.testing.assert_close(out['inputs'], norm)
    assert [s.gt_label.tolist() for s in out['data_samples']] == \
        [[label] for label in LABELS]

    lam, perm = draw(0.4, 2)
    torch.manual_seed(2)
    out = pre(dict(inputs=clips, data_samples=samples()), training=True)
    torch.testing.assert_close(out['inputs'],
                               lam * norm + (1 - lam) * norm[perm])
    torch.testing.assert_close(
        torch.stack([s.gt_label for s in out['data_samples']]),
        lam * one_hot(LABELS) + (1 - lam) * one_hot(LABELS)[perm])


def test_blending_errors():
    for bad in (0, -1, 2.0, True, '5'):
        with pytest.raises(ValueError, match='num_classes must be a positive '
                           'int'):
            MixupBlending(num_classes=bad)
    for bad in (0, -0.5, float('nan'), None, True):
        with pytest.raises(ValueError, match=r'CutmixBlending: alpha must be '
                           'a number > 0'):
            CutmixBlending(num_classes=3, alpha=bad)
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        MODELS.build(dict(type='MixupBlending', num_classes=3, beta=0.2))
    with pytest.raises(TypeError, match="blending must be a config dict with "
                       "a 'type'"):
        ActionDataPreprocessor(blending='MixupBlending')
    blending = MixupBlending(num_classes=3)
    with pytest.raises(ValueError, match=r'sample 1 has gt_label 3, outside '
                       r'\[0, 3\)'):
        blending(torch.zeros(2, 1), [ActionDataSample().set_gt_label(i)
                                     for i in (0, 3)])
    with pytest.raises(ValueError, match=r'gt_label of shape \(2,\); '
                       r'expected one class index or \[num_classes\] = \[3\]'):
        blending(torch.zeros(1, 1), [ActionDataSample().set_gt_label([0, 1])])
    with pytest.raises(ValueError, match='sample 0 has no gt_label'):
        blending(torch.zeros(1, 1), [ActionDataSample()])
    with pytest.raises(ValueError, match='2 inputs but 1 data samples'):
        blending(torch.zeros(2, 1), [ActionDataSample().set_gt_label(0)])
    pre = ActionDataPreprocessor(blending=dict(type='CutmixBlending',
                                               num_classes=3))
    with pytest.raises(ValueError, match='blending needs the data_samples'):
        pre(dict(inputs=torch.zeros(1, 1, 3, 2, 4, 4)), training=True)
