"""Benchmarks: run explicitly (``python -m tests.bench.<name>``), never by pytest."""
