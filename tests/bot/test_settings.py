"""Settings: sources, precedence, secrets, clear errors, and the example file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from bot.errors import ConfigError
from bot.settings import Settings, load_settings, settings_from

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "bot.example.toml"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(__import__("os").environ):
        if name.startswith("TOOLCORD_") or name in {
            "DISCORD_TOKEN",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.openai.chat_model == "gpt-5.4-mini"
    assert settings.discord.api_base_url == "https://discord.com/api/v10"
    assert settings.store_dsn().endswith("toolcord.db")


def test_environment_overrides_toml_and_nesting_uses_double_underscore(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _write(clean_env / "config" / "bot.toml", '[openai]\nchat_model = "from-toml"\n')
    monkeypatch.setenv("TOOLCORD_CHAT__MAX_ROUNDS", "3")
    monkeypatch.setenv("TOOLCORD_DISCORD__GATEWAY_URL", "ws://127.0.0.1:9/gateway")
    settings = load_settings(config)
    assert settings.openai.chat_model == "from-toml"
    assert settings.chat.max_rounds == 3
    assert settings.discord.gateway_url == "ws://127.0.0.1:9/gateway"
    monkeypatch.setenv("TOOLCORD_OPENAI__CHAT_MODEL", "from-env")
    assert load_settings(config).openai.chat_model == "from-env"


def test_secrets_and_base_url_from_dotenv(clean_env: Path) -> None:
    _write(
        clean_env / ".env",
        "DISCORD_TOKEN=abc.def.ghi\nOPENAI_API_KEY=sk-x\nOPENAI_BASE_URL=http://127.0.0.1:1/v1\nOTHER=1\n",
    )
    settings = load_settings()
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "abc.def.ghi"
    assert settings.openai.base_url == "http://127.0.0.1:1/v1"
    assert "abc.def.ghi" not in repr(settings)


def test_a_secret_in_the_toml_file_is_refused(clean_env: Path) -> None:
    config = _write(clean_env / "bot.toml", 'discord_token = "abc"\n')
    with pytest.raises(ConfigError, match=r"DISCORD_TOKEN in the environment or \.env"):
        load_settings(config)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[chat]\nmax_rouds = 3\n", r"chat\.max_rouds"),
        ("data_dri = 'x'\n", r"unknown setting\(s\) data_dri"),
        ('[chat]\nmax_rounds = "many"\n', r"TOOLCORD_CHAT__MAX_ROUNDS"),
        ('[discord]\napi_base_url = "ftp://x"\n', r"discord\.api_base_url"),
        ("[chat]\nmax_image_bytes_per_request = 60000000\n", r"TOOLCORD_CHAT__MAX_IMAGE_BYTES"),
    ],
)
def test_bad_settings_name_the_setting(clean_env: Path, toml: str, expected: str) -> None:
    config = _write(clean_env / "bot.toml", toml)
    with pytest.raises(ConfigError, match=expected):
        load_settings(config)


def test_a_named_config_file_must_exist(clean_env: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(clean_env / "missing.toml")


def _leaf_settings(model: type[BaseModel], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, field in model.model_fields.items():
        if field.validation_alias:  # secrets: environment only
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names |= _leaf_settings(annotation, f"{prefix}{name}.")
        else:
            names.add(f"{prefix}{name}")
    return names


def _documented(example_text: str) -> set[str]:
    """Settings named in the example, set or shown commented out."""
    names: set[str] = set()
    section = ""
    for line in example_text.splitlines():
        stripped = line.lstrip("# ").strip()
        header = re.match(r"^\[([a-z_.]+)\]$", stripped)
        if header:
            section = header.group(1) + "."
            continue
        key = re.match(r"^([a-z_]+)\s*=", stripped)
        if key:
            names.add(section + key.group(1))
    return names


def test_example_config_documents_every_setting_and_loads(clean_env: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = _documented(text)
    missing = {
        name
        for name in _leaf_settings(Settings) - documented
        if not any(other.startswith(name + ".") for other in documented)
    }
    assert not missing, f"config/bot.example.toml lacks {sorted(missing)}"
    settings = load_settings(EXAMPLE)
    defaults = settings_from({})
    assert settings.model_dump() == defaults.model_dump(), "the example must show the defaults"


def test_every_setting_can_be_set_from_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOLCORD_OPENAI__REQUEST_TIMEOUT_S", "12.5")
    monkeypatch.setenv("TOOLCORD_CHAT__LINK_ALLOW_HOSTS", '["example.org"]')
    monkeypatch.setenv("TOOLCORD_TOOLS__MODULES", '["tools.weather"]')
    settings = load_settings()
    assert settings.openai.request_timeout_s == 12.5
    assert settings.chat.link_allow_hosts == ["example.org"]
    assert settings.tools.modules == ["tools.weather"]


def test_default_chat_model_is_not_marked_deprecated_by_the_sdk() -> None:
    import openai.types.shared.chat_model as chat_model_module

    source = Path(chat_model_module.__file__).read_text(encoding="utf-8")
    deprecated_section = source.split('"""Deprecated values:', 1)[1]
    deprecated = set(re.findall(r'"([^"]+)"', deprecated_section))
    default = settings_from({}).openai.chat_model
    assert default in source, "the SDK must know the default model"
    assert default not in deprecated
