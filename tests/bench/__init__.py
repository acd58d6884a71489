"""Benchmarks: run explicitly, never by pytest (``tests/bench_smoke`` only checks they run).

``python -m tests.bench [--quick]`` runs them all and writes ``bench-results.json``; a single one
runs as ``python -m tests.bench.<name>`` where it has a command line (``context_build``,
``defer``, ``profile_turn``). See ``docs/performance.md``.
"""
