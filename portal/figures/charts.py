"""Bar charts of the figures, drawn on the server as SVG: no JavaScript, nothing loaded by
the browser, the same drawing on the page, in print and in the PDF.

Each chart shows the period (solid bars) and the same period last year (hatched, outlined
bars) for every row of a table, with the number written at the end of each bar, so neither
colour nor length alone carries a figure (WCAG 2.2: 1.4.1 use of colour, 1.1.1 text
alternatives: the table beside each chart holds the same figures, and the chart names it).
A count the small-number rule hides has no bar, only its words ("fewer than 5").

The drawing is a phone's width (``WIDTH`` user units, wrapped labels), so its 12-unit text
is about 12 px on a phone; a wider screen shows it no more than ``.chart``'s max-width.
"""

from __future__ import annotations

import textwrap

from markupsafe import Markup, escape

from .model import Cell, Table

WIDTH = 330  # about a phone's width, less the page's and the chart box's margins
LABEL_CHARS = 46  # a label line at 12 units, in DejaVu Sans (the widest of the usual fonts)
LABEL_ROOM = 18  # a row's label line
LINE = 15  # each further line of a wrapped label
BAR = 13
GAP = 12
VALUE_ROOM = 60  # room after the longest bar for its number
NOW_COLOUR = "#1d4f91"  # 8.9:1 on white
LAST_COLOUR = "#4a4a4a"


def _bar(y: float, cell: Cell, largest: int, *, last_year: bool, key: str) -> str:
    span = WIDTH - VALUE_ROOM
    words = escape(cell.shown)
    if cell.hidden or cell.value is None:
        return (f'<text x="0" y="{y + BAR - 2}" class="chart__hidden" '
                f'font-size="12" fill="#333">{words}</text>')
    width = 0 if largest == 0 else max(2.0, span * cell.value / largest) if cell.value else 0
    fill = f"url(#hatch-{key})" if last_year else NOW_COLOUR
    stroke = f' stroke="{LAST_COLOUR}" stroke-width="1"' if last_year else ""
    bar = (f'<rect x="0" y="{y}" width="{width:.1f}" height="{BAR}" fill="{fill}"{stroke}/>'
           if width else "")
    return (f'{bar}<text x="{width + 6:.1f}" y="{y + BAR - 2}" font-size="12" '
            f'fill="#111">{words}</text>')


def bar_chart(table: Table, now_label: str, last_label: str) -> Markup:
    """The table as a chart; ``*_label`` name the two periods in the legend."""
    largest = table.largest
    key = escape(table.key)
    rows = []
    y = 52.0  # below the legend: one line per period, so a long label never runs over
    for row in table.rows:
        for n, line in enumerate(textwrap.wrap(row.label, LABEL_CHARS) or [""]):
            y += LINE if n else 0
            rows.append(f'<text x="0" y="{y + 12}" font-size="12" fill="#111">'
                        f'{escape(line)}</text>')
        y += LABEL_ROOM
        rows.append(_bar(y, row.now, largest, last_year=False, key=str(key)))
        y += BAR + 3
        rows.append(_bar(y, row.last_year, largest, last_year=True, key=str(key)))
        y += BAR + GAP
    height = int(y + 4)
    legend = (
        f'<rect x="0" y="6" width="14" height="14" fill="{NOW_COLOUR}"/>'
        f'<text x="20" y="18" font-size="12" fill="#111">{escape(now_label)}</text>'
        f'<rect x="0" y="26" width="14" height="14" fill="url(#hatch-{key})" '
        f'stroke="{LAST_COLOUR}"/>'
        f'<text x="20" y="38" font-size="12" fill="#111">'
        f'{escape(last_label)}</text>')
    pattern = (f'<defs><pattern id="hatch-{key}" width="6" height="6" '
               f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
               f'<rect width="6" height="6" fill="#ffffff"/>'
               f'<line x1="0" y1="0" x2="0" y2="6" stroke="{LAST_COLOUR}" stroke-width="3"/>'
               f'</pattern></defs>')
    title = escape(f"Bar chart: {table.title}")
    desc = escape(f"{now_label} against {last_label}. The table beside the chart gives "
                  "the same figures.")
    # Every text in the drawing went through escape() above.
    return Markup(  # noqa: S704
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-labelledby="chart-{key}-title chart-{key}-desc" '
        f'font-family="sans-serif">'
        f'<title id="chart-{key}-title">{title}</title>'
        f'<desc id="chart-{key}-desc">{desc}</desc>'
        f'{pattern}{legend}{"".join(rows)}</svg>')
