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


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters
_HEAP_KEPT: list[bool] = []


def keep_heap(mmap_threshold: int = 32 * 2**20, trim_threshold: int = 2**31 - 1) -> bool:
    """Stop glibc's malloc from giving freed memory back to the OS, once per process; True when in effect.

    By default glibc serves large buffers (activations) by ``mmap`` and trims the heap, so a fresh process
    page-faults on every forward (MobileNetV2: 2300-4200 minor faults, +20-28% CPU time) and eager/TorchScript
    times depend on what ran before in the process. Serving allocations up to ``mmap_threshold`` (glibc's
    maximum on 64-bit) from the heap and never trimming it removes that. False off glibc (nothing changed).
    """
    if _HEAP_KEPT:
        return _HEAP_KEPT[0]
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = bool(
            libc.mallopt(M_MMAP_THRESHOLD, ctypes.c_int(mmap_threshold))
            and libc.mallopt(M_TRIM_THRESHOLD, ctypes.c_int(trim_threshold))
        )
    except (OSError, AttributeError):
        ok = False
    _HEAP_KEPT.append(ok)
    return ok


def load_text(load: list[float] | tuple[float, ...] | None, cpus: int | None = None) -> str:
    """``load average 1.23/1.10/0.98 on 2 CPUs`` (or that the OS does not say)."""
    if not load:
        return "load average unknown"
    where = f" on {cpus} CPUs" if cpus else ""
    return f"load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}{where}"
