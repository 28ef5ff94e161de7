"""The figures a head takes to governors and a trust compares its schools by: counts of a
period's reports and the same period a year before, never report text, never a name.
No Flask here.

Cyber-bullying policy 3.1: "The Principal will be in overall charge of the practices and
procedures outlined in this policy and will ensure that their effectiveness is monitored."
Anti-bullying policy: the school will "review our anti-bullying policy regularly" and
supervise "porches, corridors and yards": so the figures say who tells, about what, where
and when, what was decided, how quickly, and whether children say it is better now.

Every figure is read from the day counts ``portal.figures.rollup`` keeps, in four queries
whatever the period or the number of reports (``compute``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..models import (
    FEELING_LABELS,
    FEELINGS,
    FigureCount,
    FigurePupilYear,
    FigureSealedDay,
    LinkRole,
    Pupil,
    School,
    Trust,
)
from ..vocabulary import (
    CATEGORY_LABELS,
    CLASSIFY_KIND_CODES,
    KIND_LABELS,
    PLACES,
    PREJUDICE_KINDS,
    YEAR_GROUPS,
    Category,
    Kind,
)
from . import rollup, terms
from .model import (
    FEWER,
    SMALL,
    WITHHELD,
    Cell,
    Figures,
    Period,
    Row,
    Table,
    TrustFigures,
    span_label,
    term_of,
    term_so_far,
    withhold_columns,
)
from .model import make_table as _make_table

# Periods: at most a year, so "the same period last year" never overlaps it.
EARLIEST = date(2000, 1, 1)
# Only the contract's form (ISO 8601 calendar dates): not 20261001, nor 2026-W40-1.
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class PeriodError(ValueError):
    """A period the figures cannot be drawn for; the message says why, in plain words."""


def parse_period(start: str | None, end: str | None, today: date, *,
                 whole_terms: bool = False) -> Period:
    """The period asked for with ``from`` and ``to`` (ISO dates), or this term so far when
    neither is given. With ``whole_terms`` (the head and the trust lead: model.py's rule 5)
    only a whole term, or this term so far, is a period."""
    if not start and not end:
        return term_so_far(today)
    if not start or not end:
        raise PeriodError("Give both dates, “from” and “to”, or choose a term.")
    try:
        if any(not ISO_DATE.fullmatch(value) for value in (start, end)):
            raise ValueError("not year-month-day")
        first, last = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError as exc:
        raise PeriodError("Give the dates as year-month-day, for example 2026-09-01.") from exc
    if first > last:
        raise PeriodError("The period must start on or before the day it ends.")
    if first < EARLIEST or last > today + timedelta(days=366):
        raise PeriodError(f"Choose dates from {EARLIEST:%Y} up to a year from today.")
    if last >= rollup_year_after(first):
        raise PeriodError("Choose a period of at most one year, so it can be compared with "
                          "the same period the year before.")
    term = term_of(first)
    if (first, last) == (term.start, term.end):
        return term
    so_far = term_so_far(today)
    if (first, last) == (so_far.start, so_far.end):
        return so_far
    if whole_terms:
        raise PeriodError(
            "Choose one of the terms listed. Figures are shown for whole terms, so that two "
            "periods a few days apart cannot be compared to tell what those days' reports "
            "were.")
    return Period(first, last, span_label(first, last))


def rollup_year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, month=3, day=1)


# --- the tables: which rows, in which order, which are protected -------------------------

SOURCES = (("pupil_anonymous", "A pupil, anonymously"),
           ("pupil_named", "A pupil, giving their name"),
           ("witness", "A pupil who saw it happen to someone else"),
           ("parent", "A parent or carer"), ("staff", "A member of staff"))
# Every prejudice-based kind on its own, and sexual harassment: rare, so protected.
RARE_KINDS = frozenset({*PREJUDICE_KINDS, Kind.SEXUAL})
KIND_ROWS: tuple[str, ...] = (*(k.value for k in CLASSIFY_KIND_CODES if k != Kind.OTHER),
                              Kind.PREJUDICE.value, Kind.OTHER.value)
KIND_ROW_LABELS = {**KIND_LABELS, Kind.PREJUDICE.value: "Prejudice-based, kind not recorded"}
HOURS = (("early", "Before 08:00", range(0, 8)),
         *((f"{h:02d}", f"{h:02d}:00 to {h + 1:02d}:00", range(h, h + 1)) for h in range(8, 18)),
         ("late", "18:00 or later", range(18, 24)))
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OUTCOMES = (("undecided", "Not decided yet"),
            *((c.value, CATEGORY_LABELS[c]) for c in (Category.BULLYING_INCIDENT,
                                                      Category.NOT_BULLYING,
                                                      Category.SAFEGUARDING)))
ACKS = (("on_time", "Acknowledged within the school's due time"),
        ("late", "Acknowledged after the due time"), ("waiting", "Not acknowledged yet"))
CLOSES = (("week", "Closed within a week"), ("four_weeks", "Closed within four weeks"),
          ("longer", "Closed after more than four weeks"), ("open", "Still open"))
SENDS = (("yes", "A pupil with SEND involved"), ("no", "Pupils linked, none with SEND"),
         ("unlinked", "No pupil linked to the report"))
UNSAFES = (("no", "Said they did not feel safe"), ("not_sure", "Were not sure they felt safe"),
           ("yes", "Said they felt safe"),
           ("not_asked", "Not asked (parents' and staff reports)"))
REPEATS = ((LinkRole.TARGET.value, "Children named as the target in two or more reports"),
           (LinkRole.ALLEGED_PERPETRATOR.value,
            "Children named as the alleged perpetrator in two or more reports"))

Counts = Counter[tuple[str, str]]


def _rows(counts: tuple[Counts, Counts], figure: str,
          rows: Iterable[tuple[str, str]], protected: Callable[[str], bool] | bool = False,
          ) -> list[tuple[str, str, int, int, bool]]:
    now, last = counts
    return [(key, label, now[(figure, key)], last[(figure, key)],
             protected(key) if callable(protected) else protected) for key, label in rows]


def _year_rows(counts: tuple[Counts, Counts]) -> list[tuple[str, str]]:
    present = {v for c in counts for (f, v) in c if f == rollup.YEAR}
    known = [y for y in YEAR_GROUPS if y in present]
    others = sorted(present - set(YEAR_GROUPS) - {rollup.NO_YEAR})
    rows = [(y, y) for y in (*known, *others)]
    if rollup.NO_YEAR in present:
        rows.append((rollup.NO_YEAR, "Year group not on the roster"))
    return rows


def _tables(counts: tuple[Counts, Counts], weekdays: tuple[Counter[int], Counter[int]],
            repeats: tuple[Counter[str], Counter[str]]) -> tuple[Table, ...]:
    totals = (sum(weekdays[0].values()), sum(weekdays[1].values()))

    def make_table(*args: Any, **kwargs: Any) -> Table:
        return _make_table(*args, totals=totals, **kwargs)

    places = [(c.value, c.adult) for c in PLACES]
    hour_rows = [(key, label, sum(counts[0][(rollup.HOUR, f"{h:02d}")] for h in hours),
                  sum(counts[1][(rollup.HOUR, f"{h:02d}")] for h in hours), False)
                 for key, label, hours in HOURS]
    return (
        make_table("source", "Who told us", "Reports by who made them.",
                   _rows(counts, rollup.SOURCE, SOURCES), partition=True),
        make_table("kind", "What it was about",
                   "Reports by kind (a report about two kinds counts under both). Each "
                   "prejudice-based kind is shown on its own.",
                   _rows(counts, rollup.KIND, ((k, KIND_ROW_LABELS[k]) for k in KIND_ROWS),
                         lambda k: k in RARE_KINDS)),
        make_table("place", "Where it happened",
                   "Places pupils named (a report may name two): where supervision is "
                   "needed.", _rows(counts, rollup.PLACE, places)),
        make_table("hour", "When reports arrived: time of day",
                   "The time each report was sent (school time, Europe/London).", hour_rows),
        make_table("weekday", "When reports arrived: day of the week",
                   "The day each report was sent.",
                   [(d, d, weekdays[0][i], weekdays[1][i], False)
                    for i, d in enumerate(WEEKDAYS)]),
        make_table("year", "Year groups of the children involved",
                   "Reports naming a child of each year group (the year group on today's "
                   "roster), whatever their part.",
                   _rows(counts, rollup.YEAR, _year_rows(counts), True)),
        make_table("outcome", "What was decided",
                   "The decision recorded after review (anti-bullying policy categories).",
                   _rows(counts, rollup.OUTCOME, OUTCOMES), partition=True),
        make_table("acknowledged", "How quickly reports were acknowledged",
                   "Against the school's due days for urgent and other reports.",
                   _rows(counts, rollup.ACK, ACKS), partition=True),
        make_table("closed", "How quickly cases were closed",
                   "Calendar days from the report to the case being closed.",
                   _rows(counts, rollup.CLOSE, CLOSES), partition=True),
        make_table("repeats", "Children named in more than one report",
                   "Counts of children, never names: repeated targets need support, "
                   "repeated alleged perpetrators need the behaviour policy.",
                   [(k, label, repeats[0][k], repeats[1][k], True) for k, label in REPEATS],
                   unit="children"),
        make_table("send", "Children with special educational needs or disabilities",
                   "Reports naming a pupil the roster records with SEN support or an EHC "
                   "plan.", _rows(counts, rollup.SEND, SENDS, True), partition=True),
        make_table("unsafe", "Did the pupil feel safe?",
                   "What pupils answered to \"Do you feel safe right now?\".",
                   # "Not asked" points at nobody: it is mostly "Who told us"'s adults.
                   _rows(counts, rollup.UNSAFE, UNSAFES, lambda k: k != "not_asked"),
                   partition=True),
        make_table("better", "Is it better now?",
                   "The latest answer reporters gave when the school checked back.",
                   _rows(counts, rollup.BETTER, ((f, FEELING_LABELS[f]) for f in FEELINGS),
                         True), partition=True, shares=False),
    )


def _figures(scope: str, slug: str, period: Period, comparison: Period,
             counts: tuple[Counts, Counts], weekdays: tuple[Counter[int], Counter[int]],
             repeats: tuple[Counter[str], Counter[str]], roll: int | None) -> Figures:
    total = Row("total", "Reports", Cell.of(sum(weekdays[0].values()), protected=False),
                Cell.of(sum(weekdays[1].values()), protected=False),
                (sum(weekdays[0].values()), sum(weekdays[1].values())))
    return Figures(scope, slug, period, comparison, total, _tables(counts, weekdays, repeats),
                   roll)


def _year_masks(span: Period) -> dict[int, int]:
    """The bits of ``span``'s days in each calendar year it touches (FigurePupilYear)."""
    masks: dict[int, int] = {}
    for year in range(span.start.year, span.end.year + 1):
        low = rollup.day_bit(max(span.start, date(year, 1, 1)))
        high = rollup.day_bit(min(span.end, date(year, 12, 31)))
        masks[year] = ((1 << (high + 1)) - 1) ^ ((1 << low) - 1)
    return masks


def compute(session: Session, schools: Sequence[School], period: Period) -> list[Figures]:
    """Each school's figures for ``period`` and the same period a year before: four
    queries however many schools, days or reports."""
    comparison = period.last_year()
    ids = [s.id for s in schools]
    if not ids:
        return []

    def window(day: InstrumentedAttribute[date]) -> ColumnElement[bool]:
        return or_(day.between(period.start, period.end),
                   day.between(comparison.start, comparison.end))

    fc = FigureCount
    now_flag = case((fc.day >= period.start, 0), else_=1)
    counts: dict[int, tuple[Counts, Counts]] = {i: (Counter(), Counter()) for i in ids}
    for school_id, which, figure, value, n in session.execute(
            select(fc.school_id, now_flag, fc.figure, fc.value, func.sum(fc.count))
            .where(fc.school_id.in_(ids), window(fc.day), fc.figure != rollup.TOTAL)
            .group_by(fc.school_id, now_flag, fc.figure, fc.value)):
        counts[school_id][which][(figure, value)] += int(n)
    weekdays: dict[int, tuple[Counter[int], Counter[int]]] = {
        i: (Counter(), Counter()) for i in ids}
    for school_id, day, n in session.execute(
            select(fc.school_id, fc.day, fc.count)
            .where(fc.school_id.in_(ids), window(fc.day), fc.figure == rollup.TOTAL)):
        weekdays[school_id][0 if day >= period.start else 1][day.weekday()] += int(n)
    # Year groups and SEND: the sealed rows, decrypted here (models.figures.FigureSealedDay).
    sd = FigureSealedDay
    for school_id, day, sealed in session.execute(
            select(sd.school_id, sd.day, sd.counts.label("counts"))
            .where(sd.school_id.in_(ids), window(sd.day))):
        into = counts[school_id][0 if day >= period.start else 1]
        for figure, values in sealed.items():
            for value, n in values.items():
                into[(figure, value)] += int(n)
    for school_id in ids:  # reports with no child linked: the rest of the day's reports
        for which in (0, 1):
            linked = sum(counts[school_id][which][(rollup.SEND, v)] for v in ("yes", "no"))
            counts[school_id][which][(rollup.SEND, "unlinked")] = \
                sum(weekdays[school_id][which].values()) - linked
    # Children named in two or more reports of a period, and the roll, in one pass over
    # the roster and its children's years as bits (models.figures.FigurePupilYear): a
    # child counts when the period holds two of their days, or one day with two reports.
    # The cost follows the roster and the years the periods touch, not the history.
    spans = (period, comparison)
    masks = [_year_masks(span) for span in spans]
    py = FigurePupilYear
    found: dict[tuple[int, int, str], list[tuple[int, int, int]]] = defaultdict(list)
    on_roll: dict[int, set[int]] = defaultdict(set)
    for school_id, pupil_id, roll, role, year, named, twice in session.execute(
            select(Pupil.school_id, Pupil.id, Pupil.on_roll, py.role, py.year, py.named,
                   py.twice)
            .outerjoin(py, and_(py.school_id == Pupil.school_id, py.pupil_id == Pupil.id,
                                py.role.in_([role for role, _ in REPEATS]),
                                py.year.in_(sorted({y for m in masks for y in m}))))
            .where(Pupil.school_id.in_(ids))):
        if roll:
            on_roll[school_id].add(pupil_id)
        if role is not None:
            found[(school_id, pupil_id, role)].append(
                (year, rollup.from_bits(named), rollup.from_bits(twice)))
    repeats: dict[int, tuple[Counter[str], Counter[str]]] = {
        i: (Counter(), Counter()) for i in ids}
    for (school_id, _pupil, role), years in found.items():
        for which, mask in enumerate(masks):
            days = doubled = 0
            for year, named_bits, twice_bits in years:
                if year in mask:
                    days += (named_bits & mask[year]).bit_count()
                    doubled |= twice_bits & mask[year]
            if days >= 2 or doubled:
                repeats[school_id][which][role] += 1
    rolls = {school_id: len(pupils) for school_id, pupils in on_roll.items()}
    return [_figures(s.name, s.slug, period, comparison, counts[s.id], weekdays[s.id],
                     repeats[s.id], rolls.get(s.id) or None) for s in schools]


def shown_figures(session: Session, schools: Sequence[School], period: Period, *,
                  fixed: bool = False, kept: bool = False) -> list[Figures]:
    """``compute``'s figures; ``fixed``: a finished whole term as first shown (model.py's
    rule 6); ``kept``: the year before's total as it was kept, where it was."""
    each = compute(session, schools, period)
    if fixed:
        return terms.fixed(session, schools, each, period)
    if kept:
        return terms.kept_comparison(session, schools, each)
    return each


def school_figures(session: Session, school: School, period: Period) -> Figures:
    return compute(session, [school], period)[0]


def _sum_cells(cells: Sequence[Row], last_year: bool, protected: bool) -> Cell:
    """A trust total of one row (rule 4: withheld when a school's count in it is hidden,
    for any reason: the total less the other schools would give it back)."""
    index = 1 if last_year else 0
    total = sum(r.raw[index] for r in cells)
    cell = Cell.of(total, protected=protected)
    if any((r.last_year if last_year else r.now).hidden for r in cells):
        return cell.withheld()
    return cell


def _totals(name: str, schools: Sequence[Figures], period: Period) -> Figures:
    first = schools[0]
    tables: list[Table] = []
    raw = (sum(f.total.raw[0] for f in schools), sum(f.total.raw[1] for f in schools))
    for table in first.tables:
        keys: dict[str, str] = {}
        for figures in schools:
            for row in figures.table(table.key).rows:
                keys.setdefault(row.key, row.label)
        if table.key == "year":
            order = {y: i for i, y in enumerate(YEAR_GROUPS)}
            keys = dict(sorted(keys.items(), key=lambda kv: (kv[0] == rollup.NO_YEAR,
                                                             order.get(kv[0], 99), kv[0])))
        rows = []
        for key, label in keys.items():
            parts = [r for f in schools for r in f.table(table.key).rows if r.key == key]
            protected = any(r.protected for r in parts)
            rows.append(Row(key, label, _sum_cells(parts, False, protected),
                            _sum_cells(parts, True, protected),
                            (sum(r.raw[0] for r in parts), sum(r.raw[1] for r in parts)),
                            protected))
        tables.append(Table(table.key, table.title, table.description,
                            withhold_columns(rows, table.partition, raw),
                            table.partition, table.chart, table.unit, table.shares))
    total = Row("total", "Reports", Cell.of(raw[0], protected=False),
                Cell.of(raw[1], protected=False), raw)
    rolls = [f.roll for f in schools]
    roll = sum(r for r in rolls if r) if all(rolls) else None
    return Figures(name, "", period, first.comparison, total, tuple(tables), roll)


def trust_figures(session: Session, trust: Trust, period: Period,
                  only: School | None = None, *, fixed: bool = False,
                  kept: bool = False) -> TrustFigures:
    """Every school of the trust side by side (or ``only`` one of them) and the totals;
    ``fixed``: a finished whole term, as first shown (model.py's rule 6); ``kept``: the
    year before as it was kept, where it was."""
    schools = [only] if only is not None else list(session.scalars(
        select(School).where(School.trust_id == trust.id).order_by(School.name)))
    each = shown_figures(session, schools, period, fixed=fixed, kept=kept)
    totals = _totals(f"{trust.name}: all schools", each, period) if each else None
    if totals is not None and fixed:
        totals = replace(totals, counted_on=min(f.counted_on or date.max for f in each))
    notes: list[str] = []
    if each and any(f.roll is None for f in each):
        notes.append("Reports per 100 pupils are shown only for schools whose roster is "
                     "in the portal.")
    return TrustFigures(trust.name, period, period.last_year(), tuple(each),
                        totals if totals is not None else _empty(trust.name, period),
                        tuple(notes))


def _empty(name: str, period: Period) -> Figures:
    nothing: tuple[Counts, Counts] = (Counter(), Counter())
    return _figures(name, "", period, period.last_year(), nothing, (Counter(), Counter()),
                    (Counter(), Counter()), None)


# --- CSV: one row per figure -----------------------------------------------------------------

CSV_HEADER = ("school", "table", "figure", "period", "from", "to", "value", "share")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: str) -> str:
    """A spreadsheet reads a cell starting with = + - @ (or a tab or return) as a formula,
    and some skip the spaces before it: such text is kept, after an apostrophe, as text
    (OWASP's CSV injection advice). Any space, invisible mark or control before it
    counts as a space (a no-break space, a byte-order mark, a zero-width space: the
    trial's finding 3)."""
    start = next((c for c in value if not _blank(c)), "")
    return f"'{value}" if start in _FORMULA_START else value


def _blank(char: str) -> bool:
    """A space of any script, a format mark (zero-width, byte-order) or a control
    character other than the tab and the line breaks (which start a formula themselves)."""
    return char not in _FORMULA_START and (
        char.isspace() or unicodedata.category(char) in ("Cf", "Cc"))


def _csv_rows(figures: Figures) -> Iterable[tuple[str, ...]]:
    periods = ((figures.period, False), (figures.comparison, True))
    for period, last in periods:
        label = "this period" if not last else "same period last year"
        total = figures.total.last_year if last else figures.total.now
        yield (figures.scope, "total", "Reports", label, period.start.isoformat(),
               period.end.isoformat(), total.shown.replace(",", ""), "")
        if figures.roll:
            yield (figures.scope, "total", "Reports per 100 pupils on roll", label,
                   period.start.isoformat(), period.end.isoformat(),
                   figures.per_hundred(last_year=last), "")
        base = total.value or 0
        for table in figures.tables:
            for row in table.rows:
                cell = row.last_year if last else row.now
                value = str(cell.value) if cell.value is not None else cell.shown
                share = row.share(base, last_year=last) if table.shares else ""
                yield (figures.scope, table.title, row.label, label,
                       period.start.isoformat(), period.end.isoformat(), value, share)


def figures_csv(all_figures: Sequence[Figures]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for figures in all_figures:
        for row in _csv_rows(figures):
            writer.writerow([safe_cell(str(v)) for v in row])
    return out.getvalue()


def grouped(figures: Figures) -> dict[str, list[Table]]:
    """The tables under the page's headings."""
    sections: dict[str, list[Table]] = defaultdict(list)
    for table in figures.tables:
        sections[SECTION[table.key]].append(table)
    return dict(sections)


SECTION = {"source": "Who tells and about what", "kind": "Who tells and about what",
           "place": "Where and when", "hour": "Where and when", "weekday": "Where and when",
           "year": "The children", "send": "The children", "repeats": "The children",
           "unsafe": "The children", "outcome": "What the school did",
           "acknowledged": "What the school did", "closed": "What the school did",
           "better": "What the school did"}

__all__ = ["FEWER", "SMALL", "WITHHELD", "Figures", "Period", "PeriodError", "TrustFigures",
           "compute", "figures_csv", "grouped", "parse_period", "safe_cell",
           "school_figures", "term_of", "trust_figures"]
