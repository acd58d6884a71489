"""Secrets never reach the log output."""

from __future__ import annotations

import io
import logging

from bot.logging_setup import RedactingFilter, redact

BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789"


def test_known_secrets_and_token_shapes_are_masked() -> None:
    text = (
        f"token {BOT_TOKEN} key sk-proj-abcdefghijklmnopqrstuv "
        "url /webhooks/123/aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZg and custom-secret-value"
    )
    cleaned = redact(text, ["custom-secret-value"])
    assert BOT_TOKEN not in cleaned
    assert "sk-proj-abcdefghijklmnopqrstuv" not in cleaned
    assert "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OmFiY2RlZg" not in cleaned
    assert "custom-secret-value" not in cleaned
    assert "/webhooks/123/" in cleaned


def test_filter_masks_arguments_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["canary-key-123456"]))
    logger = logging.getLogger("toolcord.test.redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("sending with %s", "Bot canary-key-123456")
        try:
            raise RuntimeError("failed with canary-key-123456")
        except RuntimeError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "canary-key-123456" not in output
    assert "boom" in output and "RuntimeError" in output


def test_tokens_inside_logged_payloads_are_masked() -> None:
    logged = "{'type': 2, 'token': 'aW50ZXJhY3Rpb246MTIz', \"token\": \"abc.def\"}"
    cleaned = redact(logged)
    assert "aW50ZXJhY3Rpb246MTIz" not in cleaned and "abc.def" not in cleaned
