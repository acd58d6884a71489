"""Schema validation of requests and responses, unknown routes, the vendored subset."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from jsonschema import Draft202012Validator

from bot.testing.openai import OpenAIEmulator, TextReply
from bot.testing.openai.validation import SchemaBook

PATH = "/v1/chat/completions"
SCHEMAS_DIR = Path(__file__).resolve().parents[4] / "bot" / "testing" / "schemas"
FULL_SPEC = Path(__file__).resolve().parents[5] / "shared" / "openai-openapi" / "openapi.json"


async def test_bad_role_is_rejected_and_recorded(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    bad: Any = [{"role": "robot", "content": "beep"}]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=bad)
    assert caught.value.status_code == 400
    body: Any = caught.value.body
    assert body["type"] == "invalid_request_error" and body["param"] == "messages[0]"
    assert set(body) == {"message", "type", "param", "code"}
    assert emu.attempts(PATH) == 1
    violations = emu.take_violations()
    assert [(v.kind, v.schema, v.issues[0].location) for v in violations] == [
        ("request", "CreateChatCompletionRequest", "messages[0]")
    ]
    emu.assert_no_violations()


async def test_bad_field_sent_with_extra_body(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}], extra_body={"n": "two"}
        )
    assert caught.value.code == "invalid_type"
    assert caught.value.param == "n"
    assert len(emu.take_violations()) == 1


async def test_raw_posts_missing_fields_and_bad_json(emu: OpenAIEmulator) -> None:
    async with httpx2.AsyncClient(base_url=emu.base_url) as http:
        missing = await http.post("/chat/completions", json={"model": "gpt-4o"})
        garbage = await http.post(
            "/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "missing_required_parameter"
    assert missing.json()["error"]["param"] == "messages"
    assert garbage.status_code == 400
    assert "could not parse the JSON body" in garbage.json()["error"]["message"]
    assert missing.headers["x-request-id"].startswith("req_")
    assert len(emu.take_violations()) == 2


async def test_nullable_fields_sent_by_the_sdk_are_valid(emu: OpenAIEmulator) -> None:
    async with httpx2.AsyncClient(base_url=emu.base_url) as http:
        response = await http.post(
            "/chat/completions",
            json={
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "hi"}],
                "max_completion_tokens": None,
                "temperature": None,
            },
        )
    assert response.status_code == 200, response.text


async def test_messages_are_validated_once_each(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    history: Any = [{"role": "user", "content": f"turn {i}"} for i in range(30)]
    for _ in range(3):
        await client.chat.completions.create(model="gpt-4o", messages=history)
    bad: Any = [*history, {"role": "tool", "content": "no call id"}]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=bad)
    assert caught.value.param == "messages[30]"
    emu.take_violations()


async def test_validation_can_be_switched_off() -> None:
    async with OpenAIEmulator(validate_requests=False) as emulator:
        async with httpx2.AsyncClient(base_url=emulator.base_url) as http:
            response = await http.post("/chat/completions", json={"messages": [{"role": "robot"}]})
        assert response.status_code == 200
        emulator.assert_no_violations()


async def test_bad_scripted_response_is_a_response_violation(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.chat.reply(TextReply("hi", finish_reason="bogus"))  # type: ignore[arg-type]
    await client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "x"}]
    )
    violations = emu.take_violations()
    assert [(v.kind, v.schema) for v in violations] == [
        ("response", "CreateChatCompletionResponse")
    ]
    with pytest.raises(AssertionError):
        emu.violations.extend(violations)
        emu.assert_no_violations()
    emu.take_violations()


async def test_unknown_route_is_a_404_recorded_as_unhandled(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await client.vector_stores.create(name="docs")
    assert "Invalid URL (POST /v1/vector_stores)" in caught.value.message
    assert [r.path for r in emu.unhandled] == ["/v1/vector_stores"]


async def test_api_key_is_checked_when_configured() -> None:
    async with OpenAIEmulator(api_key="sk-right") as emulator:
        wrong = openai.AsyncOpenAI(api_key="sk-wrong", base_url=emulator.base_url, max_retries=0)
        right = openai.AsyncOpenAI(api_key="sk-right", base_url=emulator.base_url, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            await wrong.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
        await right.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "x"}]
        )
        await wrong.close()
        await right.close()


def test_vendored_subset_loads_and_is_valid_json_schema() -> None:
    document = json.loads((SCHEMAS_DIR / "openai-subset.json").read_text())
    book = SchemaBook()
    for name in document["roots"]:
        Draft202012Validator.check_schema(document["components"]["schemas"][name])
        assert book.validator(name) is book.validator(name)  # compiled once per book
    assert "nullable" not in json.dumps(document)
    assert (SCHEMAS_DIR / "LICENSE").read_text().startswith("The MIT License")
    assert "sha256" in (SCHEMAS_DIR / "SOURCE.md").read_text()


@pytest.mark.skipif(
    not FULL_SPEC.exists(), reason="shared/openai-openapi/openapi.json is not beside the repo"
)
def test_vendored_subset_matches_a_fresh_build(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_subset", SCHEMAS_DIR / "build_subset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "subset.json"
    assert module.main([str(FULL_SPEC), "--output", str(output)]) == 0
    assert output.read_text() == (SCHEMAS_DIR / "openai-subset.json").read_text()
    digest = hashlib.sha256(FULL_SPEC.read_bytes()).hexdigest()
    assert digest in (SCHEMAS_DIR / "SOURCE.md").read_text()
