"""Read models and commands for the console, one module per area, below the TUI.

Each takes a `storage.db.Database` (or plain paths) and returns dataclasses, so the
screens render answers and never run SQL or HTTP themselves.
"""
