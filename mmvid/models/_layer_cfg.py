"""Default mmcv layer configs of the 3D models (fresh dicts on every call)."""


def default_conv_cfg() -> dict:
    return dict(type='Conv3d')


def default_norm_cfg() -> dict:
    return dict(type='BN3d', requires_grad=True)


def default_act_cfg() -> dict:
    return dict(type='ReLU', inplace=True)
