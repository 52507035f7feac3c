"""bgmigrate: keep PostgreSQL schema changes from breaking blue-green deploys."""

__version__ = "0.1.0"
