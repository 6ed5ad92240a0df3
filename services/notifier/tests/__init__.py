"""Tests of the notifier (a package, so its conftest does not displace the root one)."""
