"""Vigil's REST gateway."""
