"""Signing in with a school's or a trust's own accounts: OpenID Connect's authorization code
flow (issue 18), through Authlib (the client: PKCE, the token request) and joserfc (the ID
token's signature and claims). No Flask here but ``SsoError``'s words; the routes are in
``portal.auth.views_sso``.

What the portal holds to, whatever the provider says:
- only an **existing, switched-on** staff account signs in, matched by its **verified**
  email (``email_verified`` true), in a domain this provider speaks for, and in the
  provider's own school or trust: an account is never created by signing in, and roles
  stay the portal's;
- the ID token is the one the portal's own token request got back for its own request:
  signed by a key the issuer publishes, issued by that issuer, for this portal's client
  id, with the nonce and PKCE verifier of this browser's sign-in, unexpired;
- the second step: a provider that asserts a second factor (``amr`` holds ``"mfa"``,
  RFC 8176, or ``otp``/``hwk``/``swk``/``fpt``) has done it; otherwise the portal asks for
  its own (the authenticator code, as after a password).
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import DSL_TEAM, Role, School, SsoProvider, User

log = logging.getLogger("portal.sso")

TIMEOUT = 5  # seconds for each request to the provider (its connection, and each read)
TOTAL_SECONDS = 10  # for a whole document
MAX_BYTES = 512 * 1024  # a discovery document, a key set or a token response
METADATA_SECONDS = 600  # how long a provider's discovery document and keys are kept
FLOW_SECONDS = 600  # a sign-in started at the provider must come back within ten minutes
LEEWAY = 60  # seconds of clock difference allowed on the ID token's times
# Asymmetric signatures only: "none" and the client-secret MACs are never accepted.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
              "ES512", "EdDSA")
# RFC 8176 methods that are a second factor, or a factor beyond a password
MFA_METHODS = frozenset({"mfa", "otp", "hwk", "swk", "fpt", "sc"})
# Accounts that see safeguarding information: the DSL team (report text) and the head (the
# notices to the Principal). Whoever runs a provider can sign in as anyone in its domains,
# and only the DSL decides who reads reports (portal.admin.staff, "issue 18's trial, H1"):
# an administrator pointing the school at a provider of their own must not become the DSL.
# So for these the portal's own second step always applies, whatever the provider says,
# and the account's owner must have set it up themselves first (from their invitation).
OWN_SECOND_STEP = DSL_TEAM | {Role.HEAD}

CANT_START = ("Signing in with your school account isn't working just now: the portal "
              "could not reach your school's sign-in service. Sign in with your password, "
              "or try again in a few minutes.")
OWN_STEP_FIRST = ("Your account here can see safeguarding information, so its first sign-in "
                  "is with the link in your invitation email, where you set up the portal's "
                  "own second step. After that, your school account works too.")
NOT_MATCHED = ("Your school account signed you in, but it doesn't match a staff account "
               "here. Ask your school's administrator to add you with this address.")


class SsoError(Exception):
    """A sign-in that can't go on: ``str()`` is for the person, ``reason`` for the audit
    trail and the log (a short code, never an address or a name)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Signed:
    """Who the provider vouched for, matched to their account."""

    user: User
    provider: SsoProvider
    second_factor: bool  # the provider asserted one (amr)


def normal_domain(text: str) -> str:
    return text.strip().lower().rstrip(".")


def domain_of(email: str) -> str:
    _, at, domain = email.strip().rpartition("@")
    return normal_domain(domain) if at else ""


def issuer_problem(issuer: str, *, allow_http_loopback: bool) -> str | None:
    """Why ``issuer`` can't be an OpenID Connect issuer here, or None. HTTPS only (the
    provider's keys come from it); plain HTTP only on this machine's loopback, and only
    where the portal is told to allow it (``PORTAL_SSO_HTTP_LOOPBACK``, for trying out a
    provider on the same machine and for the tests)."""
    parts = urlsplit(issuer)
    if parts.query or parts.fragment or not parts.hostname:
        return "The issuer must be a web address like https://login.example.com/tenant."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and allow_http_loopback and _loopback(parts.hostname):
        return None
    return "The issuer must start with https:// (a sign-in service without HTTPS can't be trusted)."


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def provider_for(db: Session, email: str) -> SsoProvider | None:
    """The one switched-on provider that speaks for ``email``'s domain (None for none, or
    if two did, which saving a provider refuses)."""
    domain = domain_of(email)
    if not domain:
        return None
    found = [p for p in db.scalars(select(SsoProvider).where(SsoProvider.enabled.is_(True)))
             if domain in p.domain_list]
    if len(found) != 1:
        return None
    # An account at another school or trust is never sent to this provider's page (the
    # same answer as no provider: nothing tells the two apart)
    user = _account_at(db, email)
    if user is not None and not in_scope(db, found[0], user):
        return None
    return found[0]


def _account_at(db: Session, email: str) -> User | None:
    """The account with ``email``, in any case (as portal.accounts.find_user finds it)."""
    return db.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def in_scope(db: Session, provider: SsoProvider, user: User) -> bool:
    """Whether ``user``'s account belongs to ``provider``'s school or trust."""
    return scope_holds(db, provider.school_id, provider.trust_id, user)


def scope_holds(db: Session, school_id: int | None, trust_id: int | None,
                user: User) -> bool:
    """Whether ``user``'s account belongs to the school ``school_id`` or, without one, to
    the trust ``trust_id`` (its lead, or the staff of its schools)."""
    if school_id is not None:
        return user.school_id == school_id
    if user.trust_id is not None:
        return user.trust_id == trust_id
    if user.school_id is None:
        return False
    school = db.get(School, user.school_id)
    return school is not None and school.trust_id == trust_id


# --- the provider's documents ------------------------------------------------------------

_cache: dict[str, tuple[float, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


def public_host(url: str, *, allow_http_loopback: bool) -> bool:
    """Whether every address ``url``'s host has is on the internet (or this machine's
    loopback, where that is allowed): the portal fetches a provider's documents itself, and
    an administrator's issuer must not make it knock on the school's or the host's own
    network (a Redis port, a cloud metadata address). A host that doesn't resolve passes:
    fetching it fails anyway."""
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return True
    for info in found:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address.is_loopback and allow_http_loopback:
            continue
        if not address.is_global:
            return False
    return True


def _read(response: requests.Response) -> bytes:
    """The body, at most MAX_BYTES, within TOTAL_SECONDS (a provider dripping a byte at a
    time must not hold the request: each read waits TIMEOUT at most)."""
    deadline = time.monotonic() + TOTAL_SECONDS
    body = bytearray()
    while True:
        chunk = response.raw.read1(16_384, decode_content=True)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > MAX_BYTES or time.monotonic() > deadline:
            raise SsoError("provider_unreachable", CANT_START)


def _fetch_json(url: str, *, allow_http_loopback: bool) -> dict[str, Any]:
    if not public_host(url, allow_http_loopback=allow_http_loopback):
        log.warning("sso: refused to fetch a provider document from a private address")
        raise SsoError("provider_unreachable", CANT_START)
    try:
        with requests.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True,
                          headers={"Accept": "application/json"}) as response:
            response.raise_for_status()
            body = _read(response)
    except SsoError:
        raise
    except Exception as error:  # noqa: BLE001 - requests', urllib3's (a body cut short)
        # and the socket's errors alike: the provider could not be read
        log.warning("sso: could not fetch the provider's %s (%s)", urlsplit(url).path,
                    type(error).__name__)
        raise SsoError("provider_unreachable", CANT_START) from error
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting a mile deep
        raise SsoError("provider_unreachable", CANT_START) from error
    if not isinstance(data, dict):
        raise SsoError("provider_unreachable", CANT_START)
    return data


def metadata(issuer: str, *, allow_http_loopback: bool) -> dict[str, Any]:
    """The issuer's discovery document (OpenID Connect Discovery 1.0), kept ten minutes.
    Its ``issuer`` must be the one configured, and its endpoints on the same footing."""
    now = time.monotonic()
    with _cache_lock:
        kept = _cache.get(issuer)
    if kept and now - kept[0] < METADATA_SECONDS:
        return kept[1]
    data = _fetch_json(issuer.rstrip("/") + "/.well-known/openid-configuration",
                       allow_http_loopback=allow_http_loopback)
    if data.get("issuer") != issuer:
        log.warning("sso: the discovery document names another issuer")
        raise SsoError("issuer_mismatch", CANT_START)
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = data.get(name)
        if not isinstance(value, str) or issuer_problem(
                value, allow_http_loopback=allow_http_loopback):
            raise SsoError("bad_metadata", CANT_START)
    if not public_host(data["token_endpoint"], allow_http_loopback=allow_http_loopback):
        raise SsoError("bad_metadata", CANT_START)  # the portal posts the code there
    data = {**data, "jwks": _fetch_json(data["jwks_uri"],
                                        allow_http_loopback=allow_http_loopback)}
    with _cache_lock:
        _cache[issuer] = (now, data)
    return data


def forget(issuer: str) -> None:
    """Drop what is kept of ``issuer`` (saving a provider; a key the set lacks)."""
    with _cache_lock:
        _cache.pop(issuer, None)


# --- the sign-in -------------------------------------------------------------------------

def _client(provider: SsoProvider, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(provider.client_id, provider.client_secret, scope="openid email",
                         redirect_uri=redirect_uri, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic")  # noqa: S106 - a method name


def begin(provider: SsoProvider, email: str, redirect_uri: str, *,
          allow_http_loopback: bool) -> tuple[str, dict[str, Any]]:
    """The provider's sign-in address for this browser, and what the browser's session
    keeps until it comes back (state, nonce and PKCE verifier: one sign-in's secrets)."""
    meta = metadata(provider.issuer, allow_http_loopback=allow_http_loopback)
    state, nonce, verifier = generate_token(32), generate_token(32), generate_token(64)
    flow = {"provider": provider.id, "state": state, "nonce": nonce, "verifier": verifier,
            "at": time.time()}
    with _client(provider, redirect_uri) as client:
        url, _state = client.create_authorization_url(
            meta["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier,
            login_hint=email)
    return str(url), flow


def finish(db: Session, flow: dict[str, Any] | None, args: dict[str, str], redirect_uri: str,
           *, allow_http_loopback: bool) -> Signed:
    """Check what came back from the provider and find the account it vouches for."""
    if not flow or time.time() - float(flow.get("at", 0)) > FLOW_SECONDS:
        raise SsoError("no_sign_in", "That sign-in has ended or was started in another "
                       "browser. Start again from the sign-in page.")
    if not hmac.compare_digest(str(args.get("state", "")), str(flow.get("state", ""))):
        raise SsoError("state_mismatch", "That sign-in has ended or was started in another "
                       "browser. Start again from the sign-in page.")
    provider = db.get(SsoProvider, int(flow.get("provider", 0)))
    if provider is None or not provider.enabled:
        raise SsoError("provider_off", "Signing in with your school account has been "
                       "switched off. Sign in with your password.")
    if args.get("error"):
        raise SsoError("provider_refused", "Your school's sign-in service did not sign you "
                       "in. Try again, or sign in with your password.")
    meta = metadata(provider.issuer, allow_http_loopback=allow_http_loopback)
    # RFC 9207: where the provider names itself in the response, it must be this one
    if "iss" in args and args["iss"] != provider.issuer:
        raise SsoError("issuer_mismatch", NOT_MATCHED)
    code = args.get("code", "")
    if not code:
        raise SsoError("no_code", "Your school's sign-in service did not sign you in. Try "
                       "again, or sign in with your password.")
    try:
        with _client(provider, redirect_uri) as client:
            token = client.fetch_token(meta["token_endpoint"], code=code,
                                       code_verifier=flow["verifier"], timeout=TIMEOUT)
    except Exception as error:  # noqa: BLE001 - Authlib's OAuthError, requests' errors, bad JSON
        log.warning("sso: the token request failed (%s)", type(error).__name__)
        raise SsoError("token_refused", "Your school's sign-in service did not confirm "
                       "the sign-in. Start again from the sign-in page.") from error
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise SsoError("no_id_token", NOT_MATCHED)
    claims = _checked_claims(provider, meta, raw, flow, str(token.get("access_token", "")),
                             allow_http_loopback=allow_http_loopback)
    user = _account(db, provider, claims)
    if user.role in OWN_SECOND_STEP and not user.totp_secret:
        raise SsoError("own_step_first", OWN_STEP_FIRST)
    amr = claims.get("amr")
    methods = {str(m) for m in amr} if isinstance(amr, list) else set()
    vouched = bool(MFA_METHODS & methods) and user.role not in OWN_SECOND_STEP
    return Signed(user=user, provider=provider, second_factor=vouched)


def _checked_claims(provider: SsoProvider, meta: dict[str, Any], raw: str,
                    flow: dict[str, Any], access_token: str, *,
                    allow_http_loopback: bool) -> dict[str, Any]:
    offered = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in ALGORITHMS if a in offered]
    if not algorithms:  # joserfc would fall back on its own list, shared secrets included
        log.warning("sso: the provider offers no asymmetric signature for its ID tokens")
        raise SsoError("bad_metadata", CANT_START)
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False)
    try:
        try:
            decoded = jwt.decode(raw, KeySet.import_key_set(meta["jwks"]), registry=registry)
        except JoseError:
            # a key the kept set lacks: the provider may have rotated its keys; once more
            # with a fresh set, then give up
            forget(provider.issuer)
            meta = metadata(provider.issuer, allow_http_loopback=allow_http_loopback)
            decoded = jwt.decode(raw, KeySet.import_key_set(meta["jwks"]), registry=registry)
        claims = CodeIDToken(
            decoded.claims, decoded.header,
            {"iss": {"essential": True, "value": provider.issuer},
             "aud": {"essential": True, "value": provider.client_id}},
            {"nonce": flow["nonce"], "client_id": provider.client_id,
             "access_token": access_token})
        claims.validate(leeway=LEEWAY)
    except SsoError:
        raise
    except Exception as error:  # noqa: BLE001 - joserfc's and authlib's errors, and a key
        # set the provider made badly (no "keys", wrong types): each is a refused token
        log.warning("sso: an ID token was refused (%s)", type(error).__name__)
        raise SsoError("bad_id_token", "Your school's sign-in could not be checked, so it "
                       "was not accepted. Start again from the sign-in page.") from error
    return cast(dict[str, Any], dict(claims))


def _account(db: Session, provider: SsoProvider, claims: dict[str, Any]) -> User:
    email = claims.get("email")
    # ASCII only: str.lower() turns look-alikes into letters ("\u212aate" is "kate"), and
    # staff addresses here are plain ASCII
    if not isinstance(email, str) or "@" not in email or not email.isascii():
        raise SsoError("no_email", NOT_MATCHED)
    if claims.get("email_verified") is not True:
        raise SsoError("email_unverified", "Your school's sign-in service has not verified "
                       "your email address, so it can't sign you in here. Sign in with your "
                       "password, or ask your IT team.")
    if domain_of(email) not in provider.domain_list:
        raise SsoError("foreign_domain", NOT_MATCHED)
    user = _account_at(db, email)
    if user is None or not in_scope(db, provider, user):
        raise SsoError("no_account", NOT_MATCHED)
    if not user.is_active:
        raise SsoError("account_off", "Your account here is switched off. If you still work "
                       "at the school, ask its administrator or DSL.")
    return user


def logout_url(provider: SsoProvider, after: str, *,
               allow_http_loopback: bool) -> str | None:
    """The provider's sign-out address (RP-Initiated Logout 1.0), coming back to ``after``;
    None where it has none or can't be reached (the portal's own session has ended)."""
    try:
        meta = metadata(provider.issuer, allow_http_loopback=allow_http_loopback)
    except SsoError:
        return None
    endpoint = meta.get("end_session_endpoint")
    if not isinstance(endpoint, str) or issuer_problem(
            endpoint, allow_http_loopback=allow_http_loopback):
        return None
    params = {"client_id": provider.client_id, "post_logout_redirect_uri": after}
    request = requests.Request("GET", endpoint, params=params).prepare()
    return str(request.url)
