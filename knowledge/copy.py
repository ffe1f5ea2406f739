"""Short copy: button labels, command descriptions and the customer's stock lines, in zh and en."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from knowledge.loader import parse
from knowledge.schema import Text

COPY_FILE = Path(__file__).resolve().parent / "copy.yaml"


class Copy(BaseModel):
    """The labels and command descriptions; unknown keys at the top level are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    labels: dict[str, Text]
    commands: dict[str, Text]
    customer_asked_already: list[Text]
    customer_upsell_why: list[Text]

    def label(self, key: str, lang: str) -> str:
        """A button label in the user's language; a missing key is a programming error."""
        return self.labels[key].get(lang)


@lru_cache(maxsize=1)
def copy_text() -> Copy:
    """The shipped copy, read once."""
    return Copy.model_validate(parse(COPY_FILE.read_text(encoding="utf-8")))
