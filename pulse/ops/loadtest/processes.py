"""CPU time and memory of the server processes (read from ``/proc``), and this process's limits.

The load generator reports the CPU and memory of the processes it loads (daphne, runpulse,
Redis) and of itself: a saturated load generator would inflate the latencies it measures.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class ProcessSample:
    """CPU time and memory of one process at one moment, from /proc."""

    pid: int
    name: str
    cpu: float  # seconds (user + system)
    rss: int  # bytes
    hwm: int  # peak RSS, bytes


def sample_process(pid: int) -> ProcessSample | None:
    """Read CPU seconds and RSS of ``pid`` from /proc; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    kib = lambda key: int(status.get(key, "0 kB").split()[0]) * 1024  # noqa: E731
    return ProcessSample(pid, cmd[:90], cpu, kib("VmRSS"), kib("VmHWM"))


def find_pids(patterns: list[str]) -> list[int]:
    """Return pids whose command line contains any of ``patterns`` (not this process)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(p in cmd for p in patterns) and "loadtest" not in cmd:
            found.append(int(entry))
    return sorted(found)


def raise_fd_limit(clients: int) -> None:
    """Raise this process's open-file limit for ``clients`` sockets, up to the hard limit.

    Raise ValueError if even the hard limit leaves too few descriptors.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, clients + 256))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if clients + 64 > want:
        raise ValueError(f"file-descriptor limit {want} is too low for {clients} "
                         "clients (raise it with ulimit -n)")
