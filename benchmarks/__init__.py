"""Benchmarks: each ``*_bench.py`` module has a ``run()`` that prints figures and ratios measured in one run."""
