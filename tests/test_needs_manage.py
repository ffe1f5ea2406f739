"""Reps review their needs with /myneeds; managers list, filter and export them with /needs and /export."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, insert
from sqlmodel import Session, select

from dialogs.core.callback import encode
from dialogs.engine import Engine
from dialogs.needs.export import export_needs
from storage import needs as needs_store
from storage.access import grant_role
from storage.models import DialogState, Need, NeedChange, utcnow
from storage.needs import NeedFilter, iter_needs, record_need
from tests.chat import shown
from tests.cli_lines import in_english
from tests.needs_helpers import ADMIN, log_need, manager, rep

pytestmark = pytest.mark.both_databases

INJECTION = {
    "customer_company": '=HYPERLINK("http://evil","x")',
    "contact_name": "<b>Boss</b>",
    "situation": "@SUM(A1:A9)",
    "problems": "+1-2",
    "explicit_needs": "-cmd|' /C calc'!A0",
}


def seed(engine: Engine, count: int, **fields: object) -> None:
    """`count` needs by reps 5 and 6 (in team east), one minute apart, newest last."""
    now = utcnow()
    with Session(engine.db) as session:
        for i in range(count):
            values = {
                "customer_company": f"Customer {i:02d}",
                "explicit_needs": f"need number {i}",
                "priority": ("p1", "p2", "p3")[i % 3],
                "tags": ["price"] if i % 2 else ["supply"],
                **fields,
            }
            record_need(session, rep_id=5 + i % 2, source="field", fields=values, lang="en", at=now - timedelta(minutes=count - i))
        session.commit()


def test_a_rep_edits_and_withdraws_their_own_need_with_history(engine: Engine) -> None:
    ann = rep(engine, 5, name="Ann")
    log_need(ann)
    listing = ann.text("/myneeds")
    assert "The needs I logged (1)" in listing and "N-000001" in listing and "Acme Fruit Ltd" in listing
    ann.press("N-000001 Acme Fruit Ltd")
    ann.press("✏ Edit")
    ann.press("Budget (yuan)")
    assert "out of range" in ann.text("-3")
    record = ann.text("75000")
    assert '"Budget (yuan)" of N-000001 changed' in record
    assert 'Ann · changed "Budget (yuan)": 50000 → 75000' in record
    ann.press("✏ Edit")
    ann.press("Priority")
    assert 'changed "Priority": P1 important and urgent → P3 follow up later' in shown(ann.press("P3 follow up later"))
    ann.press("🗑 Withdraw")
    withdrawn = shown(ann.press("Yes, withdraw it"))
    assert "N-000001 has been withdrawn" in withdrawn and "(withdrawn)" in withdrawn and "Ann · withdrawn" in withdrawn
    assert "✏ Edit" not in [b.label for b in ann.buttons]
    with Session(engine.db) as session:
        assert [(c.action, c.field, c.by) for c in session.exec(select(NeedChange)).all()] == [
            ("created", "", 5),
            ("edited", "budget", 5),
            ("edited", "priority", 5),
            ("withdrawn", "", 5),
        ]


def test_a_rep_cannot_open_someone_elses_need(engine: Engine) -> None:
    seed(engine, 2)
    bob = rep(engine, 7)
    bob.send("/myneeds")
    with Session(engine.db) as session:
        state = session.get(DialogState, 7)
        assert state is not None
    forged = shown(bob.press_data(encode("mo:1", state.version)))
    assert "expired" in forged and "Customer 00" not in forged


@pytest.mark.parametrize(("role", "allowed"), [("rep", False), ("trainer", False), ("manager", True), ("admin", True)])
def test_only_managers_and_admins_read_and_export_needs(engine: Engine, role: str, allowed: bool) -> None:
    user_id = ADMIN if role == "admin" else 9
    if role in ("trainer", "manager"):
        with Session(engine.db) as session:
            grant_role(session, 9, role, ADMIN)
            session.commit()
    chat = rep(engine, user_id)
    for command in ("/needs", "/export csv"):
        assert ("not allowed" in chat.text(command)) != allowed, (role, command)
    chat.send("/menu")
    assert ("📊 Team needs" in [b.label for b in chat.buttons]) == allowed
    for command in ("/need", "/myneeds"):
        assert "not allowed" not in chat.text(command)


def test_the_menu_shows_each_person_only_what_they_may_use(engine: Engine) -> None:
    ann = rep(engine, 5)
    ann.send("/menu")
    labels = [b.label for b in ann.buttons]
    assert "📋 Log a need" in labels and "🗂 My needs" in labels and "📊 Team needs" not in labels
    boss = manager(engine, (5,))
    boss.send("/menu")
    assert "📊 Team needs" in [b.label for b in boss.buttons]


def test_managers_page_through_their_teams_needs_newest_first(engine: Engine) -> None:
    seed(engine, 23)
    with Session(engine.db) as session:
        record_need(session, rep_id=8, source="field", fields={"customer_company": "Other team"}, lang="en", at=utcnow())
        session.commit()
    boss = manager(engine, (5, 6))
    first = boss.text("/needs")
    assert "Team needs (23, page 1/3)" in first and "Other team" not in first
    assert first.index("Customer 22") < first.index("Customer 13") and "Customer 12" not in first
    second = shown(boss.press("Next ▶"))
    assert "page 2/3" in second and "Customer 12" in second and "Customer 03" in second
    third = shown(boss.press("Next ▶"))
    assert "page 3/3" in third and "Customer 00" in third and "Next ▶" not in [b.label for b in boss.buttons]
    assert "page 2/3" in shown(boss.press("◀ Previous"))
    record = shown(boss.press("N-000012 Customer 11"))
    assert "Customer company: Customer 11" in record and "History" in record
    assert "page 1/3" not in shown(boss.press("⬅ Back to the list"))


def test_filters_combine_typed_and_with_buttons(engine: Engine) -> None:
    seed(engine, 12)
    with Session(engine.db) as session:
        record_need(
            session,
            rep_id=6,
            source="roleplay",
            fields={"customer_company": "Old lady", "explicit_needs": "sour plums", "tags": ["plum"]},
            lang="en",
            at=utcnow(),
            roleplay_id=3,
            evidence="turn 3: 'why sour ones?'",
        )
        session.commit()
    boss = manager(engine, (5, 6))
    assert listed(boss.text("/needs")) == 12
    assert listed(boss.text("/needs tag:price")) == 6
    assert listed(boss.text("/needs tag:price priority:p1")) == 2
    assert listed(boss.text("/needs 标签:price 优先级:p1")) == 2
    assert listed(boss.text('/needs q:"number 11"')) == 1
    assert listed(boss.text("/needs source:roleplay")) == 1
    assert listed(boss.text("/needs source:all")) == 13
    assert listed(boss.text(f"/needs from:{(utcnow() + timedelta(days=2)).date()}")) == 0
    assert listed(boss.text(f"/needs to:{(utcnow() + timedelta(days=1)).date()}")) == 12
    assert 'can\'t read the filter "priority:p9"' in boss.text("/needs priority:p9")
    assert "the filters are rep, team" in boss.text("/needs colour:red")
    assert "dates look like" in boss.text("/needs from:yesterday")
    boss.send("/needs")
    assert listed(boss.text("rep:6")) == 6
    assert listed(boss.text("priority:p2")) == 2
    boss.press("🔧 Filter")
    boss.press("🏷 Tag")
    assert [b.label for b in boss.buttons] == ["price", "Any", "⬅ Back to the list"]
    assert listed(shown(boss.press("price"))) == 2
    boss.press("🔧 Filter")
    assert listed(shown(boss.press("✖ Clear filters"))) == 12
    boss.press("🔧 Filter")
    boss.press("📍 Source")
    roleplay = shown(boss.press("Role-play"))
    assert listed(roleplay) == 1 and "🎭 role-play" in roleplay
    assert "Evidence: turn 3: 'why sour ones?'" in shown(boss.press("N-000013 Old lady"))
    boss.press("⬅ Back to the list")
    boss.press("🔧 Filter")
    boss.press("👤 Rep")
    boss.press("Any")
    boss.press("🔧 Filter")
    boss.press("🔎 Search")
    assert listed(boss.text("sour")) == 1
    boss.press("🔧 Filter")
    boss.press("👥 Team")
    assert listed(shown(boss.press("east"))) == 1


def test_a_manager_sees_only_their_teams_and_an_admin_everyone(engine: Engine) -> None:
    seed(engine, 4)
    with Session(engine.db) as session:
        record_need(session, rep_id=8, source="field", fields={"customer_company": "Far away"}, lang="en", at=utcnow())
        session.commit()
    boss = manager(engine, (5,))
    assert listed(boss.text("/needs")) == 2
    assert listed(boss.text("/needs rep:8")) == 0
    assert listed(rep(engine, ADMIN).text("/needs")) == 5


def listed(text: str) -> int:
    """How many needs the manager's list says match."""
    found = re.search(r"Team needs \((\d+)", text)
    assert found, text
    return int(found.group(1))


def parse_csv(content: bytes) -> list[dict[str, str]]:
    assert content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_in_chat_as_csv_xlsx_and_html_with_injection_neutralised(engine: Engine) -> None:
    ann = rep(engine, 5, name="=Ann")
    log_need(ann, **INJECTION, tags="<i>tag</i>, =evil")
    log_need(ann, customer_company="Plain Co", tags="price")
    boss = manager(engine, (5,))
    boss.send("/needs tag:price")
    offer = shown(boss.press("⬇ Export"))
    assert "Export 1 need;" in offer and "tag price" in offer
    [csv_reply] = [r for r in boss.press("⬇ CSV") if r.document]
    assert csv_reply.document is not None and csv_reply.document.filename.endswith(".csv")
    assert [row["customer_company"] for row in parse_csv(csv_reply.document.content)] == ["Plain Co"]

    boss.send("/needs")
    [csv_reply] = [r for r in boss.send("/export csv") if r.document]
    rows = parse_csv(csv_reply.document.content)  # type: ignore[union-attr]
    assert [r["reference"] for r in rows] == ["N-000002", "N-000001"]
    evil = rows[1]
    assert evil["customer_company"] == '\'=HYPERLINK("http://evil","x")' and evil["situation"] == "'@SUM(A1:A9)"
    assert evil["problems"] == "'+1-2" and evil["explicit_needs"] == "'-cmd|' /C calc'!A0" and evil["rep"] == "'=Ann"
    assert evil["contact_role"] == "Decider" and evil["budget"] == "50000" and evil["tags"] == "<i>tag</i>, =evil" and evil["teams"] == "east"

    [xlsx_reply] = [r for r in boss.send("/export xlsx") if r.document]
    sheet = load_workbook(io.BytesIO(xlsx_reply.document.content)).active  # type: ignore[union-attr]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[0]
    in_excel = [{k: (int(v) if k in ("budget", "rep_id") and v else v.removeprefix("'") or None) for k, v in row.items()} for row in rows]
    assert [dict(zip(header, row, strict=True)) for row in values[1:]] == in_excel, "the same cells as the CSV, formula-like text without its quote"
    assert all(c.data_type == "s" for c in next(sheet.iter_rows(min_row=3, max_row=3)) if isinstance(c.value, str))

    [html_reply] = [r for r in boss.send("/export html") if r.document]
    html = html_reply.document.content.decode()  # type: ignore[union-attr]
    assert "&lt;b&gt;Boss&lt;/b&gt;" in html and "<b>Boss</b>" not in html and "&lt;i&gt;tag&lt;/i&gt;" in html
    assert html.index("By tag") < html.index("By rep") < html.index("By week") < html.index("N-000002") < html.index("N-000001")
    assert "<td>=Ann</td><td>2</td>" in html


def test_export_offers_formats_and_refuses_bad_filters(engine: Engine) -> None:
    boss = manager(engine, (5,))
    assert "pick a format" in boss.text("/export")
    assert [b.label for b in boss.buttons] == ["⬇ CSV", "⬇ Excel", "⬇ HTML report", "⬅ Back to the list"]
    assert "can't read the filter" in boss.text("/export csv from:2026-13-01")
    assert "a quote is not closed" in boss.text('/export q:"open')


def test_exports_read_the_needs_in_batches(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(engine, 25)
    with Session(engine.db) as session:
        sizes = [len(batch) for batch in iter_needs(session, NeedFilter(), None, batch=10)]
        assert sizes == [10, 10, 5]
        seen: list[int] = []
        original = needs_store.iter_needs

        def counting(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            for batch in original(*args, **kwargs):  # type: ignore[arg-type]
                seen.append(len(batch))
                yield batch

        monkeypatch.setattr("dialogs.needs.export.iter_needs", counting)
        out = io.BytesIO()
        export_needs(out, "jsonl", session, NeedFilter(), None, engine.knowledge.forms["need"], "en", batch=7)
        assert seen == [7, 7, 7, 4]
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        assert len(records) == 25 and records[0]["fields"]["customer_company"] == "Customer 24"


def test_a_need_pasted_with_control_characters_still_exports_to_xlsx(engine: Engine) -> None:
    """Text pasted from a PDF can carry a vertical tab or a bell; openpyxl refused such a cell and the
    whole export failed. The cell is written with Excel's escape for the character instead."""
    seed(engine, 1, situation="Pasted from a PDF:\x0bline two\x07")
    with Session(engine.db) as session:
        out = io.BytesIO()
        assert export_needs(out, "xlsx", session, NeedFilter(), None, engine.knowledge.forms["need"], "en") == 1
    rows = [[c.value for c in row] for row in load_workbook(io.BytesIO(out.getvalue())).active.iter_rows()]
    cells = dict(zip(rows[0], rows[1], strict=True))
    assert cells["situation"] == "Pasted from a PDF:_x000B_line two_x0007_" and cells["customer_company"] == "Customer 00"


@pytest.mark.timeout(120)  # a page sorted again each time would take minutes, not seconds
def test_a_large_export_keeps_order_and_content_when_times_tie(engine: Engine) -> None:
    """10,000 needs on 50 distinct timestamps: keyset pages must neither skip nor repeat a tied need."""
    now = utcnow()
    rows = [
        {
            "id": i,
            "rep_id": 5 + i % 3,
            "source": "field" if i % 10 else "roleplay",
            "status": "active" if i % 7 else "withdrawn",
            "lang": "en",
            "customer": f"Customer {i}",
            "priority": "p1",
            "fields": {"customer_company": f"Customer {i}", "explicit_needs": f"need {i}"},
            "search_text": "",
            "created_at": now - timedelta(minutes=(i * 7919) % 50),
            "updated_at": now,
        }
        for i in range(1, 10_001)
    ]
    with Session(engine.db) as session:
        session.execute(insert(Need), rows)
        session.commit()
    expected = sorted((r for r in rows if r["source"] == "field" and r["status"] == "active"), key=lambda r: (r["created_at"], r["id"]), reverse=True)
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM need" in statement:
            statements.append(statement)

    event.listen(engine.db, "before_cursor_execute", remember)
    with Session(engine.db) as session:
        out = io.BytesIO()
        export_needs(out, "jsonl", session, NeedFilter(), None, engine.knowledge.forms["need"], "en")
    event.remove(engine.db, "before_cursor_execute", remember)
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["reference"] for r in records] == [f"N-{r['id']:06d}" for r in expected]
    assert [r["fields"] for r in records] == [r["fields"] for r in expected]
    assert len(statements) == len(expected) // 500 + 1


def test_export_pages_are_read_in_index_order_on_sqlite(engine: Engine) -> None:
    """No page of an export is sorted: SQLite's plan for each walks an index and builds no temporary B-tree."""
    if engine.db.dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    seed(engine, 5)
    pages: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "FROM need" in statement:
            pages.append((statement, parameters))

    event.listen(engine.db, "before_cursor_execute", remember)
    with Session(engine.db) as session:
        assert [len(batch) for batch in iter_needs(session, NeedFilter(), None, batch=2)] == [2, 2, 1]
    event.remove(engine.db, "before_cursor_execute", remember)
    with engine.db.connect() as connection:
        for statement, parameters in pages:
            plan = " / ".join(row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all())  # type: ignore[arg-type]
            assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_the_cli_exports_needs_with_filters(engine: Engine, db_url: str, tmp_path: Path) -> None:
    seed(engine, 6, contact_name="<b>x</b>")
    env = {"DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    for fmt in ("csv", "xlsx", "html", "jsonl"):
        out = tmp_path / f"needs.{fmt}"
        done = subprocess.run(
            [sys.executable, "-m", "bot", "export", "needs", "--format", fmt, "--out", str(out), "--tag", "price", "--lang", "en"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=Path(__file__).parent.parent,
        )
        assert done.returncode == 0, done.stderr
        assert in_english(done.stderr.strip()) == f"salescoach: wrote 3 records to {out}"
    assert [r["customer_company"] for r in parse_csv((tmp_path / "needs.csv").read_bytes())] == ["Customer 05", "Customer 03", "Customer 01"]
    assert load_workbook(tmp_path / "needs.xlsx").active.max_row == 4
    assert "&lt;b&gt;x&lt;/b&gt;" in (tmp_path / "needs.html").read_text(encoding="utf-8")
    assert len((tmp_path / "needs.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "export", "needs", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--priority", "p9"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    assert bad.returncode == 2 and in_english(bad.stderr.strip()) == "salescoach: --priority 'p9' is not a priority; use one of p1, p2, p3"


def test_a_withdrawn_need_leaves_the_managers_list(engine: Engine) -> None:
    seed(engine, 2)
    with Session(engine.db) as session:
        need = session.get(Need, 1)
        assert need is not None
        needs_store.withdraw(session, need, 5, utcnow())
        session.commit()
    boss = manager(engine, (5, 6))
    assert listed(boss.text("/needs")) == 1
    assert rep(engine, 5).text("/myneeds").count("withdrawn") == 1


def test_the_board_counts_from_each_reps_tally_what_counting_the_needs_would_give(engine: Engine) -> None:
    """Needs recorded in the field and in role-plays by three reps, some withdrawn: the board's
    count for everyone, for a team and for each source is what counting the needs gives, and
    opening the board reads no need to count them."""
    now = utcnow()
    with Session(engine.db) as session:
        recorded = [
            record_need(session, rep_id=5 + i % 3, source=("field", "roleplay")[i % 2], fields={"customer_company": f"C{i}"}, lang="en", at=now)
            for i in range(12)
        ]
        for need in recorded[::4]:
            assert needs_store.withdraw(session, need, 5, now)
        assert not needs_store.withdraw(session, recorded[0], 5, now), "already withdrawn: counted once"
        kinds = [(n.rep_id, n.source, n.status) for n in recorded]
        session.commit()
    counted: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if re.search(r"\bFROM need\b", statement):
            counted.append(statement)

    with Session(engine.db) as session:
        for source in ("field", "roleplay", "all"):
            for scope in (None, {5, 6}, set()):
                by_hand = sum(1 for rep, kind, status in kinds if status == "active" and source in (kind, "all") and (scope is None or rep in scope))
                event.listen(engine.db, "before_cursor_execute", remember)
                tallied = needs_store.count_needs(session, NeedFilter(source=source), scope)
                event.remove(engine.db, "before_cursor_execute", remember)
                assert tallied == by_hand, (source, scope)
        assert counted == []
        assert needs_store.count_needs(session, NeedFilter(priority="p1", source="all"), None) == 0, "another filter counts the needs"


def test_needs_loaded_in_bulk_are_counted_once_recounted(engine: Engine) -> None:
    with Session(engine.db) as session:
        session.execute(
            insert(Need),
            [{"rep_id": 5, "source": "field", "status": "active", "fields": {}, "search_text": "", "created_at": utcnow(), "updated_at": utcnow()}] * 3,
        )
        assert needs_store.count_needs(session, NeedFilter(), None) == 0, "written past record_need"
        needs_store.recount(session)
        session.commit()
        assert needs_store.count_needs(session, NeedFilter(), None) == 3
