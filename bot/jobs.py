"""Periodic jobs that run once per deployment however many bot processes run: each run first
takes or renews the job's lease in the database (storage/leases.py), and a process that does not
hold it skips the run. A holder killed with kill -9 stops renewing; its lease expires within
LEASE seconds and the next process to try takes the job over."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Engine as DbEngine
from telegram.ext import ContextTypes

from storage import leases

LEASE = 5.0
Job = Callable[[ContextTypes.DEFAULT_TYPE], Awaitable[object]]


class Lease:
    """One job's lease, as this process (`owner`) holds it."""

    def __init__(self, db: DbEngine, job: str, owner: str, seconds: float = LEASE) -> None:
        self.db, self.job, self.owner, self.seconds = db, job, owner, seconds

    async def held(self) -> bool:
        """Takes or renews the lease: True while this process runs the job."""
        return await asyncio.to_thread(leases.hold, self.db, self.job, self.owner, time.time(), self.seconds)

    async def let_go(self) -> None:
        """Gives the lease up (this process stops), so another takes the job at once."""
        await asyncio.to_thread(leases.let_go, self.db, self.job, self.owner)


def once_per_deployment(lease: Lease, job: Job) -> Job:
    """`job` as a JobQueue callback that runs only in the process holding `lease`."""

    async def run(context: ContextTypes.DEFAULT_TYPE) -> None:
        if await lease.held():
            await job(context)

    return run
