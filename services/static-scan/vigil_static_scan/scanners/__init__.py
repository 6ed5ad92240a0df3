"""One module per scanner tool: its command, the exit codes that mean success, a pure parser."""
