"""``python -m vigil_ai_hunter`` starts the service."""

from vigil_ai_hunter.app import main

main()
