"""Hostile input on the pupil, parent, follow-up and staff login forms: refused cleanly with
nothing stored, the reporter's words kept on the page, and everything shown back escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import encode_multipart

from portal.errors import CSRF_MESSAGE, MESSAGES
from portal.models import Report, Role, StaffSession
from tests.conftest import PARENT, PASSWORD, PUPIL, followup_code, hidden_fields

PUPIL_URL = "/s/oakfield/pupil"
PARENT_URL = "/s/oakfield/parent"
REPORT_FORMS = {
    "pupil": (PUPIL_URL, PUPIL, "what_happened"),
    "parent": (PARENT_URL, PARENT, "details"),
}
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
# What must never reach a page unescaped (the base template only has <script src=...>).
RAW = ("<script>", "<img src=x", "<img/src=x")
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "Permissions-Policy")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    """A page as a person sees it: each field's value, the error messages, the visible text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.values: dict[str, list[str]] = {}
        self.errors: list[str] = []  # error summary and field errors, in page order
        self.field_errors: dict[str, str] = {}  # field name -> its message
        self.text_parts: list[str] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._error_depth = 0
        self._error_id = ""
        self._error_text: list[str] = []
        self.feed(html)
        self.close()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if self._error_depth and tag not in VOID:
            self._error_depth += 1
        elif "field-error" in a.get("class", "").split() or a.get("role") == "alert" or (
                "data-error-summary" in a):
            self._error_depth = 1
            self._error_id = a.get("id", "")
            self._error_text = []
        name = a.get("name", "")
        if tag == "input" and name and a.get("type") not in ("hidden", "submit"):
            if a.get("type") in ("radio", "checkbox"):
                if "checked" in a:
                    self.values.setdefault(name, []).append(a.get("value", ""))
            else:
                self.values[name] = [a.get("value", "")]
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = [""]
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = [a.get("value", "")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        if self._error_depth:
            self._error_depth -= 1
            if not self._error_depth:
                message = " ".join(" ".join(self._error_text).replace("Error:", "").split())
                self.errors.append(message)
                if self._error_id.endswith("-error"):
                    self.field_errors[self._error_id.removesuffix("-error")] = message

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea][0] += data
        if self._error_depth:
            self._error_text.append(data)
        self.text_parts.append(data)


def page_of(response: Any) -> Page:
    return Page(response.get_data(as_text=True))


def count_reports(session: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Report)) or 0


def assert_kept(page: Page, data: dict[str, Any], skip: tuple[str, ...] = ()) -> None:
    """Every value that was sent is on the page again, as the person typed or chose it."""
    for name, value in data.items():
        if name in skip or value in ("", []):
            continue
        expected = list(value) if isinstance(value, list) else [value]
        assert page.values.get(name) == expected, (name, page.values.get(name))


def assert_no_raw_markup(*responses: Any) -> None:
    for response in responses:
        body = response.get_data(as_text=True)
        for raw in RAW:
            assert raw not in body, (response.request.path, raw)


def assert_friendly(response: Any) -> None:
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert body.lstrip().lower().startswith("<!doctype html>")
    assert "<h1" in body
    assert "/static/css/portal.css" in body  # the portal's own page, not a bare server error
    for header in SECURITY_HEADERS:
        assert header in response.headers, header


def post_form(client: Any, url: str, data: dict[str, Any], **kw: Any) -> Any:
    """Load the form, then send ``data`` with the page's own hidden fields."""
    fields = hidden_fields(client.get(url).get_data(as_text=True), url)
    return client.post(url, data={**fields, **data}, **kw)


# --- CSRF ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_report_without_csrf_token_is_refused_and_keeps_every_word(form, client, school,
                                                                   session):
    """A report form posted without a CSRF token: 400, nothing stored, the words still there."""
    url, data, _ = REPORT_FORMS[form]
    fields = hidden_fields(client.get(url).get_data(as_text=True), url)
    del fields["csrf_token"]
    response = client.post(url, data={**fields, **data})
    assert response.status_code == 400
    assert count_reports(session) == 0
    page = page_of(response)
    assert any(CSRF_MESSAGE in e for e in page.errors), page.errors
    assert_kept(page, data)


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_report_with_another_sessions_token_is_refused_and_keeps_every_word(form, app, client,
                                                                            school, session):
    """A report form posted with a token from someone else's session: 400, nothing stored."""
    url, data, _ = REPORT_FORMS[form]
    other = app.test_client()
    foreign = hidden_fields(other.get(url).get_data(as_text=True), url)["csrf_token"]
    fields = hidden_fields(client.get(url).get_data(as_text=True), url)
    assert fields["csrf_token"] != foreign
    response = client.post(url, data={**fields, **data, "csrf_token": foreign})
    assert response.status_code == 400
    assert count_reports(session) == 0
    page = page_of(response)
    assert any(CSRF_MESSAGE in e for e in page.errors), page.errors
    assert_kept(page, data)


@pytest.mark.parametrize("token", ["missing", "foreign"])
def test_follow_up_without_a_valid_token_is_refused_and_shows_nothing(token, app, client,
                                                                       school, make_report):
    """The follow-up form without a valid CSRF token: 400 and the report is not shown."""
    _, code = make_report(school, what_happened="Secret words about the lunch hall")
    fields = hidden_fields(client.get("/follow-up").get_data(as_text=True), "/follow-up")
    if token == "missing":
        del fields["csrf_token"]
    else:
        other = app.test_client()
        fields["csrf_token"] = hidden_fields(other.get("/follow-up").get_data(as_text=True),
                                             "/follow-up")["csrf_token"]
    response = client.post("/follow-up", data={**fields, "code": code})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Secret words" not in body
    assert "Received" not in body


@pytest.mark.parametrize("token", ["missing", "foreign"])
def test_staff_login_without_a_valid_token_is_refused(token, app, client, school, make_user,
                                                       session):
    """Staff login without a valid CSRF token: 400, no staff session opened, still signed out."""
    user = make_user(Role.DSL, school)
    fields = hidden_fields(client.get("/staff/login").get_data(as_text=True))
    if token == "missing":
        del fields["csrf_token"]
    else:
        other = app.test_client()
        fields["csrf_token"] = hidden_fields(
            other.get("/staff/login").get_data(as_text=True))["csrf_token"]
    response = client.post("/staff/login",
                           data={**fields, "email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(StaffSession)) == 0
    assert client.get("/staff/").status_code == 302


# --- Markup in every text field -----------------------------------------------------------


@pytest.mark.parametrize("payload", [SCRIPT, IMG], ids=["script", "img"])
def test_markup_in_every_pupil_field_is_stored_as_typed_and_shown_escaped(
        payload, client, browser, school, session, make_user):
    """Markup typed by a pupil is kept as typed and escaped on every page that shows it."""
    typed = {"what_happened": payload + " at lunch", "who_involved": payload,
             "reporter_name": payload, "reporter_class": payload}
    done = browser.submit(PUPIL_URL, {**PUPIL, **typed, "anonymous": "no"})
    assert done.status_code == 200
    report = session.scalars(select(Report)).one()
    assert (report.body, report.people_involved, report.reporter_name,
            report.reporter_class) == tuple(typed.values())

    status = browser.submit("/follow-up", {"code": followup_code(done.get_data(as_text=True))})
    assert status.status_code == 200
    assert str(escape(typed["what_happened"])) in status.get_data(as_text=True)

    assert browser.login(make_user(Role.DSL, school).email).status_code == 302
    case = client.get(f"/staff/cases/{report.id}")
    assert case.status_code == 200
    assert case.get_data(as_text=True).count(str(escape(payload))) >= 4
    assert_no_raw_markup(done, status, case, client.get("/staff/?status=all"))


@pytest.mark.parametrize("payload", [SCRIPT, IMG], ids=["script", "img"])
def test_markup_in_every_parent_field_is_stored_as_typed_and_shown_escaped(
        payload, client, browser, school, session, make_user):
    """Markup typed by a parent is kept as typed and escaped on every page that shows it."""
    typed = {"child_name": payload, "details": payload + " every day", "since_when": payload,
             "parent_name": payload,
             "contact_email": payload.replace(" ", "/") + "@example.org"}
    done = browser.submit(PARENT_URL, {**PARENT, **typed})
    assert done.status_code == 200
    report = session.scalars(select(Report)).one()
    assert (report.child_name, report.body, report.since_when, report.parent_name,
            report.contact_email) == tuple(typed.values())

    status = browser.submit("/follow-up", {"code": followup_code(done.get_data(as_text=True))})
    assert status.status_code == 200
    assert str(escape(typed["details"])) in status.get_data(as_text=True)

    assert browser.login(make_user(Role.DSL, school).email).status_code == 302
    case = client.get(f"/staff/cases/{report.id}")
    assert case.status_code == 200
    case_html = case.get_data(as_text=True)
    assert case_html.count(str(escape(payload))) >= 4
    assert str(escape(typed["contact_email"])) in case_html
    assert_no_raw_markup(done, status, case, client.get("/staff/?status=all"))


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_markup_on_a_refused_form_is_kept_and_escaped(form, client, school, session):
    """When a form is refused, markup typed into it comes back escaped, the words intact."""
    url, data, text_field = REPORT_FORMS[form]
    sent = {**data, text_field: SCRIPT + IMG}
    required = "feels_safe" if form == "pupil" else "parent_name"
    del sent[required]
    response = post_form(client, url, sent)
    assert response.status_code == 400
    assert count_reports(session) == 0
    assert page_of(response).values[text_field] == [SCRIPT + IMG]
    assert_no_raw_markup(response)


def test_markup_in_the_phone_number_is_refused_not_stored(client, school, session):
    """The phone field only takes a phone number: markup there is refused and shown escaped."""
    response = post_form(client, PARENT_URL, {**PARENT, "contact_phone": SCRIPT})
    assert response.status_code == 400
    assert count_reports(session) == 0
    page = page_of(response)
    assert "contact_phone" in page.field_errors
    assert page.values["contact_phone"] == [SCRIPT]
    assert_no_raw_markup(response)


# --- Size ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_text_over_5000_characters_is_refused_with_the_limit_named_and_kept(form, client,
                                                                           school, session):
    """5001 characters: 400, a message that names the 5000 limit, the text still in the box."""
    url, data, text_field = REPORT_FORMS[form]
    long_text = ("She pushed me. " * 400)[:5000] + "!"
    assert len(long_text) == 5001
    response = post_form(client, url, {**data, text_field: long_text})
    assert response.status_code == 400
    assert count_reports(session) == 0
    page = page_of(response)
    assert "5000" in page.field_errors.get(text_field, "")
    assert any("5000" in e for e in page.errors if e != page.field_errors[text_field])
    assert page.values[text_field] == [long_text]


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_text_of_exactly_5000_characters_is_accepted(form, client, school, session):
    """The limit is 5000, not less: a text of exactly 5000 characters is stored whole."""
    url, data, text_field = REPORT_FORMS[form]
    text = "x" * 5000
    assert post_form(client, url, {**data, text_field: text}).status_code == 200
    assert session.scalars(select(Report)).one().body == text


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_a_body_over_one_mebibyte_gets_the_friendly_413_page(encoding, client, school, session):
    """A request body over MAX_CONTENT_LENGTH: 413, the friendly page with headers, no row."""
    fields = hidden_fields(client.get(PUPIL_URL).get_data(as_text=True), PUPIL_URL)
    data = {**fields, **PUPIL, "what_happened": "x" * (1024 * 1024 + 1)}
    if encoding == "multipart":
        # Encoded here in memory: the test client's own encoder leaves a temporary file open.
        boundary, body = encode_multipart(MultiDict(
            [(k, v) for k, vs in data.items() for v in (vs if isinstance(vs, list) else [vs])]))
        response = client.post(PUPIL_URL, data=body,
                               content_type=f"multipart/form-data; boundary={boundary}")
    else:
        response = client.post(PUPIL_URL, data=data)
    assert response.status_code == 413
    assert_friendly(response)
    if encoding != "multipart":  # a multipart form is shown again, with its own message
        assert MESSAGES[413][1] in page_of(response).text
    assert count_reports(session) == 0


# --- Wrong types and values ---------------------------------------------------------------

WRONG = [
    ("pupil", "feels_safe", {"feels_safe": "banana"}),
    ("pupil", "kinds", {"kinds": ["nonsense"]}),
    ("pupil", "anonymous", {"anonymous": None}),
    ("pupil", "adult", {"adult": "999999"}),
    ("parent", "child_year", {"child_year": "Year 99"}),
    ("parent", "contact_email", {"contact_email": "not-an-email"}),
]


@pytest.mark.parametrize(("form", "field", "change"), WRONG,
                         ids=[f"{form}-{field}" for form, field, _ in WRONG])
def test_a_wrong_value_is_refused_with_a_message_and_the_rest_kept(form, field, change, client,
                                                                   school, session):
    """A value no real form could send: 400, a message at that field, the other answers kept."""
    url, data, text_field = REPORT_FORMS[form]
    sent = {k: v for k, v in {**data, **change}.items() if v is not None}
    response = post_form(client, url, sent)
    assert response.status_code == 400
    assert count_reports(session) == 0
    page = page_of(response)
    message = page.field_errors.get(field, "")
    assert message, f"no message at {field}: {page.errors}"
    assert any(message in e for e in page.errors if e != message), "not in the error summary"
    assert_kept(page, sent, skip=(field,))
    assert page.values[text_field] == [data[text_field]]


@pytest.mark.parametrize("form", REPORT_FORMS)
def test_nul_and_control_characters_are_dropped_not_a_500(form, client, school, session):
    """NUL and other control characters in text fields are stored without them; no 500."""
    url, data, _ = REPORT_FORMS[form]
    dirty = "\x00Kicked\x01 me\x07 at\x1b break\x7f\x00"
    texts = (["what_happened", "who_involved"] if form == "pupil"
             else ["child_name", "details", "since_when", "parent_name"])
    response = post_form(client, url, {**data, **dict.fromkeys(texts, dirty)})
    assert response.status_code == 200
    report = session.scalars(select(Report)).one()
    stored = {"what_happened": report.body, "who_involved": report.people_involved,
              "details": report.body, "child_name": report.child_name,
              "since_when": report.since_when, "parent_name": report.parent_name}
    for name in texts:
        assert stored[name] == "Kicked me at break", name


@pytest.mark.parametrize(("form", "field"),
                         [(form, field) for form, (_, data, _) in REPORT_FORMS.items()
                          for field in data])
def test_a_nul_byte_in_any_field_never_causes_a_500(form, field, client, school):
    """Whatever field carries a NUL byte, the answer is a page (200 or 400), never a 500."""
    url, data, _ = REPORT_FORMS[form]
    value = data[field]
    poisoned = [v + "\x00" for v in value] if isinstance(value, list) else value + "\x00"
    response = post_form(client, url, {**data, field: poisoned})
    assert response.status_code in (200, 400), response.status_code
    assert "Traceback" not in response.get_data(as_text=True)


# --- Unknown schools, wrong methods -------------------------------------------------------


@pytest.mark.parametrize("url", ["/s/nowhere/pupil", "/s/nowhere/parent", "/s/oak%00field/pupil",
                                 "/s/..%2Foakfield/pupil"])
def test_an_unknown_school_gets_the_friendly_404(url, client, school):
    """A school slug that does not exist: the friendly 404 page, for GET and for POST."""
    response = client.get(url)
    assert response.status_code == 404
    assert_friendly(response)
    assert "find that page" in page_of(response).text
    token = hidden_fields(client.get("/follow-up").get_data(as_text=True), "/follow-up")
    posted = client.post(url, data={**token, **PUPIL})
    assert posted.status_code == 404
    assert_friendly(posted)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("url", [PUPIL_URL, PARENT_URL, "/follow-up", "/staff/login"])
def test_a_wrong_method_gets_the_friendly_405(method, url, client, school):
    """PUT, DELETE or PATCH on a form address: the friendly 405 page, with headers and Allow."""
    response = client.open(url, method=method, data={"code": "1"})
    assert response.status_code == 405
    assert_friendly(response)
    assert MESSAGES[405][1] in page_of(response).text
    assert "POST" in response.headers.get("Allow", "")


# --- Follow-up codes ----------------------------------------------------------------------


def test_wrong_malformed_and_empty_codes_get_one_identical_neutral_answer(browser, school,
                                                                          make_report):
    """A wrong, a malformed and an empty code get the same status and the same message."""
    make_report(school)
    answers = {}
    for label, code in [("wrong", "1234-5678-9012-3456-7890"), ("malformed", "12ab-<x>-!!"),
                        ("too short", "1234-5678"), ("nul", "1234\x00"), ("empty", "")]:
        response = browser.submit("/follow-up", {"code": code})
        page = page_of(response)
        assert "Received" not in page.text
        assert page.errors, label
        answers[label] = (response.status_code, page.errors)
    differ = {label: answer for label, answer in answers.items() if answer != answers["wrong"]}
    assert not differ, f"a wrong code gets {answers['wrong']}, but {differ}"


def test_a_real_code_shows_the_status_in_plain_words_and_the_report(browser, school,
                                                                    make_report):
    """The real code shows "Received" and the reporter's own words."""
    _, code = make_report(school, what_happened="They hid my coat in the toilets.")
    response = browser.submit("/follow-up", {"code": code})
    assert response.status_code == 200
    text = page_of(response).text
    assert "Received" in text
    assert "They hid my coat in the toilets." in text


def test_more_than_ten_guesses_a_minute_are_refused_with_retry_after(app, client, school,
                                                                     make_report):
    """The eleventh follow-up POST in a minute from one address: 429, Retry-After, friendly."""
    _, code = make_report(school, what_happened="They hid my coat in the toilets.")
    fields = hidden_fields(client.get("/follow-up").get_data(as_text=True), "/follow-up")
    for guess in range(10):
        response = client.post("/follow-up", data={**fields, "code": f"{guess:020d}"})
        assert response.status_code == 200, guess
        # each answer carries the next one-time pass, as the page a person sees would
        fields = hidden_fields(response.get_data(as_text=True), "/follow-up")
    refused = client.post("/follow-up", data={**fields, "code": code})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert_friendly(refused)
    assert MESSAGES[429][1] in page_of(refused).text
    assert "They hid my coat" not in refused.get_data(as_text=True)
    # Another address is not held up by this one's guesses.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    other_fields = hidden_fields(other.get("/follow-up").get_data(as_text=True), "/follow-up")
    assert other.post("/follow-up", data={**other_fields, "code": code}).status_code == 200


def test_nul_bytes_in_the_staff_login_are_not_a_500(browser, school, make_user):
    """NUL bytes in the login email and password: the ordinary refusal, never a 500."""
    user = make_user(Role.DSL, school)
    response = browser.submit("/staff/login", {"email": user.email + "\x00",
                                               "password": "\x00" + PASSWORD})
    assert response.status_code in (200, 400)
    assert "Traceback" not in response.get_data(as_text=True)
