"""The deployment files agree with each other and with the code: docker-compose.yml runs the
migration, then the bot (or two webhook workers behind Caddy), and every setting it needs is
in .env.example and the README; the image installs from the lock file and has a health check.
`docker compose config` checks the compose file too where docker compose is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import Settings
from tests.test_dependencies import canonical, requirements

ROOT = Path(__file__).parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, Any] = COMPOSE["services"]
BOT_SERVICES = ("bot", "webhook-1", "webhook-2")
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "COMPOSE_PROFILES", "SITE_ADDRESS"}  # read by compose, not by the bot
FILLED = {"POSTGRES_PASSWORD": "a-long-random-password", "SITE_ADDRESS": "coach.example.com", "TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35}


def env_example() -> dict[str, str]:
    """.env.example's settings, as docker compose reads the .env made from it."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def bot_settings() -> set[str]:
    """Every setting the bot reads, as an environment variable."""
    return {name.upper() for name in Settings.model_fields}


def test_env_example_lists_every_setting_and_every_variable_the_compose_file_uses() -> None:
    listed = set(env_example())
    assert bot_settings() - listed == set()
    used = set(re.findall(r"\$\{(\w+)", COMPOSE_TEXT)) | {"COMPOSE_PROFILES"}
    assert used - listed == set()
    assert listed - bot_settings() - used == set(), "a variable nobody reads"
    assert listed - bot_settings() == COMPOSE_ONLY


def test_the_database_starts_first_then_the_migration_then_the_bots() -> None:
    db = SERVICES["db"]
    assert db["image"] == "postgres:16" and db["restart"] == "unless-stopped"
    assert "db-data:/var/lib/postgresql/data" in db["volumes"] and "db-data" in COMPOSE["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["salescoach", "db", "upgrade"] and migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in BOT_SERVICES:
        service = SERVICES[name]
        assert service["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
        assert service["restart"] == "unless-stopped" and service["env_file"] == ".env", name
        assert service["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://salescoach:${POSTGRES_PASSWORD"), name
        assert set(service["environment"]) <= bot_settings(), name


def test_polling_and_webhook_workers_are_profiles_of_their_own() -> None:
    assert SERVICES["bot"]["command"] == ["salescoach", "run"] and SERVICES["bot"]["profiles"] == ["polling"]
    assert env_example()["COMPOSE_PROFILES"] == "polling"
    for worker in ("webhook-1", "webhook-2"):
        service = SERVICES[worker]
        assert service["command"] == ["salescoach", "webhook"] and service["profiles"] == ["webhook"]
        assert service["environment"]["WEBHOOK_LISTEN"] == "0.0.0.0"
    proxy = SERVICES["proxy"]
    assert proxy["image"].startswith("caddy:") and proxy["profiles"] == ["webhook"] and proxy["depends_on"] == ["webhook-1", "webhook-2"]
    mounted = next(volume.split(":")[0] for volume in proxy["volumes"] if volume.endswith("/etc/caddy/Caddyfile:ro"))
    caddyfile = (ROOT / mounted).read_text(encoding="utf-8")
    port = SERVICES["webhook-1"]["environment"]["WEBHOOK_PORT"]
    assert f"reverse_proxy webhook-1:{port} webhook-2:{port}" in caddyfile and "{$SITE_ADDRESS}" in caddyfile


def test_a_webhook_worker_accepts_the_settings_compose_gives_it(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = {**env_example(), **FILLED, "WEBHOOK_URL": "https://coach.example.com/telegram/hook", "WEBHOOK_SECRET": "s3cret_token"}
    worker.update(
        {
            name: value.replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", FILLED["POSTGRES_PASSWORD"])
            for name, value in SERVICES["webhook-1"]["environment"].items()
        }
    )
    for name, value in worker.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.webhook_problem() is None and settings.token_problem() is None
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", int(SERVICES["webhook-1"]["environment"]["WEBHOOK_PORT"]))


def test_the_readme_says_how_to_start_it_and_what_to_set() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    docker = readme[readme.index("\n## Docker\n") :].split("\n## ")[1]
    assert "cp .env.example .env" in docker and "docker compose up -d" in docker
    for name in ("TELEGRAM_BOT_TOKEN", *COMPOSE_ONLY, "WEBHOOK_URL", "WEBHOOK_SECRET"):
        assert f"`{name}`" in docker, name


def test_the_image_installs_from_the_lock_file_and_checks_its_health() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "pip install --no-cache-dir --require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps --no-build-isolation ." in dockerfile
    assert re.search(r"^HEALTHCHECK .*CMD \[\"salescoach\", \"db\", \"current\"\]$", dockerfile, re.MULTILINE)
    pinned = {canonical(name) for name in re.findall(r"^([A-Za-z0-9._-]+)==", (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.MULTILINE)}
    assert set(requirements("", "postgres")) - pinned == set(), "run the pip-compile line at the top of requirements.lock"
    assert {"setuptools", "wheel"} <= pinned


def compose_command() -> list[str] | None:
    """`docker compose` (the plugin) or a standalone Compose v2, whichever is installed."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]):
            done = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=60)
            if done.returncode == 0 and "v2." in done.stdout:
                return command
    return None


@pytest.mark.parametrize("profile", ["polling", "webhook"])
def test_docker_compose_config_accepts_the_file(profile: str, tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("docker compose is not installed here; the tests above check the file")
    (tmp_path / ".env").write_text(
        "".join(f"{name}={value}\n" for name, value in {**env_example(), **FILLED, "COMPOSE_PROFILES": profile}.items()), encoding="utf-8"
    )
    done = subprocess.run(
        [*command, "--file", str(ROOT / "docker-compose.yml"), "--project-directory", str(tmp_path), "config", "--services"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    expected = {"db", "migrate", *(["bot"] if profile == "polling" else ["webhook-1", "webhook-2", "proxy"])}
    assert set(done.stdout.split()) == expected
