"""Button callback data: every dialog-state version round-trips, and none reads as a global button."""

from __future__ import annotations

from dialogs.core.callback import decode, encode


def test_every_stamp_round_trips_and_never_reads_as_global() -> None:
    for version in range(5000):
        press = decode(encode("sp:back", version))
        assert press is not None and press.stamp == version and press.action == "sp:back"
    assert decode(encode("go:spin", None)) == decode("1|g|go:spin")
    assert decode("1|g|go:spin") is not None and decode("1|g|go:spin").stamp is None  # type: ignore[union-attr]
