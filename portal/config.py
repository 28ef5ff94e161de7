"""Every setting of the portal, read once from ``PORTAL_*`` environment variables."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _networks(value: str | None) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    if not value:
        return ()
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in value.replace(";", ",").split(",")
        if part.strip()
    )


def private_dir(path: Path) -> Path:
    """``path`` as a folder only its owner can read: made 0700, or narrowed to 0700 if it
    is ours and others could read it (the instance folder holds the keys, the SQLite
    database and the evidence files; SECURITY P13)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    status = path.stat()
    if status.st_uid == os.getuid() and status.st_mode & 0o077:
        path.chmod(0o700)
    return path


def private_file(path: Path) -> None:
    """Narrow a file of ours that others could read to 0600 (an SQLite database that
    SQLite made under the usual umask; its -wal and -shm files follow its mode)."""
    if path.exists():
        status = path.stat()
        if status.st_uid == os.getuid() and status.st_mode & 0o077:
            path.chmod(0o600)


def _secret_from_file(path: Path) -> str:
    """Read the secret kept in ``path``, creating it (owner-only) the first time."""
    private_dir(path.parent)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


@dataclass(frozen=True)
class Settings:
    """The portal's settings. Build with :meth:`from_env`; tests pass their own."""

    instance_dir: Path
    database_url: str
    secret_key: str
    ratelimit_storage_uri: str = "memory://"
    ratelimit_enabled: bool = True
    school_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # who may read /metrics (portal.metrics); none: the endpoint is off
    metrics_from: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    smtp_url: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    data_key: str | None = None
    proxy_hops: int = 0
    max_content_length: int = 1024 * 1024
    secure_cookies: bool = False
    # single sign-on with a provider on plain HTTP on this machine's loopback (trying one
    # out, and the tests); every other issuer must be HTTPS (portal.auth.sso)
    sso_http_loopback: bool = False

    @classmethod
    def from_env(cls, environ: os._Environ[str] | dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance_dir = Path(env.get("PORTAL_INSTANCE_DIR") or PROJECT_DIR / "instance").resolve()
        database_url = (env.get("PORTAL_DATABASE_URL")
                        or f"sqlite:///{instance_dir / 'portal.sqlite'}")
        secret_key = env.get("PORTAL_SECRET_KEY") or _secret_from_file(instance_dir / "secret_key")
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=secret_key,
            ratelimit_storage_uri=env.get("PORTAL_RATELIMIT_STORAGE_URI") or "memory://",
            ratelimit_enabled=_bool(env.get("PORTAL_RATELIMIT_ENABLED"), True),
            school_networks=_networks(env.get("PORTAL_SCHOOL_NETWORKS")),
            metrics_from=_networks(env.get("PORTAL_METRICS_FROM")),
            smtp_url=env.get("PORTAL_SMTP_URL") or None,
            base_url=env.get("PORTAL_BASE_URL") or "http://127.0.0.1:5000",
            data_key=env.get("PORTAL_DATA_KEY") or None,
            proxy_hops=int(env.get("PORTAL_PROXY_HOPS") or 0),
            max_content_length=int(env.get("PORTAL_MAX_CONTENT_LENGTH") or 1024 * 1024),
            secure_cookies=_bool(env.get("PORTAL_SECURE_COOKIES"), False),
            sso_http_loopback=_bool(env.get("PORTAL_SSO_HTTP_LOOPBACK"), False),
        )
