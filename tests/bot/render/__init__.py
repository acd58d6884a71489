"""Tests for bot.render."""
