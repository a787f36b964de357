"""Running the registry for real: backup and restore, the numbering ledger."""
