"""Start a real embedded-mode server (runpulse --serve) in a subprocess for end-to-end tests."""

from __future__ import annotations

import http.cookiejar
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO
from tests.waiting import wait_until


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 40.0,
                  describe: Callable[[], str] | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status); fail if ``proc`` exits first.

    ``describe`` returns what to show on failure (default: the process's output).
    """
    describe = describe or (lambda: proc.stdout.read() if proc.stdout else "")

    def answers() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"process exited early:\n{describe()}")
        try:
            urllib.request.urlopen(url, timeout=2)
        except urllib.error.HTTPError:
            pass  # an answer all the same
        except OSError:
            return False
        return True

    wait_until(answers, timeout, what=f"an answer at {url}", interval=0.2)


def start_server(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen:
    env = dict(os.environ, SQLITE_PATH=str(tmp_path / "db.sqlite3"), DEBUG="1")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput"], cwd=REPO, env=env, check=True,
                   capture_output=True, timeout=120)
    subprocess.run([*manage, "setup_demo"], cwd=REPO, env=env, check=True, capture_output=True,
                   timeout=60)
    return subprocess.Popen(
        [*manage, "runpulse", "--serve", f"127.0.0.1:{port}", *extra],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def login(base: str, username: str, password: str) -> http.cookiejar.CookieJar:
    """Log in through the real login form (CSRF token included); return the cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/accounts/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"}
    ).encode()
    request = urllib.request.Request(base + "/accounts/login/", data=data,
                                     headers={"Referer": base + "/accounts/login/"})
    response = opener.open(request, timeout=10)
    assert response.geturl() == base + "/", "login did not redirect to the dashboard"
    assert "Pulse" in response.read().decode()
    return jar
