"""Built-in rule kinds, imported in an explicit list (never discovered by scanning)."""

from . import basic, contact, crossfield, integrity, stale

__all__ = ["basic", "contact", "crossfield", "integrity", "stale"]
