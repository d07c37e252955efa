"""The Textual console: the only package that imports Textual (an import-linter contract).

Package map (a behaviour is found in one hop):

- `app.py` — the App: named screens (`:` jumps), `/` filter, `?` help, `Esc` back, `q` quits.
- `context.py` — what the console is handed once: `ConsoleContext` with the bound
  `services.ClientServices` and the jobs port; screens reach nothing else below the TUI.
- `ports.py` / `engine_jobs.py` — the jobs port (a Protocol) and its adapter over the engine's
  `EngineService` and its events; job controls are `engine.controls.Control` values.
- `keymap.py` — the one command table: bindings, footer, help and the palette read it.
- `palette.py` — the command palette provider over that table (called "commands" in
  Textual's API; not the CLI's `pulse_console.commands`).
- `shell.py` — what a screen may ask of the app (a Protocol, so screens never import app.py).
- `messages.py` — every Textual message, one small dataclass each.
- `screens/` — one module per screen; `list_screen.ListScreen` owns load → redraw → filter →
  poll for the list screens; `base.PulseScreen` is every screen's frame.
- `widgets/<area>/` — widgets grouped by the screen area they serve; `dialogs/` — modal
  screens returning typed results.
- `db_watch.py`, `busy_watch.py`, `hangup.py` — the lost-database banner, the slow-work
  spinner, and leaving cleanly on SIGTERM/SIGHUP.
"""
