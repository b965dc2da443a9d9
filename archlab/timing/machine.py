"""What the machine is and how busy it is: CPU model, usable CPUs, load average (no torch)."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask), else the machine's count."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def loadavg() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, None where the OS does not say."""
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def now() -> str:
    """The current time, UTC, ISO 8601 to the second (when a result was made)."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")
