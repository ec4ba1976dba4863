"""The optional deployment libraries (onnx, onnxscript, onnxruntime,
openvino), imported only when a format or backend needs them."""
import importlib
from types import ModuleType

DEPLOY_HINT = "pip install 'mmvid[deploy]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` or fail with what needs it and how to install it.

    Raises:
        ImportError: ``'<purpose> needs <module>, which is not installed:
        pip install 'mmvid[deploy]''``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f'{purpose} needs {module}, which is not '
                          f'installed ({err}): {DEPLOY_HINT}') from err
