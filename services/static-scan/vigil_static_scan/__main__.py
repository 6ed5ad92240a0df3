"""``python -m vigil_static_scan`` starts the static scanning stage."""

from vigil_static_scan.app import main

main()
