"""mmaction2's I3D R50 state-dict layout, generated from its naming rules.

Independent of mmvid's model code: the rules are mmaction2's documented
ones (ConvModule ``.conv``/``.bn``; downsample in every stage's block 0;
conv1 of an inflated block has kernel 3x1x1; non-local blocks with ``g.0``,
``theta``, ``phi.0``, ``conv_out`` after the flagged blocks).
"""
from collections import OrderedDict

BN = ('weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked')
I3D_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
I3D_NON_LOCAL = ((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0))


def _conv_bn(keys, prefix, shape):
    keys[f'{prefix}.conv.weight'] = shape
    for name in BN:
        keys[f'{prefix}.bn.{name}'] = () if name == 'num_batches_tracked' \
            else (shape[0], )


def _non_local(keys, prefix, channels, mode):
    inter = channels // 2
    keys[f'{prefix}.g.0.conv.weight'] = (inter, channels, 1, 1, 1)
    keys[f'{prefix}.g.0.conv.bias'] = (inter, )
    _conv_bn(keys, f'{prefix}.conv_out', (channels, inter, 1, 1, 1))
    if mode != 'gaussian':
        keys[f'{prefix}.theta.conv.weight'] = (inter, channels, 1, 1, 1)
        keys[f'{prefix}.theta.conv.bias'] = (inter, )
        keys[f'{prefix}.phi.0.conv.weight'] = (inter, channels, 1, 1, 1)
        keys[f'{prefix}.phi.0.conv.bias'] = (inter, )


def i3d_r50_keys(non_local_mode=None, num_classes=400, inflate=I3D_INFLATE,
                 conv1_kt=5):
    """``{key: shape}`` of mmaction2's I3D R50 (``non_local_mode`` None for
    the plain model, else the 5-block non-local model of that mode)."""
    keys = OrderedDict()
    _conv_bn(keys, 'backbone.conv1', (64, 3, conv1_kt, 7, 7))
    inplanes = 64
    for stage, flags in enumerate(inflate):
        planes = 64 * 2**stage
        for block, inflated in enumerate(flags):
            p = f'backbone.layer{stage + 1}.{block}'
            cin = inplanes if block == 0 else planes * 4
            _conv_bn(keys, f'{p}.conv1',
                     (planes, cin, 3 if inflated else 1, 1, 1))
            _conv_bn(keys, f'{p}.conv2', (planes, planes, 1, 3, 3))
            _conv_bn(keys, f'{p}.conv3', (planes * 4, planes, 1, 1, 1))
            if block == 0:
                _conv_bn(keys, f'{p}.downsample',
                         (planes * 4, inplanes, 1, 1, 1))
            if non_local_mode and I3D_NON_LOCAL[stage][block]:
                _non_local(keys, f'{p}.non_local_block', planes * 4,
                           non_local_mode)
        inplanes = planes * 4
    keys['cls_head.fc_cls.weight'] = (num_classes, 2048)
    keys['cls_head.fc_cls.bias'] = (num_classes, )
    return keys
