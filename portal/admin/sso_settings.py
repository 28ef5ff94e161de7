"""A school's or a trust's single sign-on provider, as its administrator sets it (issue 18):
the trust lead for the whole trust, a school's administrator for their school. No Flask.

Saving checks what a typo or a mistake would break: the issuer is HTTPS and answers with its
own discovery document before the provider is switched on; a domain is spoken for by one
switched-on provider only, so an address never has two ways in; public mailbox domains are
refused (a provider "for gmail.com" would vouch for strangers). Every save is an audit
event naming what changed, never the secret."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import notifications
from ..auth import sso
from ..events import Action
from ..models import Event, School, SsoProvider, User, utcnow

DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MAX_DOMAINS = 20
# mailboxes anyone can open: no school's provider speaks for them
PUBLIC_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.co.uk", "live.com",
    "live.co.uk", "msn.com", "yahoo.com", "yahoo.co.uk", "icloud.com", "me.com", "aol.com",
    "protonmail.com", "proton.me", "gmx.com", "btinternet.com", "sky.com", "mail.com"})


class SsoSettingsError(ValueError):
    """Settings that can't be saved (the words say why and what to do); ``field`` is the
    form's field they are about, shown beside it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scope:
    """Whose provider: a school's (``school_id``) or a trust's (``trust_id``)."""

    school_id: int | None
    trust_id: int | None

    @property
    def word(self) -> str:
        return "school" if self.school_id is not None else "trust"


def scope_for(user: User) -> Scope | None:
    """The trust lead sets the trust's provider; a school administrator the school's."""
    from ..models import Role

    if user.role is Role.TRUST_LEAD and user.trust_id is not None:
        return Scope(None, user.trust_id)
    if user.role is Role.ADMIN and user.school_id is not None:
        return Scope(user.school_id, None)
    return None


def not_ours(db: Session, scope: Scope, domains: list[str]) -> list[str]:
    """The ``domains`` that an active staff account outside ``scope`` has its address at."""
    found = []
    for domain in domains:
        users = db.scalars(select(User).where(
            User.is_active.is_(True),
            func.lower(User.email).endswith("@" + domain, autoescape=True)))
        if any(not sso.scope_holds(db, scope.school_id, scope.trust_id, user)
               for user in users):
            found.append(domain)
    return found


def provider_of(db: Session, scope: Scope) -> SsoProvider | None:
    if scope.school_id is not None:
        return db.scalar(select(SsoProvider).where(SsoProvider.school_id == scope.school_id))
    return db.scalar(select(SsoProvider).where(SsoProvider.trust_id == scope.trust_id))


def parse_domains(text: str) -> list[str]:
    found: list[str] = []
    for part in re.split(r"[\s,;]+", text or ""):
        domain = sso.normal_domain(part.lstrip("@"))
        if not domain:
            continue
        if not DOMAIN.match(domain):
            raise SsoSettingsError(f"“{part[:60]}” is not an email domain: write domains like "
                                   "school.example.org, one per line.", "domains")
        if domain in PUBLIC_MAIL:
            raise SsoSettingsError(f"{domain} is a public mailbox service that anyone can use: "
                                   "only your school's or trust's own domains can sign in.",
                                   "domains")
        if domain not in found:
            found.append(domain)
    if len(found) > MAX_DOMAINS:
        raise SsoSettingsError(f"Keep it to {MAX_DOMAINS} domains.", "domains")
    return found


def save(db: Session, scope: Scope, *, actor: User, label: str, issuer: str, client_id: str,
         client_secret: str, domains: str, enabled: bool, allow_http_loopback: bool
         ) -> SsoProvider:
    """Create or change ``scope``'s provider. A blank secret keeps the one saved."""
    issuer = issuer.strip()
    problem = sso.issuer_problem(issuer, allow_http_loopback=allow_http_loopback)
    if problem:
        raise SsoSettingsError(problem, "issuer")
    chosen = parse_domains(domains)
    provider = provider_of(db, scope)
    if provider is None and not client_secret:
        raise SsoSettingsError("Enter the client secret your identity provider gave you.",
                               "client_secret")
    if enabled and not chosen:
        raise SsoSettingsError("Enter at least one email domain before switching this on.",
                               "domains")
    foreign = not_ours(db, scope, chosen)
    if foreign:
        # A domain another school's staff use would send them to this provider's sign-in
        # page, with their address filled in (a ready-made phishing page; the trial's M2)
        raise SsoSettingsError(
            f"{', '.join(foreign)} can't be used here: staff outside "
            f"{'this school' if scope.school_id is not None else 'this trust'} have "
            "addresses at it. Use only the domains of your own staff's addresses.",
            "domains")
    if enabled:
        others = db.scalars(select(SsoProvider).where(SsoProvider.enabled.is_(True)))
        for other in others:
            if provider is not None and other.id == provider.id:
                continue
            taken = sorted(set(other.domain_list) & set(chosen))
            if taken:
                raise SsoSettingsError(
                    f"{', '.join(taken)} already signs in through another provider here, "
                    "and one domain has one way in. If it is your trust's, ask the trust "
                    "lead which to use.", "domains")
        sso.forget(issuer)
        try:  # the issuer must answer as itself before anyone is sent to it
            sso.metadata(issuer, allow_http_loopback=allow_http_loopback)
        except sso.SsoError as error:
            raise SsoSettingsError(
                "The portal could not read that issuer's OpenID Connect discovery document "
                f"({issuer.rstrip('/')}/.well-known/openid-configuration), so it is not "
                "switched on. Check the issuer address with your IT provider.",
                "issuer") from error
    values = {"label": label.strip() or "School account", "issuer": issuer,
              "client_id": client_id.strip(), "domains": "\n".join(chosen),
              "enabled": enabled}
    if provider is None:
        provider = SsoProvider(school_id=scope.school_id, trust_id=scope.trust_id,
                               client_secret=client_secret, **values)
        db.add(provider)
        changed = [*values, "client_secret"]
    else:
        changed = [name for name, value in values.items() if getattr(provider, name) != value]
        for name, value in values.items():
            setattr(provider, name, value)
        if client_secret:
            provider.client_secret = client_secret
            changed.append("client_secret")
    provider.updated_at = utcnow()
    provider.updated_by_id = actor.id
    db.flush()
    sso.forget(issuer)
    db.add(Event.by(actor, Action.SSO_SAVED, {
        "provider_id": provider.id, "scope": scope.word,
        "fields": [name.replace("_", " ") for name in changed], "enabled": enabled},
        school_id=scope.school_id))
    if set(changed) - {"label"}:
        notifications.sign_in_changed(db, schools_of(db, scope), actor=actor,
                                      fields=[name.replace("_", " ") for name in changed],
                                      enabled=enabled)
    return provider


def schools_of(db: Session, scope: Scope) -> list[School]:
    if scope.school_id is not None:
        school = db.get(School, scope.school_id)
        return [school] if school is not None else []
    return list(db.scalars(select(School).where(School.trust_id == scope.trust_id)
                           .order_by(School.name)))
