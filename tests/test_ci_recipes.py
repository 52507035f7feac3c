"""docs/ci.md's GitHub Actions and GitLab CI recipes, run as written (apart from the install
line) in a scratch repository: a base branch, and a pull request's change on top of it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from git_helpers import git

REPO = Path(__file__).resolve().parent.parent
CI_DOC = REPO / "docs/ci.md"
CREATE = "SET lock_timeout = '2s';\nCREATE TABLE users (id bigint PRIMARY KEY, email text);\n"
RENAME = "SET lock_timeout = '2s';\nALTER TABLE users RENAME COLUMN email TO email_address;\n"
ADD = "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN nickname text;\n"


def _yaml_block(marker: str) -> dict:
    blocks = re.findall(r"```yaml\n(.*?)```", CI_DOC.read_text(encoding="utf-8"), re.DOTALL)
    [block] = [b for b in blocks if b.startswith(marker)]
    return yaml.safe_load(block)


def _pull_request(tmp_path: Path, change: dict[str, str]) -> Path:
    """A clone of a repository whose `main` holds one migration, on a branch adding `change`."""
    upstream = tmp_path / "upstream"
    (upstream / "migrations").mkdir(parents=True)
    (upstream / "migrations/0001_create.sql").write_text(CREATE, encoding="utf-8")
    git(upstream, "init", "-q", "-b", "main")
    git(upstream, "add", ".")
    git(upstream, "commit", "-q", "-m", "base")
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(upstream), str(checkout))
    git(checkout, "checkout", "-q", "-b", "feature")
    for name, text in change.items():
        (checkout / name).write_text(text, encoding="utf-8")
    git(checkout, "add", ".")
    git(checkout, "commit", "-q", "--allow-empty", "-m", "change")
    return checkout


def _environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """bgmigrate from this checkout's interpreter, and a `gh` that records what it is asked."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "bgmigrate").write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m bgmigrate "$@"\n', encoding="utf-8"
    )
    (tools / "gh").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > "{tmp_path}/gh-args"\n'
        f'cp "$(eval echo \\${{$#}})" "{tmp_path}/gh-body"\n',
        encoding="utf-8",
    )
    for tool in tools.iterdir():
        tool.chmod(0o755)
    return {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}", **variables}


def _run_github_job(checkout: Path, env: dict[str, str]) -> list[tuple[str, int]]:
    """The job's `run:` steps as GitHub runs them (`bash -e`, a later step only `if: always()`
    once one has failed), skipping the install; each step with its exit code."""
    [job] = _yaml_block("# .github/workflows/migrations.yml")["jobs"].values()
    expressions = {
        "${{ github.base_ref }}": "main",
        "${{ github.event.pull_request.number }}": "7",
        "${{ github.token }}": "token",
    }
    ran: list[tuple[str, int]] = []
    failed = False
    for step in job["steps"]:
        script = step.get("run")
        if script is None or "pip install" in script:
            continue
        if failed and step.get("if") != "always()":
            continue
        for expression, value in expressions.items():
            script = script.replace(expression, value)
        step_env = {**env, **{k: str(v) for k, v in step.get("env", {}).items()}}
        for expression, value in expressions.items():
            step_env = {k: v.replace(expression, value) for k, v in step_env.items()}
        done = subprocess.run(["bash", "-e", "-c", script], cwd=checkout, env=step_env)
        ran.append((script, done.returncode))
        failed = failed or done.returncode != 0
    return ran


def _run_gitlab_job(checkout: Path, env: dict[str, str]) -> list[int]:
    """The job's `script:` lines, in one shell that stops at the first failure, as GitLab's
    runner does; the install line skipped."""
    job = _yaml_block("# .gitlab-ci.yml")["bgmigrate"]
    codes = []
    for line in job["script"]:
        if "pip install" in line:
            continue
        done = subprocess.run(["bash", "-e", "-c", line], cwd=checkout, env=env)
        codes.append(done.returncode)
        if done.returncode:
            break
    return codes


def test_github_recipe_fails_the_job_on_a_bad_migration_and_writes_the_reports(
    tmp_path: Path,
) -> None:
    checkout = _pull_request(tmp_path, {"migrations/0002_rename.sql": RENAME})
    summary = tmp_path / "step-summary.md"
    env = _environment(tmp_path, GITHUB_STEP_SUMMARY=str(summary))
    ran = _run_github_job(checkout, env)
    assert [code for _, code in ran] == [1, 0, 0]  # annotations fail; the reports record
    sarif = json.loads((checkout / "bgmigrate.sarif").read_text(encoding="utf-8"))
    [result] = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "rename-column"]
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "migrations/0002_rename.sql", "uriBaseId": "%SRCROOT%"}
    comment = (tmp_path / "gh-body").read_text(encoding="utf-8")
    assert comment.startswith("## bgmigrate: 1 error in 2 units")
    assert "### `migrations/0002_rename.sql`" in comment and len(comment) < 65_536
    assert (tmp_path / "gh-args").read_text().split("\n")[:2] == ["pr", "comment"]
    assert summary.read_text(encoding="utf-8") == comment


def test_github_recipe_passes_a_safe_change_and_one_that_touches_no_migration(
    tmp_path: Path,
) -> None:
    safe = _pull_request(tmp_path / "safe", {"migrations/0002_add.sql": ADD})
    env = _environment(tmp_path / "safe", GITHUB_STEP_SUMMARY=str(tmp_path / "s1.md"))
    assert [code for _, code in _run_github_job(safe, env)] == [0, 0, 0]
    untouched = _pull_request(tmp_path / "docs", {"README.md": "docs only\n"})
    env = _environment(tmp_path / "docs", GITHUB_STEP_SUMMARY=str(tmp_path / "s2.md"))
    assert [code for _, code in _run_github_job(untouched, env)] == [0, 0, 0]
    assert json.loads((untouched / "bgmigrate.sarif").read_text())["runs"][0]["results"] == []


def test_github_recipe_fails_every_report_step_when_bgmigrate_cannot_check(
    tmp_path: Path,
) -> None:
    # The wall: `… --format sarif > f || true` uploaded an empty report and passed.
    checkout = _pull_request(tmp_path, {"migrations/0002_rename.sql": RENAME})
    git(checkout, "mv", "migrations", "schema")  # no well-known place, no config
    env = _environment(tmp_path, GITHUB_STEP_SUMMARY=str(tmp_path / "s.md"))
    assert [code for _, code in _run_github_job(checkout, env)] == [2, 2, 2]


def test_gitlab_recipe_writes_code_quality_and_fails_on_a_bad_migration(tmp_path: Path) -> None:
    checkout = _pull_request(tmp_path, {"migrations/0002_rename.sql": RENAME})
    env = _environment(tmp_path, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    assert _run_gitlab_job(checkout, env) == [0, 0, 1]
    report = json.loads((checkout / "gl-code-quality-report.json").read_text(encoding="utf-8"))
    [issue] = [i for i in report if i["check_name"] == "rename-column"]
    assert issue["location"] == {
        "path": "migrations/0002_rename.sql",
        "lines": {"begin": 2, "end": 2},
    }
    assert issue["severity"] == "critical"
    assert {"description", "fingerprint"} <= set(issue)


@pytest.mark.parametrize("change", [{"migrations/0002_add.sql": ADD}, {"README.md": "docs\n"}])
def test_gitlab_recipe_passes_a_safe_change(tmp_path: Path, change: dict[str, str]) -> None:
    checkout = _pull_request(tmp_path, change)
    env = _environment(tmp_path, CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main")
    assert _run_gitlab_job(checkout, env) == [0, 0, 0]
