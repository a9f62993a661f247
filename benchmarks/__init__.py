"""Benchmark scripts: each prints the figures it measures (`python -m benchmarks.NAME`)."""
