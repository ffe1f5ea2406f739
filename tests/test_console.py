"""The terminal console: `/N` presses button N, a typed number is text, old numbers lapse,
files and pictures are saved (a picture with what it shows) and pushes say where they are
delivered."""

from __future__ import annotations

import io
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session

from bot.console import Console
from dialogs.engine import Engine
from dialogs.pictures import charts, fonts
from storage.access import add_member, create_team, grant_role
from storage.models import User
from storage.users import preset_language
from tests.needs_helpers import EN_ANSWERS, log_need, rep
from tests.pictures import assert_picture
from tests.test_needs_form import saved_needs
from tests.test_results import setup as setup_results
from tests.test_start_console import run_cli


def plain(engine: Engine, user_id: int = 1, lang: str = "en", files: Path | None = None) -> Console:
    """A console user reading plain text, not JSON lines."""
    with Session(engine.db) as session:
        preset_language(session, user_id, f"user{user_id}", lang)
    return Console(engine, user_id=user_id, name=f"user{user_id}", lang=lang, out=io.StringIO(), files=files)


def output(console: Console) -> str:
    """What the console printed since the last call."""
    text = console.out.getvalue()  # type: ignore[attr-defined]
    console.out.seek(0)  # type: ignore[attr-defined]
    console.out.truncate()  # type: ignore[attr-defined]
    return str(text)


def test_numbers_typed_into_the_need_form_are_stored_as_text(engine: Engine) -> None:
    ann = rep(engine, 5)
    assert "Reference number N-000001" in log_need(ann, customer_company="1", decision_maker="2")
    [need] = saved_needs(engine)
    assert need.fields["customer_company"] == "1" and need.fields["decision_maker"] == "2"
    assert need.fields["contact_name"] == EN_ANSWERS["contact_name"]


def test_buttons_are_pressed_with_a_slash_number_and_the_hint_says_so(engine: Engine) -> None:
    console = plain(engine)
    console.send("/start")
    shown = output(console)
    assert "[/1] 中文  [/2] English" in shown
    assert "(type /1 to /2 to press a button; anything else you type is sent as text)" in shown
    assert [r.key for r in console.send("/2") if r.command_menu is None] == ["language_set", "menu"]


def test_old_numbers_lapse_after_a_message_without_buttons(engine: Engine) -> None:
    console = plain(engine)
    console.send("/start")
    console.send("/help")
    output(console)
    assert console.send("/1") == []
    assert output(console).strip() == "There is no button /1: the last message has no buttons."


def test_files_the_bot_sends_are_saved_and_their_path_printed(tmp_path: Path) -> None:
    done = run_cli(["console", "--lang", "en"], "/export csv\n", tmp_path, ADMIN_IDS="1")
    [saved] = list((tmp_path / "salescoach-files").glob("needs-*.csv"))
    assert f"(file saved: salescoach-files/{saved.name}, " in done.stdout
    done = run_cli(["console", "--lang", "en", "--files", "out/exports"], "/export csv\n", tmp_path, ADMIN_IDS="1")
    assert len(list((tmp_path / "out" / "exports").glob("needs-*.csv"))) == 1


def test_a_chart_is_saved_and_its_path_printed_with_what_it_shows(engine: Engine, tmp_path: Path) -> None:
    setup_results(engine)
    trainer = plain(engine, user_id=2, files=tmp_path)
    trainer.send("/results plum_case")
    shown = output(trainer)
    assert f"[picture saved: {tmp_path / 'plum_case-scores.png'}; what it shows:]\n📊 Chart: the scores of the 2 reps who finished" in shown
    assert_picture((tmp_path / "plum_case-scores.png").read_bytes(), charts.SIZE)


def test_without_a_chinese_font_the_console_gives_the_chart_in_words_and_the_log_says_what_to_install(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A console on a machine without fonts-noto-cjk: the trainer still gets the results, the chart
    as what it shows in words, and nothing is saved as a picture with empty boxes."""

    def no_font(dirs: tuple[Path, ...] | None = None) -> list[Path]:
        raise fonts.MissingCjkFont("no CJK font found for drawing Chinese labels; install Debian's fonts-noto-cjk")

    monkeypatch.setattr(fonts, "cjk_font_files", no_font)
    fonts.installed_cjk_fonts.cache_clear()
    fonts.families.cache_clear()
    try:
        setup_results(engine)
        trainer = plain(engine, user_id=2, files=tmp_path / "files")
        trainer.send("/results plum_case")
        shown = output(trainer)
    finally:
        fonts.installed_cjk_fonts.cache_clear()
        fonts.families.cache_clear()
    assert "📊 Chart: the scores of the 2 reps who finished" in shown and "picture saved" not in shown
    assert not (tmp_path / "files").exists() or list((tmp_path / "files").iterdir()) == []
    assert "install Debian's fonts-noto-cjk" in caplog.text


def test_a_push_from_the_console_says_delivery_waits_for_the_telegram_bot(engine: Engine) -> None:
    with Session(engine.db) as session:
        team = create_team(session, "east")
        grant_role(session, 2, "trainer", 42)
        add_member(session, 2, team.id)
        session.add(User(id=1000, name="rep1000", lang="en", chat_id=1000))
        add_member(session, 1000, team.id)
        session.commit()
    trainer = plain(engine, 2)
    trainer.send("/push plum_case east")
    assert "the messages go out when the Telegram bot runs, `salescoach run`" in output(trainer)


class Terminal:
    """The console's side of a pseudo-terminal, read up to what the test waits for."""

    def __init__(self, fd: int) -> None:
        self.fd, self.pending = fd, ""

    def expect(self, wanted: str, limit: float = 60.0) -> str:
        """Everything shown up to and including `wanted`; `limit` seconds is a guard, not a timing."""
        deadline = time.monotonic() + limit
        while wanted not in self.pending and time.monotonic() < deadline:
            if select.select([self.fd], [], [], 1.0)[0]:
                self.pending += os.read(self.fd, 4096).decode("utf-8", "replace")
        assert wanted in self.pending, f"{wanted!r} never shown; got {self.pending!r}"
        shown, _, self.pending = self.pending.partition(wanted)
        return shown + wanted


def test_an_interactive_console_has_history(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"} | {"DATABASE_URL": f"sqlite:///{tmp_path / 'tty.db'}", "TERM": "xterm"}
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tmp_path)
        os.execve(sys.executable, [sys.executable, "-m", "bot", "console", "--lang", "en"], env)
    terminal = Terminal(fd)
    try:
        terminal.expect("> ")
        os.write(fd, b"/whoami\r")
        terminal.expect("User id: 1")
        terminal.expect("> ")
        os.write(fd, b"\x1b[A\r")  # arrow up: readline brings back the last line
        terminal.expect("User id: 1")
        terminal.expect("> ")
        os.write(fd, b"\x04")  # Ctrl-D
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.close(fd)
