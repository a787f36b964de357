"""What the numbers were measured on: hardware, software versions and the code's commit."""
import os
import platform
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git(*args):
    try:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip()


def describe():
    """A dict describing this machine and checkout, for the report."""
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": version("SQLAlchemy"),
        "flask": version("Flask"),
        "gunicorn": version("gunicorn"),
        "commit": (commit + (" (with uncommitted changes)" if dirty else "")) if commit else "unknown",
    }


def cpu_times():
    """(busy, total) CPU jiffies of the whole machine so far, from /proc/stat (None where unavailable)."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle and iowait
    return sum(values) - idle, sum(values)


def busy_share(before, after):
    """Share of the machine's CPU capacity in use between two cpu_times() readings."""
    if not before or not after or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def wait_until_quiet(limit_seconds, threshold=0.15, sample_seconds=5, say=print):
    """Wait (at most `limit_seconds`) until other work leaves the machine nearly idle; return the busy share seen."""
    deadline = time.monotonic() + limit_seconds
    while True:
        before = cpu_times()
        time.sleep(sample_seconds)
        share = busy_share(before, cpu_times())
        if share is None or share < threshold or time.monotonic() > deadline:
            return share
        say(f"  the machine is {share:.0%} busy with other work; waiting for it to calm down ...")
