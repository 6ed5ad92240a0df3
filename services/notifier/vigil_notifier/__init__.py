"""Vigil's notifier: announces finished scans through signed, retried webhooks."""
