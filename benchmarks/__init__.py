"""Benchmarks of s2rdepth. ``python -m benchmarks`` runs them all and writes JSON + markdown."""
