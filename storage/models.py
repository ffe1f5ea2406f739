"""Tables. Small typed models, one per thing the bot remembers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, Index, LargeBinary, String, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Timestamps are stored in UTC."""
    return datetime.now(UTC)


class User(SQLModel, table=True):
    """Anyone who has talked to the bot; the id is their Telegram user id."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(default="", max_length=200)
    lang: str = Field(default="", max_length=8)
    # The language of their Telegram client (its language_code), kept for what the bot sends
    # them unasked (nudges, pushes) while they have not chosen one.
    lang_hint: str = Field(default="", max_length=16)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    # /leaderboard: listed on their teams' weekly boards only once they opt in, by `nickname` or first name.
    on_leaderboard: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    nickname: str = Field(default="", sa_column=Column(String(24), nullable=False, server_default=""))


class DialogState(SQLModel, table=True):
    """Where a user is in a dialog. `version` guards against two processes racing."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    dialog: str = Field(default="", max_length=40)
    state: str = Field(default="", max_length=60)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled, so a redelivered update is not handled twice."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    created_at: datetime = Field(default_factory=utcnow)


class InboxUpdate(SQLModel, table=True):
    """A Telegram update received but not yet handled (storage/inbox.py).

    Written before Telegram is told the update arrived (the next getUpdates offset, or the
    webhook's 200) and deleted once it has been handled; `user_key` (the sender, else the
    chat) keeps one person's updates in update_id order across processes. `claimed_by` is
    the process handling it now, since `claimed_at`; `tries` counts its claims.
    """

    __table_args__ = (Index("ix_inboxupdate_user", "user_key", "update_id"),)
    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    user_key: int = Field(sa_column=Column(BigInteger, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(default_factory=utcnow)
    claimed_by: str = Field(default="", max_length=120)
    claimed_at: datetime | None = None
    tries: int = 0


class OutboxMessage(SQLModel, table=True):
    """One Bot API call the bot owes a chat: a reply, written in the transaction of the update
    that produced it and sent afterwards (storage/outbox.py).

    `kind` is message, edit, document, photo, answer (a button press's answer) or commands (a
    chat's command menu); `payload` holds the rendered text, buttons and the like, `content` a
    document's or photo's bytes until it is sent. A chat's calls go out in id order. `tries` counts
    attempts, `unsure` those whose outcome is unknown (a timeout, or the sender died while
    sending): such a call may have been delivered, and is sent at most once more.
    """

    __table_args__ = (
        Index("ix_outbox_chat_open", "chat_id", "status", "id"),
        Index("ix_outbox_due", "status", "not_before"),
    )
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    update_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str = Field(max_length=12)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    query_id: str = Field(default="", max_length=64)
    edit_message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_of: int | None = None
    status: str = Field(default="pending", max_length=14)
    not_before: datetime = Field(default_factory=utcnow)
    claimed_by: str = Field(default="", max_length=120)
    claimed_at: datetime | None = None
    tries: int = 0
    unsure: int = 0
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sent_at: datetime | None = None
    error: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class RoleGrant(SQLModel, table=True):
    """A role held by a user beyond the default `rep` (admins also come from ADMIN_IDS)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(primary_key=True, max_length=16)
    granted_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    granted_at: datetime = Field(default_factory=utcnow)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """A user in a team (reps, trainers and managers alike)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    team_id: int = Field(primary_key=True, foreign_key="team.id")
    joined_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    """A deep-link invitation; only the hash of its code is stored."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(max_length=16)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    max_uses: int = 1
    uses: int = 0
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class InvitationUse(SQLModel, table=True):
    """Who used an invitation: one use per person, however often they open the link."""

    invitation_id: int = Field(foreign_key="invitation.id", primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    used_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did (or tried to do) a privileged thing, and when."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    action: str = Field(max_length=60)
    allowed: bool
    detail: str = Field(default="", max_length=300)


class QuizAttempt(SQLModel, table=True):
    """One run through a quiz (or through the questions missed last time)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    quiz_id: str = Field(max_length=40, index=True)
    mode: str = Field(default="full", max_length=8)
    question_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lang: str = Field(default="zh", max_length=8)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    correct: int = 0
    score: int | None = None
    passed: bool | None = None


class QuizAnswer(SQLModel, table=True):
    """A rep's answer to one question in one attempt; at most one per question."""

    attempt_id: int = Field(primary_key=True, foreign_key="quizattempt.id")
    question_id: str = Field(primary_key=True, max_length=40)
    chosen: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    correct: bool
    answered_at: datetime = Field(default_factory=utcnow)


class QuizPoll(SQLModel, table=True):
    """A native quiz poll sent to a rep, and what a vote in it answers: Telegram's poll answer
    names only the poll and the positions of the options chosen."""

    poll_id: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    attempt_id: int = Field(foreign_key="quizattempt.id", index=True)
    quiz_id: str = Field(max_length=40)
    question_id: str = Field(max_length=40)
    option_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sent_at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """A quiz pushed by a trainer to a team or to everyone, with an optional deadline; or a learning
    path assigned the same way (`path_id` set, `quiz_id` empty)."""

    id: int | None = Field(default=None, primary_key=True)
    quiz_id: str = Field(max_length=40, index=True)
    path_id: str | None = Field(default=None, max_length=40)
    created_by: int = Field(sa_column=Column(BigInteger, nullable=False))
    team_id: int | None = Field(default=None, foreign_key="team.id")
    deadline: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    progress_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    progress_message_id: int | None = None
    progress_shown: int = 0
    summary_sent: bool = False
    reminder_queued: bool = False


class Delivery(SQLModel, table=True):
    """One message of a push (invitation or reminder) to one rep.

    `claimed_by` is the sender working it since `claimed_at`; `unsure` counts attempts whose
    outcome is unknown (a timeout, or the sender died mid-send): the message may have been
    delivered then, and is sent at most once more."""

    __table_args__ = (
        UniqueConstraint("assignment_id", "kind", "user_id"),
        # The sender's claim: pending messages that are due, oldest first, without reading the sent ones.
        Index("ix_delivery_due", "status", "not_before", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    kind: str = Field(default="invite", max_length=10)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    status: str = Field(default="pending", max_length=14)
    not_before: datetime = Field(default_factory=utcnow)
    claimed_at: datetime | None = None
    claimed_by: str = Field(default="", max_length=120)
    sent_at: datetime | None = None
    tries: int = 0
    unsure: int = 0
    error: str = Field(default="", max_length=200)


class RolePlay(SQLModel, table=True):
    """One role-play of one rep: where the customer stands now, and the result once it ends."""

    # A scenario's export (storage/roleplays.export_records) finds its finished role-plays by this
    # index; /results, which it was made for, reads the tallies below since session 9.
    __table_args__ = (Index("ix_roleplay_results", "scenario_id", "finished_at", "user_id", "score", "outcome"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    scenario_id: str = Field(max_length=40)
    lang: str = Field(default="zh", max_length=8)
    state: str = Field(max_length=40)
    turns: int = 0
    strikes: int = 0
    goodwill: int = 0
    marks: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = Field(default=None, index=True)
    outcome: str | None = Field(default=None, max_length=40)
    score: int | None = None
    facts_uncovered: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    question_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class RolePlayTurn(SQLModel, table=True):
    """One exchange of a role-play: what the rep said (and how it was classified), what the customer answered."""

    __table_args__ = (UniqueConstraint("roleplay_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    roleplay_id: int = Field(foreign_key="roleplay.id", index=True)
    number: int
    rep_text: str
    suggested: bool = False
    verdict: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    move: str | None = Field(default=None, max_length=40)
    customer_text: str = ""
    at: datetime = Field(default_factory=utcnow)


class RolePlayTally(SQLModel, table=True):
    """Each rep's finished role-plays of a scenario that ended one way: how many, and their best
    score. Kept by storage/roleplay_tallies.py as role-plays end, so /results adds up a row per
    rep and outcome instead of reading every role-play (bench/reports_bench.py)."""

    scenario_id: str = Field(primary_key=True, max_length=40)
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    outcome: str = Field(primary_key=True, max_length=40)  # "abandoned" for a role-play ended without one
    played: int = 0
    best: int = 0


class FactTally(SQLModel, table=True):
    """How many of a rep's finished role-plays of a scenario uncovered each fact (kept as RolePlayTally is)."""

    scenario_id: str = Field(primary_key=True, max_length=40)
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    fact: str = Field(primary_key=True, max_length=40)
    count: int = 0


class UnmatchedTally(SQLModel, table=True):
    """How often a rep said one line the customer did not understand, in one state of a scenario,
    in any role-play; kept as each such turn is stored. Lines are told apart after stripping and
    lower-casing (`text`), by a digest of it, so keys stay short whatever the rep typed.

    /results adds up a scenario's rows line by line: in key order, SQLite reads them off the
    table's own b-tree (no rowid) with no sort."""

    __table_args__ = {"sqlite_with_rowid": False}
    scenario_id: str = Field(primary_key=True, max_length=40)
    digest: str = Field(primary_key=True, max_length=16)
    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    state: str = Field(primary_key=True, max_length=40)  # "" for turns stored before the state was kept
    text: str
    count: int = 0


class SpinStep(SQLModel, table=True):
    """A rep's progress in one step of the SPIN coach: rounds done, first-try hits, the current situation."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    stage: str = Field(primary_key=True, max_length=16)
    rounds_done: int = 0
    first_try: int = 0
    skipped: int = 0
    served: int = 0
    practice_id: str = Field(default="", max_length=40)
    tries: int = 0
    misses: int = 0
    finished_at: datetime | None = None


class StudyRecord(SQLModel, table=True):
    """Something a rep did that leaves no record of its own: a lesson read (`kind` lesson), or a
    drill of a script finished with `right` of its questions at the right stage (`kind` drill)."""

    __table_args__ = (Index("ix_studyrecord_user", "user_id", "kind", "item_id"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=10)
    item_id: str = Field(max_length=40)
    right: int = 0
    at: datetime = Field(default_factory=utcnow)


class Certificate(SQLModel, table=True):
    """A learning path completed: who, which path, when, and the code a manager checks with /verify.
    The name is the rep's as it was on the day."""

    __table_args__ = (UniqueConstraint("user_id", "path_id"),)
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=24, unique=True, index=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    path_id: str = Field(max_length=40)
    name: str = Field(default="", max_length=200)
    issued_at: datetime = Field(default_factory=utcnow)


class Need(SQLModel, table=True):
    """A customer need a rep captured (source `field`) or uncovered in a role-play (`roleplay`).

    `fields` holds every answer by form field id; customer, priority and search text are
    copied into columns so managers can filter on any database. `roleplay_id` is a plain
    number: the role-play record it came from.

    Lists and exports go newest first and page by (created_at, id), so each index below
    has those two after its equality columns: a page is read in index order, never sorted.
    The board and the exports filter on status and usually source; managers only see
    their teams' reps, so rep_id rides along at the end and counting a filtered team's needs
    reads the index alone (the board as it opens counts from NeedTally). Priority has buttons
    of its own; a rep's own list goes by rep_id. Tag, text and name filters are checked while
    walking one of these.
    """

    __table_args__ = (
        Index("ix_need_board", "status", "source", "created_at", "id", "rep_id"),
        Index("ix_need_status_created", "status", "created_at", "id"),
        Index("ix_need_priority_created", "status", "source", "priority", "created_at", "id"),
        Index("ix_need_rep_created", "rep_id", "created_at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    rep_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    source: str = Field(default="field", max_length=10)
    status: str = Field(default="active", max_length=10)
    lang: str = Field(default="zh", max_length=8)
    customer: str = Field(default="", max_length=200)
    priority: str = Field(default="", max_length=20)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    roleplay_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def ref(self) -> str:
        """The reference number a rep is given and quotes later."""
        return need_ref(self.id or 0)


class NeedTally(SQLModel, table=True):
    """How many needs each rep has of each status and source, kept by storage/needs.py as needs
    are recorded and withdrawn, so the needs board counts a team's or everyone's needs from a
    row per rep instead of walking 100,000 index entries (bench/reports_bench.py)."""

    rep_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    status: str = Field(primary_key=True, max_length=10)
    source: str = Field(primary_key=True, max_length=10)
    count: int = 0


def need_ref(need_id: int) -> str:
    """A need's reference number, also for rows read without the model (exports)."""
    return f"N-{need_id:06d}"


class NeedTag(SQLModel, table=True):
    """One tag of a need, kept apart so managers can filter by tag on any database."""

    # A tag filter reads the ids from the index alone.
    __table_args__ = (Index("ix_needtag_tag_need", "tag", "need_id"),)
    need_id: int = Field(primary_key=True, foreign_key="need.id")
    tag: str = Field(primary_key=True, max_length=40)


class NeedChange(SQLModel, table=True):
    """The history of a need: who created, edited or withdrew it, what changed, and when."""

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="need.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    by: int = Field(sa_column=Column(BigInteger, nullable=False))
    action: str = Field(max_length=12)
    field: str = Field(default="", max_length=40)
    old: str = Field(default="", sa_column=Column(Text, nullable=False))
    new: str = Field(default="", sa_column=Column(Text, nullable=False))


class NeedDraft(SQLModel, table=True):
    """A rep's unfinished need: the answers so far, saved after every answer."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class ReviewItem(SQLModel, table=True):
    """One thing a rep got wrong and reviews again, with its FSRS card (storage/reviews.py).

    `kind` is quiz (a quiz question, `ref` = quiz id/question id), spin (a SPIN question type,
    `ref` = the type) or act (a speech act to leave out, `ref` = the act); `source` is where it
    was last got wrong (quiz, spin, scripts, roleplay). The FSRS card is `state`, `step`,
    `stability`, `difficulty`, `due` and `last_review`, as fsrs.Card names them; `reviews`
    counts the answers given in /review, so each one is asked in fresh words.
    """

    __table_args__ = (UniqueConstraint("user_id", "kind", "ref"), Index("ix_reviewitem_due", "user_id", "due"))
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=8)
    ref: str = Field(max_length=90)
    source: str = Field(max_length=10)
    state: int
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime
    last_review: datetime | None = None
    reviews: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ReviewDay(SQLModel, table=True):
    """A day (in the deployment's timezone) on which a rep answered at least one item in /review:
    ReviewItem keeps only each item's last review, and the leaderboard's streak needs every day."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    day: date = Field(sa_column=Column(Date, primary_key=True))


class ReviewReminder(SQLModel, table=True):
    """When a rep wants the daily review nudge, in minutes after midnight in the deployment's
    timezone (None: no nudge), their quiet hours (no nudge from `quiet_from` to `quiet_to`),
    and the local day they were last nudged (one nudge a day)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at_minute: int | None = None
    quiet_from: int = 22 * 60
    quiet_to: int = 8 * 60
    nudged_on: date | None = None


class SendPace(SQLModel, table=True):
    """When the next message may go out, shared by every bot process (storage/pace.py): one row
    per chat that had a message lately, and row 0 for the bot as a whole. `tat` is the
    theoretical arrival time of the next message (the generic cell rate algorithm), in seconds
    since the epoch; a chat without a row may be sent to at once."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    tat: float = 0.0


class JobLease(SQLModel, table=True):
    """Which process runs a periodic job (the push queue, reminders, pruning) until `expires`
    (seconds since the epoch); another takes it over once that has passed (storage/leases.py)."""

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(default="", max_length=120)
    expires: float = 0.0
