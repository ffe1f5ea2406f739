"""What the `salescoach` command says (knowledge/cli.yaml): its help texts and its one-line
failures, shown Chinese first, then English."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from knowledge.loader import parse
from knowledge.schema import Text
from knowledge.templates import counted

CLI_FILE = Path(__file__).resolve().parent / "cli.yaml"


class CliCopy(BaseModel):
    """The command line's help texts and lines, by key; unknown keys at the top level are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    help: dict[str, Text]
    lines: dict[str, Text]


@lru_cache(maxsize=1)
def cli_copy() -> CliCopy:
    """The shipped command-line copy, read once."""
    return CliCopy.model_validate(parse(CLI_FILE.read_text(encoding="utf-8")))


def both(text: Text, **values: object) -> str:
    """`中文 / English`: a text in both languages on one line, Chinese first, `values` filled in
    (a value that is itself a Text in the same language as the text around it)."""

    def filled(lang: str) -> str:
        return text.get(lang).format(**{name: value.get(lang) if isinstance(value, Text) else value for name, value in values.items()})

    return f"{filled('zh')} / {filled('en')}"


def phrase(key: str) -> Text:
    """A part of a line (knowledge/cli.yaml's lines) in both languages, to fill into another line."""
    return cli_copy().lines[key]


def counted_both(count: int, key: str) -> Text:
    """`42 条记录` / `42 records`: a count with its word (knowledge/cli.yaml's lines) in both languages,
    the English word in the right number (gettext's plural rule), to fill into another line."""
    word = phrase(key)
    return Text(zh=f"{count} {word.zh}", en=counted(count, word.en))


def help_text(key: str, **values: object) -> str:
    """A --help text in both languages."""
    return both(cli_copy().help[key], **values)


def line(key: str, **values: object) -> str:
    """A line the command prints (a failure, a warning) in both languages."""
    return both(cli_copy().lines[key], **values)
