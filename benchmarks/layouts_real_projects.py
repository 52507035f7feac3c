"""Findings before and after reading migration tools' layouts, on real public projects.

    python benchmarks/layouts_real_projects.py REPOS_DIR BEFORE_DIR [project ...]

REPOS_DIR holds one checkout per project below (named as the first column); BEFORE_DIR holds
the `bgmigrate` package of the earlier commit to compare with (`git archive 9c311f6 bgmigrate |
tar -x -C BEFORE_DIR`). Each project's migration directory is checked as a new user would point
at it, with `--format json`; the table counts findings, what was skipped and why, the syntax and
template findings, and the forward findings kept, lost and new (a finding is "forward" when its
file is still checked and it is outside any part left out).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
from pathlib import Path

PROJECTS = {
    # name: (repository, directory checked)
    "lemmy": ("LemmyNet/lemmy", "migrations"),
    "kratos": ("ory/kratos", "persistence/sql/migrations"),
    "harbor": ("goharbor/harbor", "make/migrations"),
    "auth": ("supabase/auth", "migrations"),
    "atuin": ("atuinsh/atuin", "crates/atuin-server-postgres/migrations"),
    "documenso": ("documenso/documenso", "packages/prisma/migrations"),
    "chatbot": ("mckaywrigley/chatbot-ui", "supabase"),
    "graphile": ("graphile/starter", "@app/db/migrations"),
    "storage": ("supabase/storage", "migrations"),
    "hatchet": ("hatchet-dev/hatchet", "cmd/hatchet-migrate/migrate/migrations"),
    "suppg": ("supabase/postgres", "migrations/db"),
    "conductor": ("conductor-oss/conductor", "."),
    "chef": ("chef/chef-server", "src/oc_erchef/schema"),
    "warehouse": ("pypi/warehouse", "warehouse/migrations"),
    "polar": ("polarsource/polar", "server/migrations"),
    "indico": ("indico/indico", "indico/migrations"),
}
SYNTAX = {"syntax-error", "template-not-parsed"}


def check(checkout: Path, directory: str, pythonpath: str | None) -> dict:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    command = [sys.executable, "-m", "bgmigrate", "check", "--format", "json", "--fail-on", "never"]
    done = subprocess.run(
        [*command, directory], cwd=checkout, env=env, capture_output=True, text=True, check=False
    )
    return json.loads(done.stdout)


def compare(before: dict, after: dict) -> str:
    def key(f: dict) -> tuple:
        return f["rule"], f["path"], f["line"], f["column"]

    found_before = collections.Counter(key(f) for f in before["findings"] if not f["suppressed"])
    found_after = collections.Counter(key(f) for f in after["findings"] if not f["suppressed"])
    checked = {unit["path"] for unit in after["units"]}
    parts = collections.defaultdict(list)
    for skipped in after.get("skipped", []):
        if "line" in skipped:
            parts[skipped["path"]].append((skipped["line"], skipped["end_line"]))

    def forward(k: tuple) -> bool:
        _, path, line, _ = k
        return path in checked and not any(lo <= line <= hi for lo, hi in parts[path])

    forward_before = collections.Counter({k: n for k, n in found_before.items() if forward(k)})
    kept = sum((forward_before & found_after).values())
    lost = sum((forward_before - found_after).values())
    new = sum((found_after - forward_before).values())
    reasons = collections.Counter(s["reason"] for s in after.get("skipped", []))
    layouts = ",".join(sorted({entry["layout"] for entry in after.get("layouts", [])})) or "plain"
    syntax = [sum(1 for f in doc["findings"] if f["rule"] in SYNTAX) for doc in (before, after)]
    skipped = ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
    return (
        f"| {layouts} | {sum(found_before.values())} | {sum(found_after.values())} | "
        f"{skipped or '-'} | {syntax[0]} → {syntax[1]} | {kept} | {lost} | {new} |"
    )


def main() -> None:
    repos, before_dir, *names = sys.argv[1:]
    print("| project | layout | before | after | skipped | syntax+template | kept | lost | new |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names or PROJECTS:
        repository, directory = PROJECTS[name]
        checkout = Path(repos, name)
        before = check(checkout, directory, before_dir)
        after = check(checkout, directory, None)
        print(f"| {repository} {compare(before, after)}", flush=True)


if __name__ == "__main__":
    main()
