"""An operator over SSH: open the demo console, start a sync, read its logs, quit."""

from __future__ import annotations

import re

from tests.e2e.conftest import Console
from tests.e2e.tmux import TmuxTerminal, cooked

HEADER = "Pulse Console │"
# Run ids are global: the manual run's start and end lines name the same run.
MANUAL_RUN_ENDED = re.compile(
    r"run (\d+) of jira_sync started \(manual\)[\s\S]*run \1 of jira_sync ended"
)


def job_line(screen: str, job: str) -> str:
    return next((line for line in screen.splitlines() if line.lstrip().startswith(job)), "")


def test_operator_starts_a_sync_reads_its_logs_and_quits(
    console: Console, terminal: TmuxTerminal
) -> None:
    # With the orchestrator paused the demo syncs nothing on its own: the operator starts it.
    paused = console.cli("orchestrator", "pause", "--client", "demo")
    assert paused.returncode == 0, paused.stderr

    terminal.start(console.argv("--demo", "--demo-size", "tiny"), console.env, console.home)
    screen = terminal.wait_for(
        lambda s: "Orchestrator PAUSED" in s and "jira_sync" in s and "github_sync" in s,
        "the Jobs screen of the demo client",
    )
    assert "client demo" in screen and "worker embedded" in screen
    assert job_line(screen, "jira_sync").split()[1] != "RUNNING"

    terminal.send("s")  # the cursor starts on the first job: jira_sync
    screen = terminal.wait_for(
        lambda s: re.search(r"\bFINISHED\b.*\s[1-9][\d,]*\s", job_line(s, "jira_sync")) is not None,
        "jira_sync FINISHED with records",
        timeout=60,
    )
    records = int(job_line(screen, "jira_sync").split()[-2].replace(",", ""))
    [(status, trigger, stored)] = console.rows(
        "SELECT r.status, r.trigger, r.records FROM job_runs r JOIN jobs j ON j.id = r.job_id"
        " WHERE j.name = 'jira_sync'"
    )
    assert (status, trigger.lower(), stored) == ("FINISHED", "manual", records)

    terminal.send(":")
    terminal.wait_for_text("Go to screen")
    terminal.type("logs")
    terminal.send("Enter")
    screen = terminal.wait_for(
        lambda s: "│ Logs │" in s and "run 1 of jira_sync ended: finished" in s,
        "the sync's log lines on the Logs screen",
    )
    assert "run 1 of jira_sync started (manual)" in screen

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
    terminal.wait_for(lambda s: "jira_sync" in s, "the Jobs screen of the demo client")
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

    started = console.cli("jobs", "start", "jira_sync", "--client", "demo")
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
