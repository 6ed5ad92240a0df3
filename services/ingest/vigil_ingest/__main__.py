"""``python -m vigil_ingest`` starts the ingest stage."""

from vigil_ingest.app import main

main()
