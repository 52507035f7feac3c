"""Apply plans to PostgreSQL: `executor` (apply, approve, rollback), `backfill`, `gates`,
`state` (schema `bgmigrate`), `status`, `dryrun`; `errors` carries the exit codes.

Nothing is imported here, so that importing one module (the CLI does) stays cheap.
"""
