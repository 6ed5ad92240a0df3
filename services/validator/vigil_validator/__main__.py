"""``python -m vigil_validator`` starts the service."""

from vigil_validator.app import main

main()
