"""Issue 16, finding 7: no secret in the config file, at any depth; the env var works instead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings
from tools.search.settings import load_settings as load_search_settings


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("TOOLCORD_") or name in {"DISCORD_TOKEN", "OPENAI_API_KEY"}:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _config(folder: Path, text: str) -> Path:
    path = folder / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "key", "env_name"),
    [
        (
            '[tools.config.search]\nbrave_api_key = "BSA-1"\n',
            "tools.config.search.brave_api_key",
            "TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY",
        ),
        (
            '[tools.config.search]\ntavily_api_key = "tvly-1"\n',
            "tools.config.search.tavily_api_key",
            "TOOLCORD_TOOLS__CONFIG__SEARCH__TAVILY_API_KEY",
        ),
        (
            '[tools.config.mine]\napi_key = "k"\n',
            "tools.config.mine.api_key",
            "TOOLCORD_TOOLS__CONFIG__MINE__API_KEY",
        ),
        (
            '[tools.config.mine]\ngithub_token = "ghp_1"\n',
            "tools.config.mine.github_token",
            "TOOLCORD_TOOLS__CONFIG__MINE__GITHUB_TOKEN",
        ),
        (
            '[tools.config.mine]\nclient_secret = "s"\n',
            "tools.config.mine.client_secret",
            "TOOLCORD_TOOLS__CONFIG__MINE__CLIENT_SECRET",
        ),
        (
            '[tools.config.mine.db]\npassword = "p"\n',
            "tools.config.mine.db.password",
            "TOOLCORD_TOOLS__CONFIG__MINE__DB__PASSWORD",
        ),
        (
            '[tools.config.mine]\nToken = "t"\n',
            "tools.config.mine.Token",
            "TOOLCORD_TOOLS__CONFIG__MINE__TOKEN",
        ),
        ('openai_api_key = "sk-1"\n', "openai_api_key", "OPENAI_API_KEY"),
    ],
)
def test_a_secret_shaped_key_at_any_depth_is_refused(
    clean_env: Path, toml: str, key: str, env_name: str
) -> None:
    config = _config(clean_env, toml)

    with pytest.raises(ConfigError) as caught:
        load_settings(config)

    assert str(caught.value) == (
        f"{key} must not be in the config file {config}: remove it and set {env_name} "
        "in the environment or .env instead."
    )


@pytest.mark.parametrize(
    ("toml", "key", "env_name"),
    [
        (
            '[store]\ndsn = "postgresql://bot:hunter2@db:5432/toolcord"\n',
            "store.dsn",
            "TOOLCORD_STORE__DSN",
        ),
        (
            '[store]\ndsn = "host=db user=bot password=hunter2 dbname=toolcord"\n',
            "store.dsn",
            "TOOLCORD_STORE__DSN",
        ),
        (
            '[tools.config.search]\nddgs_proxy = "http://me:hunter2@proxy:3128"\n',
            "tools.config.search.ddgs_proxy",
            "TOOLCORD_TOOLS__CONFIG__SEARCH__DDGS_PROXY",
        ),
    ],
)
def test_a_dsn_or_url_holding_a_password_is_refused(
    clean_env: Path, toml: str, key: str, env_name: str
) -> None:
    config = _config(clean_env, toml)

    with pytest.raises(ConfigError) as caught:
        load_settings(config)

    assert str(caught.value) == (
        f"{key} holds a password and must not be in the config file {config}: remove it and "
        f"set {env_name} in the environment or .env instead."
    )
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "toml",
    [
        '[store]\ndsn = "postgresql://bot@db:5432/toolcord"\n',
        "[quotas]\nuser_daily_tokens = 5\nreserve_tokens = 10\n",
        "[openai]\nmax_output_tokens = 100\n",
        '[tools.config.mine]\ntoken_url = "https://a.example/token"\nmax_tokens = 3\n',
        # a reference to the environment variable that holds the secret, not the secret
        '[[mcp.servers]]\nname = "web"\nurl = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "env:WEB_TOKEN" }\n',
    ],
)
def test_settings_that_only_look_alike_are_accepted(clean_env: Path, toml: str) -> None:
    load_settings(_config(clean_env, toml))


def test_tool_secrets_from_the_environment_reach_the_tool_config(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(clean_env, '[tools.config.search]\nprovider = "brave"\nmax_results = 4\n')
    monkeypatch.setenv("TOOLCORD_TOOLS__CONFIG__SEARCH__BRAVE_API_KEY", "BSA-from-env")
    monkeypatch.setenv("TOOLCORD_STORE__DSN", "postgresql://bot:pw@db/toolcord")

    settings = load_settings(config)
    search = load_search_settings(settings.tools.config["search"])

    assert search.provider == "brave"
    assert search.max_results == 4
    assert search.brave_api_key is not None
    assert search.brave_api_key.get_secret_value() == "BSA-from-env"
    assert settings.store_dsn() == "postgresql://bot:pw@db/toolcord"


def test_a_secret_beside_an_env_reference_is_still_refused(clean_env: Path) -> None:
    config = _config(
        clean_env,
        '[[mcp.servers]]\nname = "web"\nurl = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "Bearer env:WEB_TOKEN" }\n',
    )
    with pytest.raises(ConfigError, match=r"mcp\.servers\[0\]\.headers\.Authorization must not"):
        load_settings(config)
