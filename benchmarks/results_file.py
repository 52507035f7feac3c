"""What every benchmark records beside its numbers, and where: `benchmarks/RESULTS.md`.

Each script owns one section of RESULTS.md between `<!-- NAME:begin -->` and `<!-- NAME:end -->`
and rewrites only that section, so rerunning one benchmark keeps the others' last results.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["RESULTS", "machine_lines", "write_section"]

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

_HEADER = """# Benchmark results

Recorded by the scripts in this folder (see README.md for how to rerun them). Each section
names the machine and the date it was measured on.
"""


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_lines() -> list[str]:
    """Markdown bullet lines naming the machine, the date and the versions measured."""
    uname = subprocess.run(["uname", "-a"], capture_output=True, text=True).stdout.strip()
    return [
        f"- date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: `{uname}`",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()} ({sys.executable})",
        f"- bgmigrate {_package_version('bgmigrate')}, pglast {_package_version('pglast')}, "
        f"squawk-cli {_package_version('squawk-cli')}",
    ]


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) section `name` of RESULTS.md with `markdown`."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    block = f"{begin}\n{markdown.strip()}\n{end}"
    text = RESULTS.read_text() if RESULTS.exists() else _HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = f"{text.rstrip()}\n\n{block}\n"
    RESULTS.write_text(text)
