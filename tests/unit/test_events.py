"""The chronology is append-only (KCSIE record keeping): through the application and in the
database itself; every event is a named action with a payload its schema allows."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from portal import chronology
from portal.events import SCHEMAS, Action, PayloadError, check_payload
from portal.models import AppendOnlyError, Event
from portal.models.event import PURGE, ROTATE, unlocked


def _note(session: Session, school_id: int, report_id: int | None = None) -> Event:
    event = Event.new(Action.NOTE_ADDED, {"note": "original"}, school_id=school_id,
                      report_id=report_id)
    session.add(event)
    session.commit()
    return event


def test_events_cannot_be_edited(session, school):
    event = _note(session, school.id)
    event.payload = {"note": "rewritten"}
    with pytest.raises(AppendOnlyError):
        session.commit()
    session.rollback()
    assert session.get(Event, event.id).payload == {"note": "original"}


def test_events_cannot_be_deleted(session, school):
    event = _note(session, school.id)
    session.delete(event)
    with pytest.raises(AppendOnlyError):
        session.commit()


# --- the database's own guard (SQLite, and PostgreSQL when PORTAL_TEST_DATABASE_URL) -------

def test_a_raw_sql_update_of_an_event_is_refused_by_the_database(session, school):
    event = _note(session, school.id)
    for statement in ("UPDATE events SET action = 'case.viewed'",
                      "UPDATE events SET payload = NULL",
                      "UPDATE events SET created_at = created_at"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.get(Event, event.id).payload == {"note": "original"}


def test_a_raw_sql_delete_of_an_event_is_refused_by_the_database(session, school):
    event = _note(session, school.id)
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("DELETE FROM events"))
    session.rollback()
    assert session.get(Event, event.id) is not None


def test_truncating_the_events_is_refused_on_postgresql(session, school):
    """TRUNCATE fires no row trigger; a statement trigger refuses it, directly and when a
    TRUNCATE of the reports would cascade to their events."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE (its DELETE is refused above)")
    event = _note(session, school.id)
    for statement in ("TRUNCATE events", "TRUNCATE events CASCADE", "TRUNCATE reports CASCADE"):
        with pytest.raises(DatabaseError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    assert session.get(Event, event.id).payload == {"note": "original"}


def test_the_purge_unlock_lets_through_only_the_named_reports_events(session, school,
                                                                     make_report):
    (purged, _code), (kept, _other) = make_report(school), make_report(school)
    _note(session, school.id, purged.id)
    _note(session, school.id, kept.id)
    with unlocked(session, PURGE, purged.id):
        session.execute(text("DELETE FROM events WHERE report_id = :r"), {"r": purged.id})
        with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
            session.execute(text("DELETE FROM events WHERE report_id = :r"), {"r": kept.id})
    session.rollback()
    with unlocked(session, PURGE, purged.id):
        session.execute(text("DELETE FROM events WHERE report_id = :r"), {"r": purged.id})
    session.commit()
    left = {e.report_id for e in session.query(Event).filter(Event.action == "note.added")}
    assert left == {kept.id}
    # and the unlock is gone with the block: a raw delete fails again
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(text("DELETE FROM events WHERE report_id = :r"), {"r": kept.id})
    session.rollback()


def test_the_rotation_unlock_lets_through_only_a_new_ciphertext(session, school):
    event = _note(session, school.id)
    stored = session.execute(text("SELECT payload FROM events WHERE id = :i"),
                             {"i": event.id}).scalar_one()
    with unlocked(session, ROTATE):
        session.execute(text("UPDATE events SET payload = :p WHERE id = :i"),
                        {"p": stored, "i": event.id})
        with pytest.raises(DatabaseError, match="append-only"), session.begin_nested():
            session.execute(text("UPDATE events SET action = 'case.viewed' WHERE id = :i"),
                            {"i": event.id})
    session.rollback()


def test_only_the_two_maintenance_jobs_exist(session):
    with pytest.raises(ValueError, match="no such maintenance job"), \
            unlocked(session, "anything"):
        pass


# --- actions and payloads ----------------------------------------------------------------

def test_every_action_has_a_schema_and_a_renderer():
    assert set(SCHEMAS) == set(Action)
    assert set(chronology.RENDERERS) == set(Action)


@pytest.mark.parametrize(("action", "payload", "problem"), [
    (Action.PUPIL_LINKED, {"pupil_id": 12}, "missing keys \\['role'\\]"),
    (Action.PUPIL_LINKED, {"pupil_id": 12, "role": "target", "extra": 1}, "unknown keys"),
    (Action.PUPIL_LINKED, {"pupil_id": "12", "role": "target"}, "pupil_id='12'"),
    (Action.ROSTER_IMPORTED, {"added": True, "updated": 0, "unchanged": 0}, "added=True"),
    (Action.KINDS_CHANGED, {"from": ["verbal"], "to": [1], "reason": "r", "complete": True},
     "to="),
    (Action.SCHOOL_SETTINGS, {"changes": [{"setting": "x"}]}, "changes="),
    ("pupil.renamed", {}, "not an action"),
])
def test_a_payload_outside_its_schema_is_refused(action, payload, problem):
    with pytest.raises(PayloadError, match=problem):
        check_payload(action, payload)


def test_an_event_built_by_hand_is_checked_at_flush(session, school):
    session.add(Event(school_id=school.id, action="pupil.linked", payload={"pupil": 1}))
    with pytest.raises(PayloadError):
        session.flush()
    session.rollback()


def test_a_long_kinds_change_is_kept_whole():
    kinds = [f"prejudice_{n}_with_a_long_code" for n in range(10)]
    payload = check_payload(Action.KINDS_CHANGED, {"from": [], "to": kinds,
                                                   "reason": "After review", "complete": True})
    line = chronology.RENDERERS[Action.KINDS_CHANGED](payload, chronology.Names())
    assert all(k in line.what for k in kinds)
    assert line.detail == "After review"


def test_renderers_name_pupils_and_staff_from_the_payload():
    names = chronology.Names(pupils={12: "Zebedee Quartermain"}, users={3: "Ms Reid"})
    linked = chronology.RENDERERS[Action.PUPIL_LINKED](
        {"pupil_id": 12, "role": "alleged_perpetrator"}, names)
    assert linked.what == "Linked Zebedee Quartermain as alleged perpetrator"
    assigned = chronology.RENDERERS[Action.CASE_ASSIGNED]({"from": None, "to": 3}, names)
    assert assigned.what == "Assigned to Ms Reid"
    status = chronology.RENDERERS[Action.STATUS_CHANGED](
        {"from": "new", "to": "closed", "reason": "Done"}, names)
    assert (status.what, status.detail) == ("Status: New → Closed", "Done")
