"""The chronology is append-only through the application (KCSIE record keeping)."""

from __future__ import annotations

import pytest

from portal.models import AppendOnlyError, Event


def test_events_cannot_be_edited(session, school):
    event = Event(school_id=school.id, action="note.added", text="original")
    session.add(event)
    session.commit()
    event.text = "rewritten"
    with pytest.raises(AppendOnlyError):
        session.commit()
    session.rollback()
    assert session.get(Event, event.id).text == "original"


def test_events_cannot_be_deleted(session, school):
    event = Event(school_id=school.id, action="note.added", text="original")
    session.add(event)
    session.commit()
    session.delete(event)
    with pytest.raises(AppendOnlyError):
        session.commit()
