"""Start and stop gunicorn servers for the benchmarks: 127.0.0.1 only, always stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from portal.config import PROJECT_DIR

GUNICORN = PROJECT_DIR / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``gunicorn -c gunicorn.conf.py APP`` with the given environment, as a context manager."""

    def __init__(self, app: str, env: dict[str, str | None], log: Path, *,
                 workers: int | None = None, threads: int | None = None) -> None:
        self.app = app
        self.port = free_port()
        merged: dict[str, str | None] = {**os.environ, **env}
        self.env = {k: v for k, v in merged.items() if v is not None}
        self.env["PORTAL_BIND"] = f"127.0.0.1:{self.port}"
        if workers is not None:
            self.env["PORTAL_WORKERS"] = str(workers)
        else:
            self.env.pop("PORTAL_WORKERS", None)
        if threads is not None:
            self.env["PORTAL_THREADS"] = str(threads)
        else:
            self.env.pop("PORTAL_THREADS", None)
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        log = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(GUNICORN), "-c", "gunicorn.conf.py", self.app], cwd=PROJECT_DIR,
            env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited with {self.process.returncode}; "
                                   f"see {self.log}")
            health = f"{self.url}/healthz"
            try:
                with urllib.request.urlopen(health, timeout=2) as reply:  # noqa: S310
                    if reply.status == 200 and len(self.workers()) >= self.expected_workers:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.app} did not answer /healthz within {timeout} s")

    @property
    def expected_workers(self) -> int:
        return int(self.env.get("PORTAL_WORKERS") or (os.cpu_count() or 1) * 2 + 1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The worker processes' ids (the master's children)."""
        if self.process is None:
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def peak_rss_mib(self) -> list[float]:
        """Each worker's peak resident memory (VmHWM), in MiB."""
        peaks = []
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: gunicorn stops its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
