"""An operator over SSH: open the demo console, start a sync, read its logs, quit."""

from __future__ import annotations

import re
from pathlib import Path

from connectors.sandbox.credentials import DEMO_JIRA
from storage.tenancy import ensure_client
from tests.e2e.conftest import Console
from tests.e2e.tmux import EXIT_MARK, TmuxTerminal, cooked

HEADER = "Pulse Console │"
# Run ids are global: the manual run's start and end lines name the same run.
MANUAL_RUN_ENDED = re.compile(
    r"run (\d+) of sandbox-jira started \(manual\)[\s\S]*run \1 of sandbox-jira ended"
)


def job_line(screen: str, job: str) -> str:
    return next((line for line in screen.splitlines() if line.lstrip().startswith(job)), "")


def test_operator_starts_a_sync_reads_its_logs_and_quits(
    console: Console, terminal: TmuxTerminal
) -> None:
    # With the orchestrator paused the demo syncs nothing on its own: the operator starts it
    # (the CLI acts only on a client that exists).
    with console.database.session() as session:
        ensure_client(session, "demo")
    paused = console.cli("orchestrator", "pause", "--client", "demo")
    assert paused.returncode == 0, paused.stderr

    terminal.start(console.argv("--demo", "--demo-size", "tiny"), console.env, console.home)
    screen = terminal.wait_for(
        lambda s: "Orchestrator PAUSED" in s and "sandbox-jira" in s and "sandbox-github" in s,
        "the Jobs screen of the demo client",
    )
    assert "client demo" in screen and "worker embedded" in screen
    assert job_line(screen, "sandbox-jira").split()[1] != "RUNNING"

    terminal.send("s")  # the cursor starts on the first job: sandbox-jira
    screen = terminal.wait_for(
        lambda s: (
            re.search(r"\bFINISHED\b.*\s[1-9][\d,]*\s", job_line(s, "sandbox-jira")) is not None
        ),
        "sandbox-jira FINISHED with records",
        timeout=60,
    )
    records = int(job_line(screen, "sandbox-jira").split()[-2].replace(",", ""))
    [(status, trigger, stored)] = console.rows(
        "SELECT r.status, r.trigger, r.records FROM job_runs r JOIN jobs j ON j.id = r.job_id"
        " WHERE j.name = 'sandbox-jira'"
    )
    assert (status, trigger.lower(), stored) == ("FINISHED", "manual", records)

    terminal.send(":")
    terminal.wait_for_text("Go to screen")
    terminal.type("logs")
    terminal.send("Enter")
    screen = terminal.wait_for(
        lambda s: "│ Logs │" in s and "run 1 of sandbox-jira ended: finished" in s,
        "the sync's log lines on the Logs screen",
    )
    assert "run 1 of sandbox-jira started (manual)" in screen

    terminal.send("q")  # nothing runs: no confirmation
    status, after = terminal.wait_exit(timeout=15)
    assert status == 0, after
    assert HEADER not in after and "Traceback" not in after, after
    assert cooked(after), after
    assert terminal.terminal_modes() == {
        "alternate_on": "0",
        "cursor_flag": "1",
        "mouse_any_flag": "0",
        "mouse_sgr_flag": "0",
    }
    assert console.crash_reports() == []


def test_logs_follow_a_whole_run_started_from_another_shell(
    console: Console, terminal: TmuxTerminal
) -> None:
    terminal.start(console.argv("--demo", "--demo-size", "tiny"), console.env, console.home)
    terminal.wait_for(lambda s: "sandbox-jira" in s, "the Jobs screen of the demo client")
    # The console drives the client: these commands go through the control table.
    paused = console.cli("orchestrator", "pause", "--client", "demo")
    assert paused.returncode == 0, paused.stdout + paused.stderr
    terminal.wait_for(
        lambda s: "Orchestrator PAUSED" in s and "RUNNING" not in s, "a paused, idle demo"
    )
    terminal.send(":")
    terminal.wait_for_text("Go to screen")
    terminal.type("logs")
    terminal.send("Enter")
    terminal.wait_for(lambda s: "│ Logs │" in s and "FOLLOWING" in s, "the Logs screen, following")

    started = console.cli("jobs", "start", "sandbox-jira", "--client", "demo")
    assert started.returncode == 0, started.stdout + started.stderr
    screen = terminal.wait_for(
        lambda s: MANUAL_RUN_ENDED.search(s) is not None,
        "the run's last line, shown without touching a key",
        timeout=60,
    )
    assert "FOLLOWING" in screen and "paused (f to follow)" not in screen, screen
    assert "new records" not in screen, screen  # no badge while following

    terminal.send("q")
    status, after = terminal.wait_exit(timeout=15)
    assert status == 0, after
    assert console.crash_reports() == []


def next_tick_minutes(screen: str) -> int | None:
    """The minutes left to the orchestrator's next tick (`next tick … (in 59m12s)`)."""
    match = re.search(r"next tick .*?\(in (?:(\d+)h)?(\d+)m", screen)
    if match is None:
        return None
    return int(match.group(1) or 0) * 60 + int(match.group(2))


def interval_field(screen: str) -> str | None:
    """What the Settings screen's interval field shows (None: not on screen)."""
    line = next((x for x in screen.splitlines() if "Orchestrator interval" in x), None)
    return None if line is None else line.partition("▊")[2].strip(" ▎")


def test_operator_adds_a_second_jira_and_shortens_the_interval(
    console: Console, tmp_path: Path
) -> None:
    """Every step through the form's own keys (Enter: next text field, ctrl+s: save), each
    waited for on the screen: no Tab, whose focus moves cannot be seen in the pane."""
    terminal = TmuxTerminal(tmp_path, width=100, height=50)
    try:
        terminal.start(console.argv("--demo", "--demo-size", "tiny"), console.env, console.home)
        screen = terminal.wait_for(
            lambda s: next_tick_minutes(s) is not None and "sandbox-jira" in s,
            "the Jobs screen with the orchestrator's next tick",
            timeout=60,
        )
        before = next_tick_minutes(screen)
        assert before is not None and before >= 50, screen  # the default interval: 60 minutes
        [(jira_url,)] = console.rows(
            "SELECT base_url FROM integrations WHERE name = 'sandbox-jira'"
        )

        terminal.send(":")
        terminal.wait_for_text("Go to screen")
        terminal.type("integrations")
        terminal.send("Enter")
        terminal.wait_for(lambda s: "│ Integrations │" in s and "sandbox-jira" in s, "Integrations")
        terminal.send("a")
        terminal.wait_for_text("Add integration")
        # name, base URL, e-mail, projects (empty: all), windows and requests in flight (empty:
        # the defaults), then the token; Enter moves on and the cursor (at the focused field's
        # caret) shows the move landed before typing on
        for value in ("jira-two", jira_url, DEMO_JIRA.email, "", "", ""):
            terminal.type(value)
            terminal.wait_for_text(value)
            row = terminal.cursor()[1]
            terminal.send("Enter")
            terminal.wait_for_cursor(lambda _x, y, row=row: y > row, "the next text field")
        terminal.type(DEMO_JIRA.api_token)
        terminal.wait_for_text("•" * 8)
        terminal.send("C-s")  # test, then save
        terminal.wait_for(
            lambda s: "Add integration" not in s and "jira-two" in s,
            "the form closed and jira-two listed",
        )

        terminal.send(":")
        terminal.wait_for_text("Go to screen")
        terminal.type("jobs")
        terminal.send("Enter")
        screen = terminal.wait_for(
            lambda s: "│ Jobs │" in s and job_line(s, "jira-two") != "", "the job of jira-two"
        )
        [(job,)] = console.rows(
            "SELECT j.name FROM jobs j JOIN integrations i ON i.id = j.integration_id"
            " WHERE i.name = 'jira-two'"
        )
        assert job == "jira-two"

        terminal.send(":")
        terminal.wait_for_text("Go to screen")
        terminal.type("settings")
        terminal.send("Enter")
        screen = terminal.wait_for_text("Edit and press ctrl+s to save")
        lines = screen.splitlines()
        label = next(i for i, line in enumerate(lines) if "Orchestrator int" in line)
        field = lines[label].index("▊")
        terminal.send("Tab")  # into the first field; the cursor shows it got there
        terminal.wait_for_cursor(
            lambda x, y: abs(y - label) <= 1 and x > field, "the caret in the interval field"
        )
        terminal.send("BSpace", "BSpace", "BSpace")
        terminal.wait_for(lambda s: interval_field(s) == "", "the interval field emptied")
        terminal.type("5")
        terminal.wait_for(lambda s: interval_field(s) == "5", "the new interval typed")
        terminal.send("C-s")
        terminal.wait_for_text("Saved")
        terminal.send("Escape")  # back to Jobs (`:` would be typed into the field)
        screen = terminal.wait_for(
            lambda s: "│ Jobs │" in s and (next_tick_minutes(s) or 60) < 5,
            "the next tick moved within the new 5-minute interval",
        )
        [(interval,)] = console.rows(
            "SELECT value FROM settings WHERE key = 'orchestrator.interval_minutes'"
        )
        assert int(str(interval)) == 5

        terminal.send("q")
        screen = terminal.wait_for(
            lambda s: EXIT_MARK in s or "Quit while a job runs?" in s, "the console to quit"
        )
        if "Quit while a job runs?" in screen:  # a sync of the demo may be under way
            terminal.send("y")
        status, after = terminal.wait_exit(timeout=30)
        assert status == 0, after
        assert "Traceback" not in after
        assert console.crash_reports() == []
    finally:
        terminal.close()
