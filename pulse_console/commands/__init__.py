"""The `pulse-console` subcommands (CLI), one module per area: parse, call a service, print.

Not to be confused with the console's command palette (`tui/palette.py`) or the engine's job
controls (`engine/controls.py`). `cli.py` builds the parser from these modules;
`database.py` opens the configured database for any of them; `output.py` is the one filter
every printer goes through (one-line errors, text made safe for the terminal).
"""
