"""The voice-message request the bot builds, and the emulator's voice-message rules."""

from __future__ import annotations

import base64
import json
from typing import Any

import discord
import pytest

from bot.testing.discord.rest_common import RestError, UploadedFile
from bot.testing.discord.voice import validate_voice_message
from bot.voice import VoiceClip, voice_message_form

CLIP = VoiceClip(data=b"OggS-audio", duration_s=2.5, waveform=base64.b64encode(bytes(40)).decode())


def test_the_form_is_payload_json_plus_one_ogg_file() -> None:
    reference = discord.MessageReference(message_id=5, channel_id=6, fail_if_not_exists=False)
    payload_part, file_part = voice_message_form(CLIP, reference=reference)
    payload = json.loads(payload_part["value"])
    assert payload_part["name"] == "payload_json"
    assert payload["flags"] == 8192
    assert "content" not in payload
    assert payload["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert payload["attachments"] == [
        {"id": 0, "filename": "voice-message.ogg", "duration_secs": 2.5, "waveform": CLIP.waveform}
    ]
    assert payload["message_reference"]["message_id"] == 5
    assert payload["message_reference"]["fail_if_not_exists"] is False
    assert file_part == {
        "name": "files[0]",
        "value": CLIP.data,
        "filename": "voice-message.ogg",
        "content_type": "audio/ogg",
    }


def _upload(index: int = 0) -> UploadedFile:
    return UploadedFile(index, "voice-message.ogg", "audio/ogg", b"OggS")


def _body(**changes: Any) -> dict[str, Any]:
    meta = {"id": 0, "filename": "voice-message.ogg", "duration_secs": 1.5, "waveform": "AAEC"}
    body: dict[str, Any] = {"flags": 8192, "attachments": [meta]}
    body.update(changes)
    return body


def test_the_bots_own_form_passes_the_emulator_rules() -> None:
    payload = json.loads(voice_message_form(CLIP)[0]["value"])
    validate_voice_message(payload, [_upload()])


@pytest.mark.parametrize(
    ("body", "files", "code"),
    [
        (_body(content="hello"), [_upload()], 50159),
        (_body(), [], 50160),
        (_body(), [_upload(0), _upload(1)], 50160),
        (_body(attachments=[{"id": 0, "filename": "v.ogg"}]), [_upload()], 50161),
        (
            _body(attachments=[{"id": 0, "duration_secs": 0, "waveform": "AA=="}]),
            [_upload()],
            50161,
        ),
        (_body(attachments=[{"id": 0, "duration_secs": 1, "waveform": "!!"}]), [_upload()], 50161),
        (
            _body(attachments=[{"id": 0, "duration_secs": 1, "waveform": "A" * 400}]),
            [_upload()],
            50161,
        ),
    ],
    ids=["content", "no-file", "two-files", "no-metadata", "zero-length", "bad-base64", "long"],
)
def test_the_emulator_refuses_broken_voice_messages(
    body: dict[str, Any], files: list[UploadedFile], code: int
) -> None:
    with pytest.raises(RestError) as caught:
        validate_voice_message(body, files)
    assert caught.value.response.body["code"] == code


def test_messages_without_the_voice_flag_are_not_voice_messages() -> None:
    validate_voice_message({"content": "hi", "flags": 4}, [])
