"""The `salescoach` command as a user meets it: every expected failure is one line on stderr and
exit 1 (run time) or 2 (usage or setting), never a traceback; a real bug says how to report it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from string import Formatter

import pytest
from sqlmodel import Session

from bot.settings import Settings
from dialogs.engine import Engine
from knowledge.cli import cli_copy
from storage.access import create_team
from tests.cli_lines import in_english
from tests.e2e.bot_process import TOKEN, free_port
from tests.test_needs_manage import seed

ROOT = Path(__file__).parent.parent


def environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The parent's environment without bot settings, a database in `tmp_path`, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "ADMIN_", "KNOWLEDGE_", "LOG_", "XAPI_", "BOT_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"} | settings)
    return env


def salescoach(tmp_path: Path, *args: str, stdin: str = "", **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` run to its end in `tmp_path`."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, cwd=tmp_path, env=environment(tmp_path, **settings), timeout=120
    )


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a failed command, after checking its exit code and that no traceback showed."""
    assert "Traceback" not in done.stderr
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("salescoach: ")
    return lines[0]


def failure(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The English half of the single line a failed command says in both languages."""
    return in_english(one_line(done, code))


BAD_SETTINGS = [
    ("LOG_LEVEL", "verbose", "bad setting LOG_LEVEL='verbose': use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("ADMIN_IDS", "ann,42", "bad setting ADMIN_IDS='ann,42': must be numeric Telegram user ids"),
    ("WEBHOOK_PORT", "99999", "bad setting WEBHOOK_PORT='99999'"),
    ("WEBHOOK_LISTEN", "http://0.0.0.0", "bad setting WEBHOOK_LISTEN='http://0.0.0.0': must be an IP address or host name to listen on, e.g. 127.0.0.1"),
    ("WEBHOOK_LISTEN", "300.1.1.1", "bad setting WEBHOOK_LISTEN='300.1.1.1': must be an IP address or host name"),
    ("LOG_FORMAT", "yaml", "bad setting LOG_FORMAT='yaml': Input should be 'text' or 'json'"),
    ("HEALTH_PORT", "http", "bad setting HEALTH_PORT='http'"),
    ("HEALTH_PORT", "0", "bad setting HEALTH_PORT='0'"),
    ("HEALTH_LISTEN", "0.0.0.0:8080", "bad setting HEALTH_LISTEN='0.0.0.0:8080': must be an IP address or host name to listen on"),
    (
        "BOT_USERNAME",
        "Sales Coach",
        "bad setting BOT_USERNAME='Sales Coach': must be your bot's username from @BotFather: 5 to 32 letters, digits or _, starting with a letter and ending in bot",
    ),
    ("BOT_USERNAME", "SalesCoach", "bad setting BOT_USERNAME='SalesCoach': must be your bot's username"),
    (
        "KNOWLEDGE_DIRS",
        "/nonexistent/content",
        "bad setting KNOWLEDGE_DIRS='/nonexistent/content': /nonexistent/content is not a folder; list folders laid out like knowledge/content",
    ),
    ("TELEGRAM_BASE_URL", "127.0.0.1:8081", "bad setting TELEGRAM_BASE_URL='127.0.0.1:8081': must start with https://"),
    ("TIMEZONE", "Beijing", "bad setting TIMEZONE='Beijing': not a timezone; use an IANA name such as Asia/Shanghai"),
    ("XAPI_BASE_URL", "lms.example.org", "bad setting XAPI_BASE_URL='lms.example.org': must start with https://"),
    (
        "DATABASE_URL",
        "mysql://u:secret@db/coach",
        "bad setting DATABASE_URL: 'mysql' is not a supported database; use sqlite:///salescoach.db or postgresql+psycopg://",
    ),
    (
        "DATABASE_URL",
        "postgresql+psycopg://u:secret@db:port/coach",
        "bad setting DATABASE_URL: not a database address; use sqlite:///salescoach.db or postgresql+psycopg://",
    ),
]

# Checked when the command that needs them starts: the token in tests/test_start_console.py,
# the webhook's URL and secret in tests/e2e/test_webhook.py.
CHECKED_BY_THEIR_COMMAND = frozenset({"TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET"})


def test_every_setting_is_listed_in_env_example_and_has_a_bad_value_tried() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    bot_part = (ROOT / ".env.example").read_text(encoding="utf-8").split("# docker compose", 1)[0]  # then compose's own variables
    listed = {line.split("=", 1)[0] for line in bot_part.splitlines() if line and not line.startswith("#")}
    assert fields == listed
    assert fields == {name for name, _, _ in BAD_SETTINGS} | CHECKED_BY_THEIR_COMMAND


@pytest.mark.parametrize(("name", "value", "says"), BAD_SETTINGS)
def test_every_setting_is_checked_at_start(tmp_path: Path, name: str, value: str, says: str) -> None:
    line = failure(salescoach(tmp_path, "validate", **{name: value}), 2)
    assert line.startswith(f"salescoach: {says}") and line.endswith(".env.example lists every setting)")
    assert "secret" not in line


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://coach:secret@127.0.0.1:{free_port()}/coach"
    line = failure(salescoach(tmp_path, "console", DATABASE_URL=url), 1)
    assert line.startswith("salescoach: cannot open the database postgresql+psycopg://coach:***@127.0.0.1:")
    assert "secret" not in line and line.endswith("check DATABASE_URL and that the server is running and reachable")


def test_a_bot_username_may_be_written_with_its_at(tmp_path: Path) -> None:
    done = salescoach(tmp_path, "console", stdin="/invite rep\n", BOT_USERNAME="@AcmeCoachBot", ADMIN_IDS="1")
    assert done.returncode == 0, done.stderr
    assert "https://t.me/AcmeCoachBot?start=" in done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("webhook", "--listen", "my host"),
            "salescoach: argument --listen: 'my host' must be an IP address or host name to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every network interface); see salescoach webhook --help",
        ),
        (("webhook", "--port", "0"), "salescoach: argument --port: '0' is not a port number (1 to 65535); see salescoach webhook --help"),
        (
            ("export", "needs", "--format", "pdf", "--out", "x.pdf"),
            "salescoach: argument --format: invalid choice: 'pdf' (choose from 'csv', 'xlsx', 'html', 'jsonl'); see salescoach export --help",
        ),
        (
            ("nosuch",),
            "salescoach: argument command: invalid choice: 'nosuch' (choose from 'console', 'run', 'webhook', 'validate', 'graph', 'classify', 'eval', 'export', 'db', 'backup'); see salescoach --help",
        ),
    ],
)
def test_a_usage_error_is_one_line_that_points_to_the_help(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    assert failure(salescoach(tmp_path, *args), 2) == says


@contextlib.contextmanager
def port_taken(port: int) -> Iterator[None]:
    """Another program listening on `port` of 127.0.0.1 meanwhile."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        yield


def test_a_webhook_port_in_use_is_named(tmp_path: Path) -> None:
    port = free_port()
    with port_taken(port):
        done = salescoach(tmp_path, "webhook", "--url", "https://coach.example/hook", "--port", str(port), TELEGRAM_BOT_TOKEN=TOKEN, WEBHOOK_SECRET="s3cret")
    line = failure(done, 1)
    assert (
        line
        == f"salescoach: cannot listen on 127.0.0.1:{port}: Address already in use; the address must be this machine's and the port free (WEBHOOK_LISTEN and WEBHOOK_PORT, or --listen and --port)"
    )


@pytest.mark.parametrize("command", [("graph", "plum"), ("export", "needs", "--format", "csv")])
def test_a_missing_output_folder_is_named(tmp_path: Path, command: tuple[str, ...]) -> None:
    line = failure(salescoach(tmp_path, *command, "--out", str(tmp_path / "nowhere" / "file")), 2)
    assert line == f"salescoach: the folder {tmp_path / 'nowhere'} does not exist; create it (mkdir -p {tmp_path / 'nowhere'}) or choose another --out"


def test_a_files_folder_the_console_cannot_make_is_named(tmp_path: Path) -> None:
    (tmp_path / "report.csv").write_text("", encoding="utf-8")
    line = failure(salescoach(tmp_path, "console", "--files", "report.csv/exports", stdin="/start\n"), 2)
    assert (
        line == f"salescoach: cannot keep files in report.csv/exports: {tmp_path / 'report.csv'} is not a folder you can write to; choose another --files DIR"
    )


def test_ctrl_c_in_the_console_exits_quietly(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
    ) as console:
        assert console.stdin is not None and console.stdout is not None and console.stderr is not None
        console.stdin.write("/start\n")
        console.stdin.flush()
        assert "SalesCoach" in console.stdout.readline()
        console.send_signal(signal.SIGINT)
        assert console.wait(timeout=60) == 130
        assert console.stderr.read() == ""


def test_run_without_telegram_says_so_and_retries_with_backoff(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--base-url", nowhere],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN),
    ) as bot:
        assert bot.stderr is not None
        first, second = bot.stderr.readline(), bot.stderr.readline()
        bot.send_signal(signal.SIGINT)
        assert bot.wait(timeout=60) == 130
        assert in_english(first).startswith(f"salescoach: cannot reach Telegram at {nowhere} (") and first.endswith("retrying in 1 s (Ctrl-C stops)\n")
        assert second.endswith("retrying in 2 s (Ctrl-C stops)\n")
        assert "Traceback" not in bot.stderr.read()


def test_output_piped_into_a_reader_that_stops_ends_quietly(tmp_path: Path) -> None:
    questions = tmp_path / "questions.txt"
    questions.write_text("".join(f"What keeps you up at night, question {n}?\n" for n in range(5000)), encoding="utf-8")
    with (
        questions.open() as stdin,
        subprocess.Popen(
            [sys.executable, "-m", "bot", "classify"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=environment(tmp_path),
        ) as classify,
    ):
        assert classify.stdout is not None and classify.stderr is not None
        assert classify.stdout.readline().startswith("{")
        classify.stdout.close()
        assert classify.wait(timeout=120) == 1
        assert classify.stderr.read() == ""


def test_a_real_bug_shows_its_traceback_and_how_to_report_it(tmp_path: Path) -> None:
    code = "import bot.cli.content as c; c.cmd_validate = lambda args, settings: 1 / 0; from bot.cli.main import main; main(['validate'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment(tmp_path), timeout=120)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "ZeroDivisionError" in done.stderr
    assert in_english(done.stderr.strip().splitlines()[-1]).startswith("salescoach: this is a bug in SalesCoach, not something you did; please report it")


def test_debug_shows_the_traceback_behind_an_expected_failure(tmp_path: Path) -> None:
    done = salescoach(tmp_path, "--debug", "graph", "nosuch")
    assert done.returncode == 2 and "Traceback" in done.stderr
    assert in_english(done.stderr.strip().splitlines()[-1]).startswith("salescoach: no scenario or dialog called 'nosuch'")


def test_version(tmp_path: Path) -> None:
    done = salescoach(tmp_path, "--version")
    assert done.returncode == 0 and done.stdout.strip().startswith("salescoach ") and done.stdout.strip()[-1].isdigit()


def test_exports_say_how_many_records_they_wrote_and_refuse_an_unknown_quiz(tmp_path: Path) -> None:
    for what, fmt in (("needs", "csv"), ("roleplays", "jsonl"), ("quiz-results", "xlsx")):
        out = tmp_path / f"{what}.{fmt}"
        done = salescoach(tmp_path, "export", what, "--format", fmt, "--out", str(out))
        assert in_english(one_line(done, 0)) == f"salescoach: wrote 0 records to {out}" and out.exists()
    line = failure(salescoach(tmp_path, "export", "quiz-results", "--format", "csv", "--out", "x.csv", "--quiz", "nosuch"), 2)
    assert line.startswith("salescoach: no quiz called 'nosuch'; use one of: big_accounts, ") and not (tmp_path / "x.csv").exists()
    line = failure(salescoach(tmp_path, "export", "needs", "--format", "csv", "--out", "x.csv", "--priority", "p7"), 2)
    assert line == "salescoach: --priority 'p7' is not a priority; use one of p1, p2, p3"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("roleplays", "--scenario", "nosuch"),
            "salescoach: no scenario called 'nosuch'; use one of: insurance_call, liquor_hotel, mop, plum, plum_two_days, telecom_group",
        ),
        (("needs", "--team", "nosuch"), "salescoach: no team called 'nosuch'; there are no teams yet (an admin makes them with /team)"),
        (("needs", "--rep", "Nobody Here"), "salescoach: --rep 'Nobody Here' matches nobody; give a rep's Telegram id or a part of their name"),
        (("needs", "--rep", "4242"), "salescoach: --rep '4242' matches nobody; give a rep's Telegram id or a part of their name"),
        (
            ("needs", "--quiz", "plum_case"),
            "salescoach: --quiz does not apply to needs exports, which take --rep, --team, --tag, --priority, --source, --from, --to, --search, --lang",
        ),
        (("quiz-results", "--scenario", "plum"), "salescoach: --scenario does not apply to quiz-results exports, which take --quiz"),
    ],
)
def test_an_export_refuses_an_unknown_id_or_an_option_it_does_not_take(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    assert failure(salescoach(tmp_path, "export", *args, "--format", "csv", "--out", "out.csv"), 2) == says
    assert not (tmp_path / "out.csv").exists()


def test_a_roleplay_export_keeps_to_its_scenario(tmp_path: Path) -> None:
    salescoach(tmp_path, "console", "--lang", "en", stdin="/roleplay plum\nHello!\n/end\n")
    for scenario, records in (("plum", 1), ("mop", 0)):
        done = salescoach(tmp_path, "export", "roleplays", "--scenario", scenario, "--format", "jsonl", "--out", f"{scenario}.jsonl")
        assert in_english(one_line(done, 0)).startswith(f"salescoach: wrote {records} record")
        assert len((tmp_path / f"{scenario}.jsonl").read_text(encoding="utf-8").splitlines()) == records


def test_a_record_is_counted_in_the_singular(tmp_path: Path) -> None:
    salescoach(tmp_path, "console", "--lang", "en", stdin="/roleplay plum\nnice weather today.\n")
    out = tmp_path / "unmatched.jsonl"
    assert (
        one_line(salescoach(tmp_path, "export", "unmatched", "--format", "jsonl", "--out", str(out)), 0)
        == f"salescoach: 已写入 1 条记录：{out} / wrote 1 record to {out}"
    )
    (tmp_path / "one.yaml").write_text("- {text: 'What do you sell today?', lang: en, spin: situation, form: open}\n", encoding="utf-8")
    done = salescoach(tmp_path, "eval", "one.yaml")
    assert done.returncode == 0 and done.stdout.splitlines()[0] == "one.yaml: 1 utterance"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        (
            "missing.tsv",
            None,
            "salescoach: missing.tsv is neither a labelled file nor a folder of role-play scripts; give a .yaml, .jsonl or .tsv file or a folder of *.jsonl scripts",
        ),
        (
            "broken.yaml",
            "- {text: 'What do you sell\n",
            "salescoach: broken.yaml:2: not valid YAML (found unexpected end of stream); check indentation and quoting",
        ),
        (
            "broken.jsonl",
            '{"text": "What do you sell?"\n',
            "salescoach: broken.jsonl:1: not valid JSON (Expecting ',' delimiter); write one JSON object per line",
        ),
        (
            "french.yaml",
            "- {text: 'Que vendez-vous ?', lang: fr, spin: situation, form: open}\n",
            "salescoach: french.yaml: item 1: Input should be 'zh' or 'en'",
        ),
    ],
)
def test_eval_names_a_file_it_cannot_read(tmp_path: Path, name: str, text: str | None, says: str) -> None:
    if text is not None:
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert failure(salescoach(tmp_path, "eval", name), 2) == says


GOOD_SCRIPT = '{"id": "p1", "scenario": "plum", "lang": "en", "level": "poor", "rep": ["Hello, do you want plums?"]}'
EVERY_FIELD = "every script needs id, scenario, lang, level, rep"


@pytest.mark.parametrize(
    ("second", "says"),
    [
        ('{"scenario": "plum", "lang": "en", "level": "poor", "rep": ["Hi"]}', f"scripts/poor.jsonl:2: the script has no id; {EVERY_FIELD}"),
        ('{"id": "p2", "scenario": "plum", "lang": "en", "level": "poor"}', f"scripts/poor.jsonl:2: the script has no rep; {EVERY_FIELD}"),
        (
            '{"id": "p2", "scenario": "plum", "lang": "en", "level": "expert", "rep": ["Hi"]}',
            "scripts/poor.jsonl:2: level must be one of poor, medium, skilled",
        ),
        (
            '{"id": "p2", "scenario": "plum", "lang": "en", "level": "poor", "rep": "Hi"}',
            "scripts/poor.jsonl:2: rep must be a list of the rep's lines (one string each)",
        ),
        ('["p2", "plum"]', "scripts/poor.jsonl:2: not a script; write one JSON object per line, with id, scenario, lang, level, rep"),
        ('{"id": "p2",', "scripts/poor.jsonl:2: not valid JSON (Expecting property name enclosed in double quotes); write one JSON object per line"),
    ],
)
def test_eval_names_the_script_file_line_and_field_it_cannot_use(tmp_path: Path, second: str, says: str) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "poor.jsonl").write_text(f"{GOOD_SCRIPT}\n{second}\n", encoding="utf-8")
    assert failure(salescoach(tmp_path, "eval", "scripts"), 2) == f"salescoach: {says}"


def test_a_script_without_an_id_is_named_in_chinese_first(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "poor.jsonl").write_text('{"scenario": "plum", "lang": "zh", "level": "poor", "rep": ["你好"]}\n', encoding="utf-8")
    assert one_line(salescoach(tmp_path, "eval", "scripts"), 2).startswith("salescoach: scripts/poor.jsonl:1：脚本缺少 id；每个脚本都要有 id, scenario")


def test_export_help_lists_the_values_each_option_takes(tmp_path: Path) -> None:
    done = salescoach(tmp_path, "export", "--help")
    text = " ".join(done.stdout.split())
    assert "p1 (important and urgent), p2 (important, not urgent) or p3 (follow up later)" in text
    assert "field (logged with /need, the default), roleplay (uncovered in role-plays) or all" in text
    assert "this from" not in text and "matching this" not in text


def test_help_and_failures_say_it_in_chinese_then_english(tmp_path: Path) -> None:
    text = " ".join(salescoach(tmp_path, "export", "--help").stdout.split())
    assert text.startswith("用法 / usage: salescoach export")
    assert "参数 / positional arguments:" in text and "选项 / options:" in text
    assert "-h, --help 显示这段帮助并退出 / show this help message and exit" in text
    assert "needs：只要这个优先级：p1（重要且紧急）、p2（重要不紧急）或 p3（以后跟进） / needs: only this priority: p1" in text
    assert "SalesCoach：在 Telegram 上辅导销售代表的机器人。 / SalesCoach: a Telegram bot" in salescoach(tmp_path, "--help").stdout
    line = one_line(salescoach(tmp_path, "export", "quiz-results", "--format", "csv", "--out", "x.csv", "--quiz", "nosuch"), 2)
    assert line.startswith("salescoach: 没有叫 'nosuch' 的测验；请用其中一个：big_accounts, ") and " / no quiz called 'nosuch'; use one of: " in line
    line = one_line(salescoach(tmp_path, "webhook", TELEGRAM_BOT_TOKEN=TOKEN), 2)
    assert (
        line
        == "salescoach: 没有设置 WEBHOOK_URL（Telegram 推送更新的公网 URL）；见 .env.example / WEBHOOK_URL is not set (the public URL Telegram posts updates to); see .env.example"
    )


def test_each_text_of_the_command_line_fills_in_the_same_values_in_both_languages() -> None:
    copy = cli_copy()
    for key, text in [*copy.help.items(), *copy.lines.items()]:
        assert {name for _, name, _, _ in Formatter().parse(text.zh) if name} == {name for _, name, _, _ in Formatter().parse(text.en) if name}, key
    assert not any("%" in text.zh + text.en for text in copy.help.values()), "argparse reads % in a help text as a placeholder"


README_ROW = re.compile(r"^\| (?P<when>[^|]+?) \| (?:the traceback, then )?`(?P<line>[^`]+)` \| (?P<exit>\d+|—) \|$", re.MULTILINE)


def readme_lines() -> dict[str, tuple[str, str]]:
    """The README's table of what the command line says: when → (the line, the exit code)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### What the command line says") : readme.index("## In the chat")]
    return {row["when"]: (row["line"], row["exit"]) for row in README_ROW.finditer(table)}


def said(tmp_path: Path, when: str, db_url: str) -> tuple[str, str]:
    """Runs what the README's row `when` describes; the line the user reads (with this test's
    ports and folders written as the README writes them) and the exit code."""
    export = ("export", "needs", "--format", "csv", "--out")
    port = free_port()
    cases: dict[str, tuple[tuple[str, ...], dict[str, str], dict[str, str]]] = {
        "an export finished": ((*export, "needs.csv"), {}, {}),
        "a bad setting": (("validate",), {"LOG_LEVEL": "verbose"}, {}),
        "a database the bot has no driver for": (("validate",), {"DATABASE_URL": "mysql://coach:secret@db/coach"}, {}),
        "the database cannot be reached": (
            ("console",),
            {"DATABASE_URL": f"postgresql+psycopg://coach:secret@127.0.0.1:{port}/coach"},
            {f"127.0.0.1:{port}": "db:5432"},
        ),
        "`--out` in a folder that does not exist": ((*export, str(tmp_path / "reports" / "needs.csv")), {}, {str(tmp_path): "/home/me"}),
        "an unknown quiz": (("export", "quiz-results", "--format", "csv", "--out", "x.csv", "--quiz", "nosuch"), {}, {}),
        "a filter value that does not exist": ((*export, "x.csv", "--priority", "p7"), {}, {}),
        "a team that does not exist": ((*export, "x.csv", "--team", "west"), {}, {}),
        "an option the export does not take": ((*export, "x.csv", "--quiz", "plum_case"), {}, {}),
        "a value an option does not take, or a mistyped command": (("export", "needs", "--format", "pdf", "--out", "x.pdf"), {}, {}),
        "content that does not validate (each problem follows on a line of its own, as `salescoach validate` prints it)": (
            ("console",),
            {"KNOWLEDGE_DIRS": str(ROOT / "tests" / "fixtures" / "broken")},
            {},
        ),
        "no token": (("run",), {}, {}),
        "the webhook's port is taken, or its address is not this machine's": (
            ("webhook", "--url", "https://coach.example/hook", "--port", str(port)),
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "s3cret"},
            {f"127.0.0.1:{port}": "127.0.0.1:8443"},
        ),
    }
    if when.startswith("Telegram cannot be reached"):
        nowhere = f"http://127.0.0.1:{port}"
        with subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--base-url", nowhere],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=environment(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN),
        ) as bot:
            assert bot.stderr is not None
            bot.stderr.readline()
            second = bot.stderr.readline()
            bot.send_signal(signal.SIGINT)
            bot.wait(timeout=60)
        return second.strip().replace(nowhere, "https://api.telegram.org"), "—"
    if when.startswith("no font that draws Chinese"):
        code = "import dialogs.pictures.fonts as f; f.FONT_DIRS = (); from bot.cli.main import main; main(['run'])"
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN), timeout=120
        )
        return done.stderr.strip().splitlines()[-1], str(done.returncode)
    if when == "a bug in SalesCoach":
        code = "import bot.cli.content as c; c.cmd_validate = lambda args, settings: 1 / 0; from bot.cli.main import main; main(['validate'])"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environment(tmp_path), timeout=120)
        return done.stderr.strip().splitlines()[-1], str(done.returncode)
    args, settings, shown_as = cases[when]
    with port_taken(port) if args[0] == "webhook" else contextlib.nullcontext():
        done = salescoach(tmp_path, *args, **({"DATABASE_URL": db_url} | settings))
    assert "Traceback" not in done.stderr
    line = done.stderr.splitlines()[0]
    for actual, readme in shown_as.items():
        line = line.replace(actual, readme)
    return line, str(done.returncode)


def test_the_readme_shows_what_the_command_line_says(engine: Engine, db_url: str, tmp_path: Path) -> None:
    """Each example line in the README's table is what the command says, `…` standing for the rest."""
    seed(engine, 42)
    with Session(engine.db) as session:
        create_team(session, "east")
        create_team(session, "north")
        session.commit()
    rows = readme_lines()
    assert len(rows) >= 14
    for when, (line, code) in rows.items():
        pattern = re.escape(line).replace("…", ".*")
        actual, actual_code = said(tmp_path, when, db_url)
        assert re.fullmatch(pattern, actual), (when, actual)
        assert actual_code == code, (when, actual_code)
