"""Registering mmvid's parts and making ``mmvid`` the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every mmvid package that registers parts.

    Args:
        init_default_scope: Also make ``mmvid`` the current default scope, so
            mmengine's root registries look names up in mmvid's first. If
            another scope is current, a new ``mmvid`` scope instance is
            created and made current (with a warning).
    """
    import mmvid.datasets  # noqa: F401
    import mmvid.engine  # noqa: F401
    import mmvid.evaluation  # noqa: F401
    import mmvid.models  # noqa: F401
    import mmvid.structures  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or not DefaultScope.check_instance_created('mmvid'):
        DefaultScope.get_instance('mmvid', scope_name='mmvid')
        return
    if current.scope_name != 'mmvid':
        warnings.warn(f'The current default scope "{current.scope_name}" is '
                      'not "mmvid"; register_all_modules makes a new '
                      'default scope "mmvid" current.')
        stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S%f')
        DefaultScope.get_instance(f'mmvid-{stamp}', scope_name='mmvid')
