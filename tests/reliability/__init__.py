"""The reliability and security suite (issue 10): scenario drivers and their headline figures.

Each scenario module drives the real bot (or the part a catalogue case names) against the
loopback emulators and returns a JSON-ready dict of counts. ``python -m tests.reliability`` runs
them all and prints the figures; ``tests/reliability_tests`` runs them with small counts and
asserts the zeros. The catalogue is ``reliability-catalogue.md`` (sections b and c).
"""
