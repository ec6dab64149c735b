"""Learned binary hash codes for COSFIRE descriptors (the only package that imports torch)."""

__all__: list[str] = []
