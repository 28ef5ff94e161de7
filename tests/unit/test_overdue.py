"""Overdue in school days: urgent by the end of the same school day, others in two."""

from __future__ import annotations

from datetime import UTC, datetime

from portal.overdue import due_by, is_overdue


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_urgent_report_in_the_morning_is_due_the_same_afternoon():
    # Tuesday 24 Nov 2026, 09:00 in London (GMT)
    assert due_by(utc(2026, 11, 24, 9), urgent=True) == utc(2026, 11, 24, 16)


def test_urgent_report_after_school_is_due_next_school_day():
    assert due_by(utc(2026, 11, 24, 18), urgent=True) == utc(2026, 11, 25, 16)


def test_friday_evening_and_weekend_reports_count_from_monday():
    assert due_by(utc(2026, 11, 27, 19), urgent=True) == utc(2026, 11, 30, 16)
    assert due_by(utc(2026, 11, 28, 10), urgent=True) == utc(2026, 11, 30, 16)


def test_other_reports_have_two_school_days_skipping_the_weekend():
    # Thursday morning → Monday end of day
    assert due_by(utc(2026, 11, 26, 9), urgent=False) == utc(2026, 11, 30, 16)


def test_school_settings_change_the_deadline():
    assert due_by(utc(2026, 11, 24, 9), urgent=False, normal_days=1,
                  day_ends_hour=15) == utc(2026, 11, 25, 15)


def test_summer_time_is_respected():
    # 1 July 2026: London is UTC+1, so a 16:00 end of day is 15:00 UTC
    assert due_by(utc(2026, 7, 1, 8), urgent=True) == utc(2026, 7, 1, 15)


def test_acknowledged_reports_are_never_overdue():
    arrived = utc(2026, 11, 24, 9)
    late = utc(2026, 11, 30, 9)
    assert is_overdue(arrived, None, urgent=True, now=late)
    assert not is_overdue(arrived, utc(2026, 11, 24, 10), urgent=True, now=late)
    assert not is_overdue(arrived, None, urgent=True, now=utc(2026, 11, 24, 12))
