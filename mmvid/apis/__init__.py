"""High-level APIs."""
from .inference import init_recognizer, load_config, turn_off_pretrained

__all__ = ['init_recognizer', 'load_config', 'turn_off_pretrained']
