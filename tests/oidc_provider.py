"""A real OpenID Connect provider for the single sign-on tests: the certified Node.js
``oidc-provider`` (tests/oidc/server.mjs) on 127.0.0.1, and a person signing in at it.

The first use on a machine installs it (``npm ci`` from tests/oidc/package-lock.json, once,
under a lock: two test workers may start together). The server stops when the test process
closes its standard input, and after an hour whatever happens."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "tell-us-portal"
CLIENT_SECRET = "a-test-client-secret-not-for-anything-real"  # noqa: S105 - the tests' own


def _installed() -> None:
    if (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("the single sign-on tests need Node.js and npm (they start a real "
                           "OpenID Connect provider, tests/oidc)")
    with open(HERE / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (HERE / "node_modules" / "oidc-provider" / "package.json").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S603
                           cwd=HERE, check=True, timeout=600)


class Provider:
    """One running provider, with ``issuer`` and the portal's client registered on it."""

    def __init__(self, issuer: str, process: subprocess.Popen[bytes]) -> None:
        self.issuer = issuer
        self.process = process

    def tamper(self, **claims: Any) -> None:
        """The next token response carries an ID token with these claims changed (and
        ``key="other"``: signed with a key the provider never published)."""
        requests.post(f"{self.issuer}/__test/tamper", json=claims, timeout=5).raise_for_status()

    def sign_in(self, authorize_url: str, email: str, *, verified: bool = True,
                mfa: bool = False, http: requests.Session | None = None) -> str:
        """Sign in at the provider as a person would (their browser: ``http``), from the
        portal's redirect to it; returns the portal address the provider sends them back
        to (the callback, with its code and state)."""
        http = http or requests.Session()
        response = self._follow(http, http.get(authorize_url, allow_redirects=False,
                                               timeout=10))
        if response.status_code != 200:
            raise AssertionError(f"the provider answered {response.status_code}: "
                                 f"{response.text[:300]}")
        action = re.search(r'action="([^"]+)"', response.text)
        assert action, response.text[:500]
        form = {"email": email}
        if verified:
            form["verified"] = "1"
        if mfa:
            form["mfa"] = "1"
        done = self._follow(http, http.post(urljoin(self.issuer, action.group(1)), data=form,
                                            allow_redirects=False, timeout=10))
        location = done.headers.get("Location", "")
        assert done.status_code in (302, 303), (done.status_code, done.text[:300])
        assert not location.startswith(self.issuer), location
        return location

    def _follow(self, http: requests.Session, response: requests.Response) -> requests.Response:
        """Follow the provider's own redirects; stop at one leaving it."""
        for _ in range(10):
            location = response.headers.get("Location", "")
            if response.status_code not in (302, 303) or not urljoin(
                    self.issuer, location).startswith(self.issuer):
                return response
            response = http.get(urljoin(self.issuer, location), allow_redirects=False,
                                timeout=10)
        raise AssertionError("the provider redirected in a loop")


@contextmanager
def running(redirect_uris: list[str], post_logout_redirect_uris: list[str]
            ) -> Iterator[Provider]:
    """Start the provider with the portal registered as a client; stop it after."""
    _installed()
    node = shutil.which("node")
    assert node, "the single sign-on tests need Node.js"
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
                "grant_types": ["authorization_code"], "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic"}]
    process = subprocess.Popen(  # noqa: S603
        [node, "server.mjs"], cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, env={**os.environ, "OIDC_CLIENTS": json.dumps(clients)})
    try:
        issuer = _ready(process)
        yield Provider(issuer, process)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


def _ready(process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 30
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline().decode()
        if line.startswith("READY "):
            return line.split()[1]
        if not line and process.poll() is not None:
            break
    raise RuntimeError("the OpenID Connect provider (tests/oidc/server.mjs) did not start")
