"""Run code in a new interpreter and see which packages it imported: what a command pays for
at start-up is a property tests can hold."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def imported_packages(code: str, cwd: Path | None = None) -> tuple[str, set[str]]:
    """What `code` printed, and the top-level packages imported once it ran (SystemExit
    caught, as a command's `main` ends with it)."""
    program = (
        "import sys\n"
        "try:\n"
        f"{textwrap.indent(code, '    ')}\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout, set(done.stderr.split("\n")[-2].split())
