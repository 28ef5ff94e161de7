"""gunicorn settings for the portal: `gunicorn -c gunicorn.conf.py 'portal:create_app()'`."""

import multiprocessing
import os

from portal.logging import ACCESS_FORMAT, AnonymousGunicornLogger

bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("PORTAL_THREADS", 2))
# No client address, user agent or referer in the access log (design: anonymous means anonymous).
accesslog = "-"
access_log_format = ACCESS_FORMAT
# Nor in the error log: gunicorn names the client ("ip=...") for each malformed request.
logger_class = AnonymousGunicornLogger
# The proxy in front passes X-Forwarded-For; the app trusts PORTAL_PROXY_HOPS of it (ProxyFix).
forwarded_allow_ips = os.environ.get("PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1")
limit_request_line = 8190
timeout = 60


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A worker gone: its live gauges leave the /metrics sum (portal.metrics), when the
    workers share PROMETHEUS_MULTIPROC_DIR."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
