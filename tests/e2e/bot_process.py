"""The real bot as a process of its own (`python -m bot run|webhook`), pointed at the emulator."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from tests.e2e.emulator import Emulator

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-e2e-token-for-the-local-emulator"
SECRET = "e2e-webhook-secret_0123456789"
ADMINS = tuple(range(900_001, 900_065))
EXTRA_CONTENT = ROOT / "tests" / "fixtures" / "content"
MODES = ("polling", "webhook")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotProcess:
    """`salescoach run` (polling) or `salescoach webhook` against the emulator, with its own
    SQLite file or the `database` given, and any further `settings`; everything it logs goes to
    `bot.log` in `workdir`. Several webhook processes behind one address (a load balancer) are
    given its `public_url`."""

    def __init__(
        self,
        mode: str,
        emulator: Emulator,
        workdir: Path,
        admins: tuple[int, ...] = ADMINS,
        *,
        database: str | None = None,
        public_url: str | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.mode, self.emulator, self.workdir, self.admins = mode, emulator, workdir, admins
        self.database = database or f"sqlite:///{workdir / 'bot.db'}"
        self.settings = settings or {}
        self.log_path = workdir / "bot.log"
        self.webhook_port = free_port()
        self.webhook_url = public_url or f"http://127.0.0.1:{self.webhook_port}/telegram/hook"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def environment(self) -> dict[str, str]:
        """The parent's environment without any bot settings, plus the ones for this run."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "ADMIN_", "KNOWLEDGE_"))}
        env.update(
            TELEGRAM_BOT_TOKEN=TOKEN,
            DATABASE_URL=self.database,
            ADMIN_IDS=",".join(map(str, self.admins)),
            KNOWLEDGE_DIRS=str(EXTRA_CONTENT),
            LOG_LEVEL="INFO",
            WEBHOOK_SECRET=SECRET,
        )
        return env | self.settings

    def command(self) -> list[str]:
        if self.mode == "polling":
            return [sys.executable, "-m", "bot", "run", "--base-url", self.emulator.base_url]
        return [
            sys.executable,
            "-m",
            "bot",
            "webhook",
            "--base-url",
            self.emulator.base_url,
            "--url",
            self.webhook_url,
            "--listen",
            "127.0.0.1",
            "--port",
            str(self.webhook_port),
        ]

    def start(self, timeout: float = 30) -> BotProcess:
        """Starts the bot (again, after `kill`) and waits until it takes updates (polls, or has
        set its webhook and listens); its log goes on in the same file."""
        self._log = self.log_path.open("ab")
        polls = self.emulator.polls
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.environment(), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while not self.ready(polls):
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot exited with {self.process.returncode} while starting:\n{self.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start within {timeout:.0f}s:\n{self.log()}")
            time.sleep(0.05)
        return self

    def cpu_seconds(self) -> float:
        """The CPU time the bot has used so far (Linux: /proc/PID/stat), its threads together."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settled(self, busy: float = 0.1, over: float = 0.5, timeout: float = 60) -> float:
        """Waits until the bot has finished starting: it polls before it has loaded what reading
        messages needs (Engine.warm_in_background, about two seconds of CPU), and is settled once it
        used under `busy` of a core over `over` seconds. Returns the seconds waited."""
        started = time.monotonic()
        used = self.cpu_seconds()
        while True:
            time.sleep(over)
            now = self.cpu_seconds()
            if now - used < busy * over:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"the bot was still busy {timeout:.0f}s after it started:\n{self.log()}")
            used = now

    def ready(self, polls: int) -> bool:
        if self.mode == "polling":
            return self.emulator.polls > polls
        if self.emulator.webhook is None or self.emulator.webhook.url != self.webhook_url:
            return False
        try:
            socket.create_connection(("127.0.0.1", self.webhook_port), timeout=0.2).close()
        except OSError:
            return False
        return True

    def stop(self, timeout: float = 15) -> int | None:
        """Asks the bot to shut down as a service manager would (SIGTERM), kills it if it hangs;
        returns its exit code (None if it had to be killed)."""
        if self.process is None:
            return None
        code: int | None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                code = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                code = None
        else:
            code = self.process.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def kill(self) -> None:
        """kill -9: the bot stops wherever it is, with no chance to finish anything."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        """Everything the bot wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
