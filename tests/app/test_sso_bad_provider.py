"""A provider that answers badly (issue 18's SSO trial, M3 and L4-L5): a discovery document
nested a mile deep, a body cut short, one dripped a byte a second, a key set without keys,
only shared-secret signatures offered, or an issuer on the school's own network. Each is a
plain refusal (SsoError, the "can't reach your school's sign-in" page), never a crash, and
the portal never knocks on a private address for an administrator's issuer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portal.auth import sso

ANSWERS: dict[str, Any] = {}


class BadProvider(BaseHTTPRequestHandler):
    """Answers every GET with ANSWERS["body"] (bytes), claiming ANSWERS["length"] bytes,
    dripping ANSWERS["drip"] of them a byte at a time first."""

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body: bytes = ANSWERS["body"]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(ANSWERS.get("length", len(body))))
        self.end_headers()
        try:
            for index in range(ANSWERS.get("drip", 0)):
                self.wfile.write(body[index:index + 1])
                self.wfile.flush()
                time.sleep(0.5)
            self.wfile.write(body[ANSWERS.get("drip", 0):])
        except OSError:  # the portal hung up, as it should
            pass


@pytest.fixture(scope="module")
def bad() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BadProvider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _discovery(issuer: str) -> bytes:
    return json.dumps({"issuer": issuer, "authorization_endpoint": issuer + "/auth",
                       "token_endpoint": issuer + "/token",
                       "jwks_uri": issuer + "/jwks"}).encode()


@pytest.mark.parametrize(("answer", "why"), [
    ({"body": b"[" * 100_000 + b"]" * 100_000}, "a document nested 100,000 deep"),
    ({"body": b'{"issuer": "x"', "length": 5000}, "a body cut short of its length"),
    ({"body": b"\xff\xfe not json"}, "bytes that are not JSON"),
    ({"body": b"[1, 2, 3]"}, "JSON that is not a document"),
    ({"body": b" " * (sso.MAX_BYTES + 10)}, "a document over the size allowed"),
])
def test_a_badly_made_document_is_a_plain_refusal(bad: str, answer: dict[str, Any],
                                                  why: str) -> None:
    ANSWERS.clear()
    ANSWERS.update(answer)
    sso.forget(bad)
    with pytest.raises(sso.SsoError) as refused:
        sso.metadata(bad, allow_http_loopback=True)
    assert refused.value.reason == "provider_unreachable", why


def test_a_document_dripped_a_byte_at_a_time_is_given_up_on(
        bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read waits TIMEOUT at most, and the whole document TOTAL_SECONDS: here one
    second for a document that would take half a second a byte."""
    monkeypatch.setattr(sso, "TOTAL_SECONDS", 1)
    ANSWERS.clear()
    ANSWERS.update({"body": _discovery(bad), "drip": 40})
    sso.forget(bad)
    with pytest.raises(sso.SsoError):
        sso.metadata(bad, allow_http_loopback=True)


def _claims(meta: dict[str, Any]) -> Any:
    from portal.models import SsoProvider

    provider = SsoProvider(issuer="https://login.example.com", client_id="portal",
                           client_secret="s", label="x", domains="oakfield.test")
    return sso._checked_claims(provider, meta, "e30.e30.e30", {"nonce": "n"}, "",  # noqa: SLF001
                               allow_http_loopback=False)


def test_a_provider_offering_only_shared_secret_signatures_is_refused() -> None:
    """HS256 is signed with a secret the provider shares: never taken as its signature
    (joserfc would otherwise fall back on its own list, which has HS256 in it)."""
    with pytest.raises(sso.SsoError) as refused:
        _claims({"id_token_signing_alg_values_supported": ["HS256"], "jwks": {"keys": []}})
    assert refused.value.reason == "bad_metadata"


@pytest.mark.parametrize("jwks", [{}, {"keys": "none"}, {"keys": [{"kty": "nonsense"}]}, []])
def test_a_key_set_made_badly_refuses_the_token(jwks: Any) -> None:
    """Refused as a bad token, or (where the set is read as lacking the key, and fetched
    again) as a provider that can't be read: never a crash."""
    with pytest.raises(sso.SsoError) as refused:
        _claims({"jwks": jwks})
    assert refused.value.reason in {"bad_id_token", "provider_unreachable"}


@pytest.mark.parametrize("issuer", [
    "https://10.1.2.3/tenant", "https://169.254.169.254/latest", "https://192.168.0.10",
    "https://[::1]:6379", "https://127.0.0.1:6379", "https://localhost:6379",
    "https://[fe80::1]/x", "https://100.64.0.1/",
])
def test_an_issuer_on_a_private_network_is_never_fetched(issuer: str) -> None:
    """The trial's L5: saving an issuer made the portal fetch any address, a port scanner
    by its timing (Redis on 127.0.0.1:6379 answered slower than a closed port)."""
    assert not sso.public_host(issuer, allow_http_loopback=False)
    sso.forget(issuer)
    with pytest.raises(sso.SsoError) as refused:
        sso.metadata(issuer, allow_http_loopback=False)
    assert refused.value.reason == "provider_unreachable"


def test_loopback_is_fetched_only_where_allowed() -> None:
    assert sso.public_host("http://127.0.0.1:9/x", allow_http_loopback=True)
    assert not sso.public_host("http://127.0.0.1:9/x", allow_http_loopback=False)
    assert not sso.public_host("https://10.0.0.1/x", allow_http_loopback=True)
