"""The one command table: bindings, footer, help screen and command palette all read it.

Each command has a stable id (`logs.follow`), so users remap keys in config.toml:

    [keymap]
    "logs.follow" = "F"
    "app.jump" = "colon,ctrl+g"

Job and orchestrator controls are keyed by the engine's `Control` (CONTROL_KEYS): a new
control needs its member in engine/controls.py and its key here, nothing else.

Each command names the `services.roles.Action` it performs (`needs`); the screens ask the
role rule about it, so a key the login's role may not use is shown disabled, with the
reason ("needs role user") in the palette.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding

from pulse_console.engine.controls import Control
from pulse_console.services.roles import Action

APP = "app"


@dataclass(frozen=True)
class Command:
    id: str
    key: str
    action: str
    title: str
    help: str
    scope: str = APP
    show: bool = True
    palette: bool = True
    secondary: bool = False  # a footer hint given up first when the terminal is narrow
    needs: Action = Action.READ  # what the role rule (services.roles) is asked about it


@dataclass(frozen=True)
class ControlKey:
    """The Jobs-screen binding of one engine control (`id` → binding id "jobs.<id>")."""

    id: str
    key: str
    title: str
    help: str
    secondary: bool = False


CONTROL_KEYS: dict[Control, ControlKey] = {
    Control.START: ControlKey("start", "s", "Start", "Force-start the selected job"),
    Control.STOP: ControlKey("stop", "x", "Stop", "Stop the running job (checkpointed)"),
    Control.PAUSE: ControlKey("pause", "p", "Pause", "Pause the running job"),
    Control.RESUME: ControlKey("resume", "u", "Resume", "Resume a paused job"),
    Control.SET_ACTIVE: ControlKey(
        "set_active",
        "a",
        "Set active",
        "Make this job the next to run (others FINISHED)",
        secondary=True,
    ),
    Control.ORCHESTRATOR_TICK: ControlKey(
        "tick", "n", "Tick now", "Start the orchestrator's tick now", secondary=True
    ),
}
# Orchestrator pause and resume share one key that toggles (`jobs.orchestrator` below).


def control_action(control: Control) -> str:
    """The Textual action that runs `control` on the Jobs screen."""
    return f"control('{control.value}')"


def _control_commands() -> tuple[Command, ...]:
    return tuple(
        Command(
            f"jobs.{k.id}",
            k.key,
            control_action(c),
            k.title,
            k.help,
            "jobs",
            secondary=k.secondary,
            needs=CONTROL,
        )
        for c, k in CONTROL_KEYS.items()
    )


CONTROL, INTEGRATIONS, MAPPINGS = Action.CONTROL, Action.MANAGE_INTEGRATIONS, Action.MANAGE_MAPPINGS
LOG_FILES, EXPORT = Action.MANAGE_LOG_FILES, Action.EXPORT_LOGS

COMMANDS: tuple[Command, ...] = (
    # --- everywhere
    Command("app.jump", "colon", "jump", "Go to", "Jump to a screen by name (:logs, :jobs…)"),
    Command("app.filter", "slash", "filter", "Filter", "Filter the current table", secondary=True),
    Command("app.help", "question_mark", "help", "Help", "Keys of this screen"),
    Command(
        "app.back",
        "escape",
        "go_back",
        "Back",
        "Close this view, back to the last screen",
        secondary=True,
    ),
    Command(
        "app.palette",
        "ctrl+p",
        "command_palette",
        "Commands",
        "Every action, searchable",
        show=False,
        palette=False,
    ),
    Command("app.quit", "q", "quit_console", "Quit", "Leave the console (asks if a job runs)"),
    Command("app.refresh", "r", "refresh", "Refresh", "Reload this screen", secondary=True),
    # --- jobs
    *_control_commands(),
    Command(
        "jobs.orchestrator",
        "o",
        "toggle_orchestrator",
        "Pause/resume orch.",
        "Pause or resume the orchestrator",
        "jobs",
        secondary=True,
        needs=CONTROL,
    ),
    Command("jobs.history", "h", "history", "History", "Run history of the selected job", "jobs"),
    # --- run history
    Command("runs.open", "enter", "open_run", "Open", "Checkpoint before/after and log", "runs"),
    Command("runs.logs", "l", "run_logs", "Logs", "Log records of this run", "runs"),
    Command("runs.all", "a", "toggle_all", "All jobs", "Every job's runs, or one job's", "runs"),
    # --- logs
    Command("logs.follow", "f", "toggle_follow", "Follow", "Tail new records live", "logs"),
    Command("logs.wrap", "w", "toggle_wrap", "Wrap", "Show the full message below", "logs"),
    Command(
        "logs.timestamps",
        "t",
        "toggle_timestamps",
        "Time",
        "Show/hide timestamps",
        "logs",
        secondary=True,
    ),
    Command(
        "logs.copy",
        "c",
        "copy",
        "Copy",
        "Copy the record (OSC 52, works over SSH)",
        "logs",
        secondary=True,
    ),
    Command("logs.detail", "enter", "detail", "Detail", "All fields of the record", "logs"),
    Command(
        "logs.jump_time",
        "g",
        "jump_time",
        "Jump to time",
        "Go to a date/time",
        "logs",
        secondary=True,
    ),
    Command(
        "logs.export",
        "e",
        "export",
        "Export",
        "Zip the filtered records",
        "logs",
        secondary=True,
        needs=EXPORT,
    ),
    Command(
        "logs.files",
        "F",
        "files",
        "Files",
        "Log files in the log directory",
        "logs",
        secondary=True,
    ),
    Command("logs.end", "G", "tail", "End", "Jump to the newest record", "logs", show=False),
    # --- log files
    Command("files.open", "enter", "open_file", "Open", "View the file", "log_files"),
    Command(
        "files.export", "e", "export_file", "Export", "Zip the file", "log_files", needs=EXPORT
    ),
    Command(
        "files.delete",
        "d",
        "delete_file",
        "Delete",
        "Delete the file",
        "log_files",
        needs=LOG_FILES,
    ),
    Command(
        "files.clear",
        "c",
        "clear_file",
        "Clear",
        "Empty the file",
        "log_files",
        secondary=True,
        needs=LOG_FILES,
    ),
    Command(
        "files.prune",
        "D",
        "prune",
        "Delete old",
        "Delete files older than N days",
        "log_files",
        secondary=True,
        needs=LOG_FILES,
    ),
    # --- file viewer
    Command("viewer.wrap", "w", "toggle_wrap", "Wrap", "Wrap long lines", "file_view"),
    Command("viewer.end", "G", "tail", "End", "Last line", "file_view"),
    Command("viewer.top", "g", "top", "Top", "First line", "file_view", secondary=True),
    # --- integrations
    Command(
        "integrations.add",
        "a",
        "add",
        "Add",
        "Add an integration",
        "integrations",
        needs=INTEGRATIONS,
    ),
    Command(
        "integrations.edit",
        "enter",
        "edit",
        "Edit",
        "Edit the selected integration",
        "integrations",
        needs=INTEGRATIONS,
    ),
    Command(
        "integrations.test",
        "t",
        "test",
        "Test",
        "Test the connection",
        "integrations",
        needs=INTEGRATIONS,
    ),
    Command(
        "form.save",
        "ctrl+s",
        "save",
        "Save",
        "Test the integration, then save it",
        "integration_form",
    ),
    Command(
        "integrations.deactivate",
        "d",
        "toggle_active",
        "(De)activate",
        "Deactivate or reactivate",
        "integrations",
        secondary=True,
        needs=INTEGRATIONS,
    ),
    # --- flow mappings
    Command(
        "flow.add", "a", "add", "Add", "Add a step or mapping on this tab", "flow", needs=MAPPINGS
    ),
    Command(
        "flow.map", "m", "map", "Map", "Map the selected unmapped status", "flow", needs=MAPPINGS
    ),
    Command(
        "flow.edit",
        "e",
        "edit",
        "Edit",
        "Change the selected mapping (or Enter)",
        "flow",
        needs=MAPPINGS,
    ),
    Command(
        "flow.delete", "d", "delete", "Delete", "Delete the selected row", "flow", needs=MAPPINGS
    ),
    Command(
        "flow.validate", "v", "validate", "Validate", "Check the mappings", "flow", secondary=True
    ),
    # --- metrics
    Command(
        "metrics.drill", "enter", "drill", "Drill down", "Work items behind the number", "metrics"
    ),
    Command("metrics.days_30", "1", "period(30)", "30 days", "Period: the last 30 days", "metrics"),
    Command("metrics.days_90", "3", "period(90)", "90 days", "Period: the last 90 days", "metrics"),
    Command(
        "metrics.days_180", "6", "period(180)", "180 days", "Period: the last 180 days", "metrics"
    ),
    Command("metrics.project", "p", "project", "Project", "Show one project, or all", "metrics"),
    Command(
        "metrics.plan",
        "g",
        "plan",
        "Release/goal",
        "Scope every figure to a release or goal, or neither",
        "metrics",
    ),
    # --- health, settings
    Command(
        "health.test",
        "t",
        "test_all",
        "Test APIs",
        "Test every integration",
        "health",
        needs=INTEGRATIONS,
    ),
    Command("health.detail", "enter", "detail", "Detail", "The selected check in full", "health"),
    Command(
        "settings.save",
        "ctrl+s",
        "save",
        "Save",
        "Save the settings (audited)",
        "settings",
        needs=Action.MANAGE_SETTINGS,
    ),
    # --- audit trail, clients (reading the trail and switching among visible clients)
    Command(
        "audit.detail",
        "enter",
        "detail",
        "Detail",
        "Before and after in full",
        "audit",
        needs=Action.READ,
    ),
    Command(
        "clients.switch",
        "enter",
        "switch",
        "Switch",
        "Work on the selected client",
        "clients",
        needs=Action.READ,
    ),
)

# Chords that terminals swallow get an alias (ctrl+enter arrives as ctrl+j in most).
ALIASES: dict[str, str] = {"ctrl+enter": "ctrl+j"}

SCREENS: dict[str, str] = {
    "jobs": "Jobs",
    "runs": "Run history",
    "logs": "Logs",
    "log_files": "Log files",
    "integrations": "Integrations",
    "flow": "Flow mappings",
    "metrics": "Metrics",
    "health": "Health",
    "settings": "Settings",
    "audit": "Audit",
    "clients": "Clients",
    "workers": "Workers",
}


# Views that are not jumped to by name (`:`), titled for the header and the help.
VIEW_TITLES: dict[str, str] = {"file_view": "Log file", "integration_form": "Integration form"}


def scope_title(scope: str) -> str:
    """What the header and the help call a scope (never an internal name)."""
    if scope == APP:
        return "Everywhere"
    return SCREENS.get(scope) or VIEW_TITLES.get(scope) or scope.replace("_", " ").capitalize()


def commands_for(scope: str) -> list[Command]:
    return [c for c in COMMANDS if c.scope == scope]


def bindings_for(scope: str) -> list[Binding]:
    """Textual bindings of a scope, with ids (remappable) and tooltips."""
    return [
        Binding(c.key, c.action, c.title, show=c.show, id=c.id, tooltip=c.help)
        for c in commands_for(scope)
    ]


class KeymapError(ValueError):
    pass


def check_keymap(keymap: Mapping[str, str]) -> dict[str, str]:
    """Refuse ids that do not exist (a typo would otherwise silently do nothing)."""
    known = {c.id for c in COMMANDS}
    unknown = sorted(set(keymap) - known)
    if unknown:
        raise KeymapError(f"keymap: unknown binding id(s): {', '.join(unknown)}")
    return {
        k: ",".join(ALIASES.get(p.strip(), p.strip()) for p in v.split(","))
        for k, v in keymap.items()
    }


def effective_key(command: Command, keymap: Mapping[str, str]) -> str:
    return keymap.get(command.id, command.key)


KEY_LABELS = {"colon": ":", "slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter"}


def key_label(key: str) -> str:
    return ", ".join(KEY_LABELS.get(k, k) for k in key.split(","))
