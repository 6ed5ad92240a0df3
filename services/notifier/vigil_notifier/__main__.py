"""``python -m vigil_notifier`` starts the service."""

from vigil_notifier.app import main

main()
