"""High-level APIs."""
from .inference import (inference_recognizer, init_recognizer, load_config,
                        top_k_classes, turn_off_pretrained)

__all__ = [
    'inference_recognizer', 'init_recognizer', 'load_config',
    'top_k_classes', 'turn_off_pretrained'
]
