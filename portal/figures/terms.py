"""A finished term's figures, fixed for the head and the trust lead (model.py's rule 6).

The fresh-context trial found that a term long over still moved: the figures count every
report against the roster as it is today, so a head who knew that one child had just
joined the SEND register read, from the SEND table the day before and the day after, how
many of that term's reports named that child. A late link, a late decision or a year
group corrected would tell the same about one report.

So the first time a head or a trust lead is shown a whole term after it ended, each
school's column of that term (every cell after the small-number rule, with the counts
behind them) is stored (``FigureTermColumn``), and every later page, PDF and CSV of theirs
for that term, as the period or as the year before beside the next year's term, is drawn
from it. Columns are independent under the rule (model.py), so a term's column can sit
beside another's. The trust's totals are worked out from the schools' fixed columns, so
the trust less the other schools gives back only what the school's own page shows.

The DSL team, who read the reports, keep the live figures for any dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Table as SqlTable
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import FigureTermColumn, School, utcnow
from ..overdue import LOCAL
from .model import SMALL, WITHHELD, Cell, Figures, Period, Row, Table, term_of

Column = dict[str, Any]


def column_of(figures: Figures, *, last_year: bool) -> Column:
    """One column of ``figures`` (the period's, or the year before's), as stored."""
    index = 1 if last_year else 0

    def cell(row: Row) -> Cell:
        return row.last_year if last_year else row.now

    return {"total": [figures.total.raw[index], cell(figures.total).shown],
            "roll": figures.roll,
            "tables": {t.key: {r.key: [r.label, r.raw[index], cell(r).value, cell(r).shown,
                                       r.protected] for r in t.rows}
                       for t in figures.tables}}


def _cell(column: Column, table: Table, key: str) -> tuple[Cell, int]:
    if table.key not in column["tables"]:
        return Cell(None, WITHHELD), 0
    rows = column["tables"][table.key]
    if key in rows:
        _label, raw, value, shown, _protected = rows[key]
        return Cell(value, shown), raw
    # A row this column never had (a year group added since): nought, unless its column
    # shows nothing of the breakdown (rule 0) or hides a count of a partition (rule 2: a
    # nought beside a hidden count would give it away).
    few = 0 < column["total"][0] < SMALL
    hides = table.partition and any(value is None for _, _, value, _, _ in rows.values())
    return (Cell(None, WITHHELD) if few or hides else Cell(0, "0")), 0


def compose(live: Figures, now: Column, last: Column) -> Figures:
    """``live``'s tables and labels with the cells of the two stored columns."""
    tables = []
    for table in live.tables:
        known = {r.key: r for r in table.rows}
        # The stored rows only, in their order: a row the live figures have gained since
        # (a year group a child of that term has moved to) would tell of that change. A
        # table kept by neither column (added to the portal since) shows its rows withheld.
        keys = dict.fromkeys([*now["tables"].get(table.key, {}),
                              *last["tables"].get(table.key, {})]) or dict.fromkeys(known)
        rows = []
        for key in keys:
            stored = now["tables"].get(table.key, {}).get(key) or last["tables"].get(
                table.key, {}).get(key)
            label, protected = ((known[key].label, known[key].protected) if key in known
                                else (stored[0], bool(stored[4])))
            (now_cell, now_raw), (last_cell, last_raw) = (_cell(now, table, key),
                                                          _cell(last, table, key))
            rows.append(Row(key, label, now_cell, last_cell, (now_raw, last_raw), protected))
        tables.append(replace(table, rows=tuple(rows)))
    total = Row(live.total.key, live.total.label, Cell(now["total"][0], now["total"][1]),
                Cell(last["total"][0], last["total"][1]), (now["total"][0], last["total"][0]))
    # the roll as it was counted too (per 100 pupils would move as pupils leave)
    return replace(live, total=total, tables=tuple(tables), roll=now.get("roll", live.roll))


def whole_term(period: Period) -> bool:
    """``period`` is one school term, first day to last (the only periods kept)."""
    term = term_of(period.start)
    return (period.start, period.end) == (term.start, term.end)


def _stored(session: Session, schools: Sequence[School],
            terms: Sequence[Period]) -> dict[tuple[int, Any], FigureTermColumn]:
    ends = {t.start: t.end for t in terms if whole_term(t)}
    if not ends:  # "this term so far" beside the same days last year: nothing is kept
        return {}
    rows = session.scalars(select(FigureTermColumn).where(
        FigureTermColumn.school_id.in_([s.id for s in schools]),
        FigureTermColumn.first_day.in_(list(ends))))
    return {(r.school_id, r.first_day): r for r in rows if ends.get(r.first_day) == r.last_day}


def kept_comparison(session: Session, schools: Sequence[School],
                    live: Sequence[Figures]) -> list[Figures]:
    """A term under way (its totals alone are shown) beside the year before's total as it
    was kept, where that whole term was: a report deleted since would otherwise show as
    one fewer there than on that term's own page (the fourth trial's finding 2)."""
    if not live:
        return []
    stored = _stored(session, schools, [live[0].comparison])
    out = []
    for school, figures in zip(schools, live, strict=True):
        row = stored.get((school.id, figures.comparison.start))
        if row is None:
            out.append(figures)
            continue
        count, shown = row.column["total"]
        total = replace(figures.total, last_year=Cell(count, shown),
                        raw=(figures.total.raw[0], count))
        out.append(replace(figures, total=total))
    return out


def fixed(session: Session, schools: Sequence[School], live: Sequence[Figures],
          period: Period) -> list[Figures]:
    """``live`` (each school's figures for the whole term ``period``, ended, and the term
    a year before) as they were the first time either term was shown: what is not stored
    yet is stored now, from ``live``. Two servers storing the same term at once keep the
    first; both then draw from it."""
    if not live:
        return []
    if not whole_term(period):
        raise ValueError(f"only a whole term is kept, not {period.label}")
    terms = (period, live[0].comparison)
    stored = _stored(session, schools, terms)
    missing = [{"school_id": school.id, "first_day": term.start, "last_day": term.end,
                "column": column_of(figures, last_year=last_year), "counted_at": utcnow()}
               for school, figures in zip(schools, live, strict=True)
               for last_year, term in ((False, terms[0]), (True, terms[1]))
               if (school.id, term.start) not in stored]
    if missing:
        table: SqlTable = FigureTermColumn.__table__  # type: ignore[assignment]
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(table).values(missing).on_conflict_do_nothing())
        session.commit()
        stored = _stored(session, schools, terms)
    out = []
    for school, figures in zip(schools, live, strict=True):
        now, last = stored[(school.id, terms[0].start)], stored[(school.id, terms[1].start)]
        out.append(replace(compose(figures, now.column, last.column),
                           counted_on=now.counted_at.astimezone(LOCAL).date()))
    return out
