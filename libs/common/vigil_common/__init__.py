"""Vigil's shared contract: every service imports its settings, schemas and plumbing from here."""
