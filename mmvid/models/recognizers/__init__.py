"""Recognizers: whole models with loss / predict / tensor modes."""
from .recognizer3d import Recognizer3D

__all__ = ['Recognizer3D']
