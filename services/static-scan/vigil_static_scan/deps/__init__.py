"""Offline dependency audit: lockfile parsers, an OSV advisory index and the matcher."""
