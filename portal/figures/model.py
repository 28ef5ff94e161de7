"""What a figures page, its PDF and its CSV show: tables of counts, with the small-number
rule already applied, so no page can show a number the rule withholds. No Flask here.

The small-number rule (issue 15, written down in docs/figures.md), for each column (the
period, and the same period last year) on its own:

0. A period with 1 to 4 reports shows its total and nothing else: every count of its
   breakdown reads "not shown" (with so few reports each count would be exact).
1. A count from 1 to 4 in a row that could point at a child (a year group, SEND, a rare
   kind: every prejudice-based kind and sexual harassment, children named in several
   reports, reporters who did not feel safe, "is it better now?" answers) reads
   "fewer than 5". Nought reads 0: it points at nobody.
2. In a table of such rows whose rows add up to a number the page gives or implies (SEND
   yes / no / no pupil linked add up to the reports; the felt-safe answers to the pupils'
   reports, which "Who told us" gives), hiding one count is not enough: the rest would
   give it back by subtraction, alone or with another table. So when a column of such a
   table hides any count, every other count in it reads "not shown", noughts included.
3. A share (per cent) of a hidden count is not shown.
4. In the trust view a trust total of such a row is the sum of the schools' counts: when a
   school's count in it is hidden, the trust total of the row is withheld too, and rules
   0 and 2 apply to the trust's totals as to a school's.
5. The head and the trust lead, who cannot read the reports, choose whole school terms
   only (``portal.figures.parse_period``), which never overlap, so that no two periods
   they can ask for differ by a few days' reports; and a term still under way shows them
   its totals and nothing else (``totals_only``), since its figures seen one day and the
   next would tell what that day's reports were. The DSL team, who read the reports,
   choose any dates.
6. A whole term that has ended is shown to the head and the trust lead as it was counted
   the first time it was shown to either (``portal.figures.terms``): the figures count
   reports against the roster as it is today, so a term that still moved would tell, the
   day a child joined the SEND register or changed year group, or the day an old report
   was linked or decided, how many of that term's reports named that child. The trust's
   totals come from the schools' fixed columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

SMALL = 5
FEWER = f"fewer than {SMALL}"
WITHHELD = "not shown"


@dataclass(frozen=True)
class Cell:
    value: int | None  # None: hidden by the small-number rule
    shown: str

    @property
    def hidden(self) -> bool:
        return self.value is None

    @classmethod
    def of(cls, value: int, *, protected: bool) -> Cell:
        if protected and 0 < value < SMALL:
            return cls(None, FEWER)
        return cls(value, f"{value:,}")

    def withheld(self) -> Cell:
        """Not shown, whatever it is (nought too: a nought beside a hidden count would
        give the hidden one away)."""
        return self if self.hidden else Cell(None, WITHHELD)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    now: Cell
    last_year: Cell
    raw: tuple[int, int] = (0, 0)  # the counts before the rule: never leaves this module
    protected: bool = False

    def share(self, total: int, *, last_year: bool = False) -> str:
        """The row's part of ``total`` as a whole per cent, unless its count is hidden."""
        cell = self.last_year if last_year else self.now
        if cell.hidden or cell.value is None or not total:
            return ""
        return f"{round(100 * cell.value / total)}%"


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    description: str
    rows: tuple[Row, ...]
    # True when the rows add up to a number shown or known elsewhere (rule 2 applies).
    partition: bool = False
    chart: bool = True
    unit: str = "reports"
    # True when the rows add up to the period's reports: each row's share of them is shown.
    shares: bool = False

    @property
    def hides_anything(self) -> bool:
        return any(r.now.hidden or r.last_year.hidden for r in self.rows)

    @property
    def largest(self) -> int:
        return max([r.now.value or 0 for r in self.rows] +
                   [r.last_year.value or 0 for r in self.rows] + [0])


def make_table(key: str, title: str, description: str,
               rows: Sequence[tuple[str, str, int, int, bool]], *, partition: bool = False,
               chart: bool = True, unit: str = "reports", shares: bool | None = None,
               totals: tuple[int, int] | None = None) -> Table:
    """A table from (key, label, count now, count last year, protected) with the rule
    applied to each column (this period, last year): rule 0 when the period's reports
    (``totals``) are 1 to 4, rule 1 to each protected count, rule 2 to a partition."""
    built = [Row(k, label, Cell.of(now, protected=p), Cell.of(last, protected=p),
                 (now, last), p) for k, label, now, last, p in rows]
    return Table(key, title, description, withhold_columns(built, partition, totals),
                 partition, chart, unit, partition if shares is None else shares)


def withhold_columns(rows: Sequence[Row], partition: bool,
                     totals: tuple[int, int] | None) -> tuple[Row, ...]:
    """Rules 0 and 2, column by column, on rows that have had rule 1 (and 4)."""
    built = list(rows)
    for index, column in enumerate(("now", "last_year")):
        few = totals is not None and 0 < totals[index] < SMALL
        protected_partition = partition and any(r.protected for r in built) and any(
            getattr(r, column).hidden for r in built)
        if few:  # even "fewer than 5" would say too much: it could only be the total
            built = [_put(r, column, Cell(None, WITHHELD)) for r in built]
        elif protected_partition:
            built = [_put(r, column, getattr(r, column).withheld()) for r in built]
    return tuple(built)


def _put(row: Row, column: str, cell: Cell) -> Row:
    return replace(row, now=cell) if column == "now" else replace(row, last_year=cell)


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def last_year(self) -> Period:
        start, end = _year_before(self.start), _year_before(self.end)
        if self.label.endswith(SO_FAR):  # "Autumn term 2025, to 2 December"
            term = self.label.removesuffix(SO_FAR).replace(str(self.start.year),
                                                            str(start.year), 1)
            return Period(start, end, f"{term}, to {end.day} {end:%B}")
        label = (self.label.replace(str(self.start.year), str(start.year), 1)
                 if self.label.startswith(TERM_NAMES) else span_label(start, end))
        return Period(start, end, label)

    def open_on(self, today: date) -> bool:
        """Reports of this period may still arrive: its figures can change tomorrow."""
        return self.end >= today


TERM_NAMES = ("Autumn term", "Spring term", "Summer term")
SO_FAR = " so far"


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def span_label(start: date, end: date) -> str:
    return f"{start.day} {start:%B %Y} to {end.day} {end:%B %Y}"


def term_of(today: date) -> Period:
    """The school term ``today`` is in: autumn (1 September to 31 December), spring
    (1 January to 31 March) or summer (1 April to 31 August); holidays belong to the term
    they follow, so no day is outside every term."""
    year = today.year
    if today.month >= 9:
        return Period(date(year, 9, 1), date(year, 12, 31), f"Autumn term {year}")
    if today.month <= 3:
        return Period(date(year, 1, 1), date(year, 3, 31), f"Spring term {year}")
    return Period(date(year, 4, 1), date(year, 8, 31), f"Summer term {year}")


def previous_term(period: Period) -> Period:
    return term_of(period.start - timedelta(days=1))


def term_so_far(today: date) -> Period:
    """This term from its first day to ``today``: the figures' default period, compared
    with the same days last year (not last year's whole term, which had longer to fill)."""
    term = term_of(today)
    return Period(term.start, today, f"{term.label}{SO_FAR}")


def recent_terms(today: date, count: int = 6) -> list[Period]:
    """The ``count`` whole terms before this one, newest first (the head's choices)."""
    terms = [previous_term(term_of(today))]
    while len(terms) < count:
        terms.append(previous_term(terms[-1]))
    return terms


@dataclass(frozen=True)
class Figures:
    """One school's (or a trust's totals') figures for a period and the year before."""

    scope: str  # the school's (or trust's) name
    slug: str  # the school's slug, or "" for trust totals
    period: Period
    comparison: Period
    total: Row
    tables: tuple[Table, ...]
    roll: int | None = None  # pupils on roll, when the roster gives them
    held: bool = False  # rule 5: a term under way, for those who choose whole terms
    counted_on: date | None = None  # rule 6: the day a finished term's figures were fixed

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)

    def per_hundred(self, *, last_year: bool = False) -> str:
        """Reports per 100 pupils on roll (the roll as it is today)."""
        count = (self.total.last_year if last_year else self.total.now).value or 0
        if not self.roll:
            return ""
        return f"{100 * count / self.roll:.1f}"


@dataclass(frozen=True)
class TrustFigures:
    trust_name: str
    period: Period
    comparison: Period
    schools: tuple[Figures, ...]
    totals: Figures
    notes: tuple[str, ...] = field(default=())


def totals_only(figures: Figures) -> Figures:
    """Rule 5: the totals, and every count of the breakdown (both columns) not shown."""
    tables = tuple(replace(t, rows=tuple(replace(r, now=Cell(None, WITHHELD),
                                                 last_year=Cell(None, WITHHELD))
                                         for r in t.rows)) for t in figures.tables)
    return replace(figures, tables=tables, held=True)


def trust_totals_only(trust: TrustFigures) -> TrustFigures:
    return replace(trust, schools=tuple(totals_only(f) for f in trust.schools),
                   totals=totals_only(trust.totals))
