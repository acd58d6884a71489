"""Loopback fakes of third-party HTTP services used by built-in tools."""

from bot.testing.fakes.open_meteo import DEFAULT_PLACES, FakeOpenMeteo, FakePlace, RecordedRequest

__all__ = ["DEFAULT_PLACES", "FakeOpenMeteo", "FakePlace", "RecordedRequest"]
