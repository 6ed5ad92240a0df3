"""Vigil's ingest stage."""
