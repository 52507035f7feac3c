"""template-not-parsed: a statement that cannot be parsed around a template expression."""

from __future__ import annotations

from collections.abc import Iterator

from bgmigrate.check.context import Context
from bgmigrate.check.finding import Category, Severity
from bgmigrate.check.rule import Example, Rule, Violation
from bgmigrate.parse.operations import SyntaxErrorOp


def check(op: SyntaxErrorOp, ctx: Context) -> Iterator[Violation]:
    template = op.statement.template
    if template:
        yield Violation(
            message=f"This statement holds the template expression {template}, which the "
            "migration tool expands before PostgreSQL sees it; with it replaced by a neutral "
            f"name the statement still does not parse ({op.message}), so it was not checked.",
            safe_alternative="Check the SQL the tool renders (its dry run, or the statement "
            "with the template expanded by hand).",
        )


RULE = Rule(
    name="template-not-parsed",
    category=Category.ROBUSTNESS,
    severity=Severity.WARNING,
    summary="A statement with a template expression that could not be parsed, so not checked.",
    why="""\
Migration tools expand templates before the server sees a file: Go's `text/template`
(`{{ index .Options "Namespace" }}`), Flyway's and goose's `${placeholder}`s. bgmigrate puts a
neutral name in place of each expression, of the same length so that positions stay the
file's own, and checks the statement around it. When a template stands for something a name
cannot (a whole clause, a keyword, a list), the statement does not parse; it is reported once,
here, instead of as a syntax error it is not, and nothing in it was checked.""",
    safe_alternative="""\
Review the rendered statement (the tool's dry run shows it), or keep templates to names and
values so that the statement around them is checked.""",
    visits=(SyntaxErrorOp,),
    check=check,
    flagged=(
        Example(sql="ALTER TABLE users {{ .Clause }} ADD COLUMN x int;"),
        Example(sql="CREATE TABLE t (id bigint);\nALTER TABLE t ${action};", line=2),
        Example(
            sql="{{ if .Postgres }}\nCREATE TABLE t (id ${idType} {{ .Constraint }});\n{{ end }}",
            line=2,
            note="Control actions are blanked; the expressions stand for more than a name.",
        ),
    ),
    passing=(
        Example(sql='CREATE TABLE "{{ .Namespace }}".users (id bigint PRIMARY KEY);'),
        Example(sql="CREATE TABLE ${schema}.t (id bigint PRIMARY KEY);"),
        Example(
            sql='{{ if .Postgres }}\nCREATE TABLE {{ index .Options "Namespace" }}.t '
            "(id bigint PRIMARY KEY);\n{{ end }}",
        ),
    ),
)
