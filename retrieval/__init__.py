"""Hamming-space retrieval: binary code indexes, top-k search and the papers' metrics."""

__all__: list[str] = []
