"""Handheld logo-authenticity scanner: recognise a brand mark, check it against genuine references, give a verdict."""

__version__ = "0.1.0"
