"""pdf_base.html, the base of every PDF the portal makes: the title and school heading, the
content, a footer on every page saying who exported it and when, "Page N of M", a table's
head repeated on each page it spans, and names printed as text, never as markup."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, render_template_string

from portal.pdf import render_pdf
from tests.pdf_text import pdf_page_texts, pdf_pages, pdf_text

EXPORTED_AT = datetime(2026, 12, 2, 9, 5, tzinfo=UTC)
FOOTER = "Confidential — exported by Ms Okafor (DSL) at 02 Dec 2026 09:05 GMT"  # UK time


def figures_pdf(app: Flask, rows: int, *, exported_by: str = "Ms Okafor (DSL)",
                content: str = "") -> tuple[str, bytes]:
    """A report on pdf_base.html with a table of ``rows`` rows: its HTML and its PDF."""
    source = """{% extends "pdf_base.html" %}
{% block title %}Figures for governors{% endblock %}
{% block content %}
<h2>Reports by kind</h2>
<table>
  <thead><tr><th>Kind of report</th><th class="num">Reports</th></tr></thead>
  <tbody>
  {% for n in range(rows) %}<tr><td>Kind number {{ n }}</td><td class="num">{{ n * 7 }}</td></tr>
  {% endfor %}
  </tbody>
</table>
{{ content }}
{% endblock %}"""
    with app.test_request_context():
        html = render_template_string(
            source, rows=rows, content=content, school_name="Oakfield Primary School",
            exported_by=exported_by, exported_at=EXPORTED_AT,
        )
    return html, render_pdf(html)


def test_a_report_has_its_title_school_and_table(app):
    _, data = figures_pdf(app, 3)
    text = pdf_text(data)
    assert pdf_pages(data) == 1
    for words in ("Oakfield Primary School", "Figures for governors", "Reports by kind",
                  "Kind of report", "Kind number 2", "14", FOOTER, "Page 1 of 1"):
        assert words in text


def test_a_two_page_report_numbers_its_pages_and_repeats_the_footer_and_table_head(app):
    _, data = figures_pdf(app, 45)
    pages = pdf_page_texts(data)
    assert pdf_pages(data) == 2
    assert "Page 1 of 2" in pages[0]
    assert "Page 2 of 2" in pages[1]
    assert "Kind number 44" in pages[1]
    for page in pages:
        assert FOOTER in page
        assert "Kind of report" in page  # the table's head, again on the second page


def test_a_hostile_name_is_printed_as_text(app):
    hostile = '<b>Mallory</b><img src="file:///etc/passwd"><script>alert(1)</script>'
    html, data = figures_pdf(app, 1, exported_by=hostile)
    assert hostile not in html
    assert "&lt;b&gt;Mallory&lt;/b&gt;" in html
    assert "<b>Mallory</b><img" in pdf_text(data).replace("\n", "")


def test_a_script_in_the_content_neither_runs_nor_prints(app):
    script = '<script>document.write("WRITTEN-BY-SCRIPT")</script>'
    with app.test_request_context():
        html = render_template_string(
            '{% extends "pdf_base.html" %}{% block content %}<p>Before</p>' + script
            + "<p>After</p>{% endblock %}",
            school_name="Oakfield", exported_by="x", exported_at=EXPORTED_AT,
        )
    text = pdf_text(render_pdf(html))
    assert "Before" in text
    assert "After" in text
    assert "WRITTEN-BY-SCRIPT" not in text
