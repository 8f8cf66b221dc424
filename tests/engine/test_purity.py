"""The engine is the inner ring: importing it must not pull in Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_importing_the_engine_loads_no_django_module():
    code = ("import sys, pulse.engine, pulse.engine.engine; "
            "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]"


def test_the_engine_never_reads_the_wall_clock():
    sources = (REPO / "pulse" / "engine").glob("*.py")
    offenders = [p.name for p in sources
                 if "time.time(" in p.read_text() or "datetime.now(" in p.read_text()]
    assert offenders == []
