"""A small HTTP load generator on the standard library: devices with their own cookie jars,
the pupil form fetched and sent as a browser sends it, and closed-loop runs on threads."""

from __future__ import annotations

import http.client
import http.cookiejar
import random
import re
import secrets
import statistics
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

HIDDEN = re.compile(r'<input[^>]*\bname="(csrf_token|submission)"[^>]*\bvalue="([^"]*)"'
                    r'|<input[^>]*\bvalue="([^"]*)"[^>]*\bname="(csrf_token|submission)"')
CODE = re.compile(rb'data-followup-code="[0-9-]+"')

# What pupils send: mostly everyday unkindness, one in ten does not feel safe right now.
ANSWERS: tuple[dict[str, Any], ...] = (
    {"about": "me", "kinds": ["verbal"], "what_happened": "They keep calling me names at "
     "lunch and everyone laughs.", "places": ["lunch_hall"], "when": "today",
     "happened_before": "yes", "who_involved": "Two children from Year 5", "feels_safe": "yes"},
    {"about": "me", "kinds": ["emotional"], "what_happened": "My friends won't let me play "
     "with them and they whisper about me.", "places": ["playground"], "when": "this_week",
     "happened_before": "not_sure", "who_involved": "", "feels_safe": "not_sure"},
    {"about": "someone_else", "kinds": ["physical", "property"], "what_happened": "I saw a "
     "big boy push a little boy over and take his snack.", "places": ["corridor"],
     "when": "yesterday", "happened_before": "no", "who_involved": "a boy in Year 6",
     "feels_safe": "yes"},
    {"about": "me", "kinds": ["online"], "what_happened": "People in the class group chat "
     "keep sending me mean messages at night.", "places": ["online"], "when": "this_week",
     "happened_before": "yes", "who_involved": "people in my class", "feels_safe": "yes"},
    {"about": "me", "kinds": ["verbal"], "what_happened": "He says he will hurt me after "
     "school if I tell anyone.", "places": ["journey"], "when": "today",
     "happened_before": "yes", "who_involved": "an older boy", "feels_safe": "no"},
)


class Device:
    """One tablet (or browser): its own cookie jar, as a real one keeps."""

    def __init__(self, base: str, kiosk_cookie: str | None = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        # An enrolled kiosk tablet also carries its long-lived enrolment cookie.
        self.fixed = f"tellus_kiosk={kiosk_cookie}" if kiosk_cookie else None

    def cookie(self, path: str) -> str | None:
        request = urllib.request.Request(self.base + path)
        self.jar.add_cookie_header(request)
        cookies = [c for c in (request.get_header("Cookie"), self.fixed) if c]
        return "; ".join(cookies) or None

    def remember(self, response: http.client.HTTPResponse, path: str) -> None:
        self.jar.extract_cookies(response, urllib.request.Request(self.base + path))


def multipart(fields: Sequence[tuple[str, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends the report form (an empty file input)."""
    boundary = "----bench" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; '
                 f'filename=""\r\nContent-Type: application/octet-stream\r\n\r\n\r\n')
    parts.append(f"--{boundary}--\r\n")
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def answer_fields(rng: random.Random) -> list[tuple[str, str]]:
    answer = rng.choice(ANSWERS)
    fields = [("about", answer["about"])]
    fields += [("kinds", k) for k in answer["kinds"]]
    fields += [("what_happened", answer["what_happened"])]
    fields += [("places", p) for p in answer["places"]]
    fields += [(name, answer[name]) for name in ("when", "happened_before", "who_involved",
                                                 "feels_safe")]
    fields += [("anonymous", "yes"), ("reporter_name", ""), ("reporter_class", ""),
               ("adult", "anyone")]
    return fields


def hidden_tokens(html: str) -> dict[str, str]:
    found = {}
    for match in HIDDEN.finditer(html):
        name = match.group(1) or match.group(4)
        found[name] = match.group(2) if match.group(1) else match.group(3)
    return found


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float


class Connection:
    """One keep-alive connection; reopened after a failure (the failure is reported)."""

    def __init__(self, host: str, port: int, keep_alive: bool = True) -> None:
        self.host, self.port, self.keep_alive = host, port, keep_alive
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None,
                device: Device | None = None) -> Reply:
        headers = dict(headers or {})
        if device is not None and (cookie := device.cookie(path)):
            headers["Cookie"] = cookie
        if not self.keep_alive:
            headers["Connection"] = "close"
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        if device is not None:
            device.remember(response, path)
        if not self.keep_alive or response.will_close:
            self.close()
        return Reply(response.status, data, seconds)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


@dataclass(frozen=True)
class Job:
    """One POST to send: its path, body, headers and the device sending it (if any)."""

    path: str
    body: bytes
    headers: dict[str, str]
    device: Device | None = None


def fetch_forms(host: str, port: int, path: str, devices: Sequence[Device], per_device: int,
                concurrency: int, rng: random.Random) -> tuple[list[Job], Counter[str]]:
    """Each device loads the form ``per_device`` times, keeping the CSRF and one-time
    submission tokens of each load: POSTs ready to send (the portal starts a new form
    session after every report, so a device that sends several needs a fresh load for each;
    the throughput run gives every report its own device)."""
    jobs: list[Job] = []
    problems: Counter[str] = Counter()
    lock = threading.Lock()
    queue = list(devices)

    def worker() -> None:
        conn = Connection(host, port)
        while True:
            with lock:
                if not queue:
                    break
                device = queue.pop()
            for _ in range(per_device):
                try:
                    reply = conn.request("GET", path, device=device)
                except (OSError, http.client.HTTPException) as exc:
                    with lock:
                        problems[type(exc).__name__] += 1
                    continue
                tokens = hidden_tokens(reply.body.decode())
                if reply.status != 200 or set(tokens) != {"csrf_token", "submission"}:
                    with lock:
                        problems[f"form {reply.status}"] += 1
                    continue
                fields = [("csrf_token", tokens["csrf_token"]),
                          ("submission", tokens["submission"])]
                with lock:
                    fields += answer_fields(rng)
                body, content_type = multipart(fields)
                with lock:
                    jobs.append(Job(path, body, {"Content-Type": content_type}, device))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rng.shuffle(jobs)
    return jobs, problems


def bare_jobs(count: int, rng: random.Random) -> list[Job]:
    """POSTs for the yardstick: the same multipart answers, without tokens or cookies."""
    jobs = []
    for _ in range(count):
        body, content_type = multipart(answer_fields(rng))
        jobs.append(Job("/insert", body, {"Content-Type": content_type}))
    return jobs


@dataclass
class RunResult:
    ok: int = 0
    refused: int = 0  # 429
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def closed_loop(host: str, port: int, jobs: Sequence[Job], concurrency: int, seconds: float,
                is_ok: Callable[[Reply], bool]) -> RunResult:
    """Send ``jobs`` from ``concurrency`` threads, each waiting for its answer before the
    next, for at most ``seconds`` (or until the jobs run out). Only these requests count."""
    result = RunResult()
    lock = threading.Lock()
    position = iter(range(len(jobs)))
    finished: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds

    def worker() -> None:
        conn = Connection(host, port)
        while time.perf_counter() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                break
            job = jobs[index]
            try:
                reply = conn.request("POST", job.path, job.body, job.headers, job.device)
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    result.errors[type(exc).__name__] += 1
                continue
            with lock:
                if reply.status == 429:
                    result.refused += 1
                elif is_ok(reply):
                    result.ok += 1
                    result.latencies.append(reply.seconds)
                else:
                    result.errors[f"HTTP {reply.status}"] += 1
        with lock:
            finished.append(time.perf_counter())
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = max(finished) - started
    return result


def stored(reply: Reply) -> bool:
    """The portal's confirmation page, with its follow-up code."""
    return reply.status == 200 and CODE.search(reply.body) is not None


def bare_stored(reply: Reply) -> bool:
    return reply.status == 200 and reply.body.startswith(b"stored ")
