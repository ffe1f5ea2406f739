"""The same conversations through the terminal console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bot.console import Console
from tests.cli_lines import in_english


def lines(console: Console) -> list[dict]:
    out = console.out.getvalue()  # type: ignore[attr-defined]
    console.out.seek(0)  # type: ignore[attr-defined]
    console.out.truncate()  # type: ignore[attr-defined]
    return [json.loads(line) for line in out.splitlines()]


def test_the_rep_picks_a_language_by_typing_slash_and_the_button_number(console: Console) -> None:
    console.send("/start")
    [welcome] = lines(console)
    assert welcome["buttons"] == [["中文", "English"]]
    console.send("/2")
    shown = lines(console)
    assert [r["key"] for r in shown] == ["language_set", "menu"]
    assert "Main menu" in shown[1]["text"] and "<b>" not in shown[1]["text"]


def test_a_number_is_just_text_and_a_press_with_no_button_behind_it_is_explained(console: Console) -> None:
    console.send("/start")
    console.send("/1")
    lines(console)
    console.send("1")
    assert lines(console)[0]["key"] == "not_understood"
    console.send("/99")
    [note] = lines(console)
    assert note["key"] == "console_no_button" and "/99" in note["text"]


def run_cli(args: list[str], stdin: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    environment.update(DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", **env)
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=60)


def test_piped_console_session_prints_jsonl_and_exits_at_end_of_input(tmp_path: Path) -> None:
    done = run_cli(["console", "--jsonl", "--lang", "en", "--user", "5"], "/start\n/2\n/help\n", tmp_path)
    assert done.returncode == 0, done.stderr
    replies = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["key"] for r in replies] == ["welcome", "language_set", "menu", "help"]
    assert replies[0]["buttons"] == [["中文", "English"]]


def test_plain_console_numbers_buttons(tmp_path: Path) -> None:
    done = run_cli(["console", "--lang", "en"], "/start\n", tmp_path)
    assert "[/1] 中文  [/2] English" in done.stdout


def test_without_a_token_the_main_job_is_the_console(tmp_path: Path) -> None:
    done = run_cli([], "/help\n", tmp_path)
    assert done.returncode == 0
    assert "没有设置 TELEGRAM_BOT_TOKEN：改为启动终端对话（输入 /start；" in done.stderr
    assert " / No TELEGRAM_BOT_TOKEN set: starting the terminal console (type /start;" in done.stderr
    assert "/cancel" in done.stdout
    assert (tmp_path / "cli.db").exists()


def test_run_without_a_token_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_cli(["run"], "", tmp_path)
    assert done.returncode == 2
    assert (
        in_english(done.stderr.strip())
        == "salescoach: TELEGRAM_BOT_TOKEN is not set; get one from @BotFather and set it in the environment or .env (or chat in the terminal: salescoach console)"
    )


def test_run_with_a_malformed_token_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_cli(["run"], "", tmp_path, TELEGRAM_BOT_TOKEN="not-a-token")
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "malformed" in done.stderr


def test_classify_writes_one_json_object_per_line(tmp_path: Path) -> None:
    done = run_cli(["classify"], "您想要酸的还是甜的？\nIf deliveries are late, how does that affect your sales?\n\n", tmp_path)
    assert done.returncode == 0, done.stderr
    first, second = [json.loads(line) for line in done.stdout.splitlines()]
    assert set(first) == {"text", "lang", "is_question", "form", "spin", "cues", "acts"}
    assert (first["lang"], first["is_question"], first["form"]) == ("zh", True, "closed")
    assert (second["lang"], second["spin"]) == ("en", "implication")


def test_a_whole_roleplay_piped_into_the_console(tmp_path: Path) -> None:
    lines = "/roleplay plum\n您要什么样的李子？\n为什么要酸的呢？\n/end\n"
    result = run_cli(["console", "--jsonl"], lines, tmp_path)
    replies = [json.loads(line) for line in result.stdout.splitlines()]
    keys = [r["key"] for r in replies]
    assert keys.count("roleplay_customer") == 3 and keys[-2:] == ["roleplay_turn_mix", "roleplay_scorecard"]
    assert "儿媳妇" in replies[-3]["text"] and "得分：41/100" in replies[-1]["text"]
    assert replies[-2]["picture"] == "salescoach-files/plum-turns.png" and (tmp_path / "salescoach-files" / "plum-turns.png").read_bytes().startswith(
        b"\x89PNG"
    )
