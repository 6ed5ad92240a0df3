"""``python -m vigil_gateway`` starts the gateway."""

from vigil_gateway.app import main

main()
