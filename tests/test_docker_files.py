"""The Dockerfile and docker-compose.yml match the README (read as text: no Docker engine here).

Not run here: ``docker build`` and ``docker run`` themselves. What is checked is what the image
would carry, where an owner's files go, and that the health checks ask the port the bot serves.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
OWNER_DIR = "/app/owner"


def _copied() -> set[str]:
    """Top-level names the Dockerfile copies into /app."""
    names: set[str] = set()
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE, flags=re.MULTILINE):
        *sources, _ = line.split()
        names.update(source.rstrip("/") for source in sources)
    return names


def _env() -> dict[str, str]:
    block = re.search(r"^ENV (.*?)(?=\n\S)", DOCKERFILE, flags=re.MULTILINE | re.DOTALL)
    assert block is not None
    return dict(re.findall(r"(\w+)=(\S+)", block.group(1).replace("\\\n", " ")))


def _docker_section() -> str:
    start = README.index("## Docker\n")
    return README[start : README.index("\n## ", start + 1)]


def test_the_image_carries_every_package_the_distribution_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        pattern.rstrip("*")
        for pattern in project["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    assert packages == {"bot", "tools", "cogs", "examples"}
    assert packages | {"pyproject.toml", "README.md"} <= _copied()


def test_every_tool_module_the_docs_name_is_in_the_image_or_the_owner_folder() -> None:
    toml_blocks = re.findall(r"```toml\n(.*?)```", README, flags=re.DOTALL)
    example = (ROOT / "config" / "bot.example.toml").read_text(encoding="utf-8")
    named = {
        module
        for text in [*toml_blocks, example]
        for module in tomllib.loads(text).get("tools", {}).get("modules", [])
    }
    assert named >= {"tools.weather", "tools.images", "dice"}
    for module in named:
        top = module.split(".")[0]
        assert top in _copied() or "." not in module, module  # a bare name lives in /app/owner


def test_the_owner_folder_is_on_the_path_and_documented() -> None:
    assert _env()["PYTHONPATH"] == OWNER_DIR
    assert f"mkdir -p /app/data {OWNER_DIR}" in DOCKERFILE
    section = _docker_section()
    assert f'-v "$PWD/my-bot:{OWNER_DIR}:ro"' in section
    assert f"-e TOOLCORD_CONFIG={OWNER_DIR}/bot.toml" in section
    assert f"- ./my-bot:{OWNER_DIR}:ro" in COMPOSE
    assert f"TOOLCORD_CONFIG: {OWNER_DIR}/bot.toml" in COMPOSE


def test_the_image_health_check_asks_the_port_the_bot_serves() -> None:
    port = _env()["TOOLCORD_OBSERVABILITY__HEALTH_PORT"]
    check = re.search(r"^HEALTHCHECK .*?CMD (.+)$", DOCKERFILE, flags=re.MULTILINE | re.DOTALL)
    assert check is not None
    assert f"http://127.0.0.1:{port}/healthz" in check.group(1)
    assert "HEALTHCHECK" in DOCKERFILE.split("ENTRYPOINT")[0]


def test_the_compose_health_check_asks_the_port_its_bots_serve() -> None:
    port = re.search(r'TOOLCORD_OBSERVABILITY__HEALTH_PORT: "(\d+)"', COMPOSE)
    assert port is not None
    assert f"http://127.0.0.1:{port.group(1)}/healthz" in COMPOSE
    assert "TOOLCORD_OBSERVABILITY__HEALTH_HOST: 0.0.0.0" in COMPOSE


def test_the_console_script_finds_a_tool_module_in_the_working_folder(tmp_path: Path) -> None:
    # A console script runs from the venv's bin folder: sys.path[0] is that folder, not the cwd.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "toolcord"
    script.write_text("import sys\nfrom bot.__main__ import main\nsys.exit(main())\n")
    owner = tmp_path / "owner"
    owner.mkdir()
    (owner / "greeter.py").write_text(
        "from tools import tool\n\n\n@tool\nasync def greet(name: str) -> str:\n"
        '    """Greet someone by name."""\n    return f"Hello, {name}!"\n'
    )
    result = subprocess.run(
        [sys.executable, str(script), "check"],
        cwd=owner,
        env={"PYTHONPATH": str(ROOT), "TOOLCORD_TOOLS__MODULES": '["greeter"]', "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert '"tools": [\n    "greet"\n  ]' in result.stdout, result.stderr
