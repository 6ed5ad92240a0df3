"""``python -m vigil_client.cli``."""

from vigil_client.cli import entry_point

entry_point()
