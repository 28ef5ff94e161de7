"""The public side never imports staff-only code (docs/architecture.md): a pupil's form,
the follow-up page and the check-back question load without a single module of
portal.triage or portal.admin (the case work they share, such as acknowledging, lives in
portal.casework). Checked in a fresh interpreter, as an
import cycle or a stray import shows only there."""

from __future__ import annotations

import json
import subprocess
import sys


def test_the_reporting_package_loads_no_staff_module():
    code = ("import json, sys\nimport portal.reporting.views\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith("
            "('portal.triage', 'portal.admin')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout) == []
