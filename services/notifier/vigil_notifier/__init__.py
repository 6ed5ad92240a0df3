"""Vigil's notifier: announces finished scans."""
