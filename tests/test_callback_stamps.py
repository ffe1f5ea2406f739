"""Button stamps: a dialog button is never mistaken for a global one, whatever the version."""

from __future__ import annotations

from dialogs.callback import decode, encode


def test_every_version_round_trips_and_none_reads_as_global() -> None:
    for version in range(0, 2000):
        press = decode(encode("nsave", version))
        assert press is not None and press.stamp == version, version
    assert decode(encode("go:menu", None)) == decode("1|g|go:menu")
    assert decode("1|g|go:menu") is not None and decode("1|g|go:menu").stamp is None  # type: ignore[union-attr]
