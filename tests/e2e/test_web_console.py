"""The console in a real browser: `serve --web`, Debian's chromium driven by selenium.

`make test` installs chromium and chromium-driver where it can (root with apt-get); where
they are missing the test is skipped and says why. The page is opened with a viewer token
of the demo client (served by the sandbox); the test reads what the browser receives over
the console's WebSocket (the terminal's own output, captured in the page), presses keys in
the page and sees their effect. The last screenshot is kept in `.artifacts/`.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from pulse_console.demo import start_demo
from pulse_console.services import api_tokens
from tests.e2e.conftest import Console

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / ".artifacts"
CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")

# Runs before the page's own scripts: every WebSocket of the page appends what it receives
# (the console's terminal output) to window.__screen, so the test can read the screen.
CAPTURE = """
window.__screen = "";
const Native = window.WebSocket;
window.WebSocket = function (...args) {
  const socket = new Native(...args);
  const decoder = new TextDecoder();
  socket.addEventListener("message", (event) => {
    if (event.data instanceof ArrayBuffer) {
      window.__screen += decoder.decode(event.data, {stream: true});
    }
  });
  return socket;
};
window.WebSocket.prototype = Native.prototype;
Object.assign(window.WebSocket, Native);
"""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None or importlib.util.find_spec("selenium") is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium "
    "chromium-driver; `make test` does it as root) and selenium",
)


@pytest.fixture
def web_console(console: Console) -> Iterator[tuple[str, str]]:
    """`serve --web` on free ports for the demo client; (its URL, a viewer token)."""
    demo = start_demo(console.database, console.data_dir, size="tiny")
    token, _ = api_tokens.create(console.database, demo.client, "viewer", actor="test")
    listed = console.cli("jobs", "list", "--client", demo.client)  # makes the jobs' rows
    assert listed.returncode == 0, listed.stderr
    process = subprocess.Popen(
        console.argv("serve", "--web", "--port", "0", "--web-port", "0"),
        env={"PATH": "/usr/bin:/bin", **console.env, "TEXTUAL_ANIMATIONS": "none"},
        cwd=console.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"web console at (http://\S+)/\?token", line)
            if found:
                break
        else:
            pytest.fail(f"serve --web did not start: {process.stderr and process.stderr.read()}")
        yield found.group(1), token
    finally:
        process.terminate()
        process.wait(20)
        demo.stop()


def test_the_web_console_shows_the_jobs_screen_and_answers_keys(
    web_console: tuple[str, str],
) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, token = web_console
    assert httpx.get(f"{url}/").status_code == 401  # no token, no console
    assert httpx.get(f"{url}/", params={"token": "pulse_wrong"}).status_code == 401

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=Service(DRIVER))
    try:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
        browser.get(f"{url}/?token={token}")
        assert "token" not in browser.current_url  # kept in a cookie, not in the address

        def screen() -> str:
            return ANSI.sub("", browser.execute_script("return window.__screen") or "")

        def wait_for(done: Callable[[str], bool], what: str, timeout: float = 60) -> str:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                seen = screen()
                if done(seen):
                    return seen
                time.sleep(0.2)
            ARTIFACTS.mkdir(exist_ok=True)
            browser.save_screenshot(str(ARTIFACTS / "web-console-failed.png"))
            pytest.fail(f"the browser never showed {what}; it received: {screen()[-2000:]}")

        jobs = wait_for(
            lambda s: "sandbox-jira" in s and "sandbox-github" in s and "viewer" in s,
            "the Jobs screen of the demo client, as a viewer",
        )
        assert "Jobs" in jobs
        browser.find_element("css selector", ".xterm-screen").click()  # focus the terminal
        for attempt in range(3):  # a loaded machine may drop keys typed into a prompt opening
            typed = len(screen())
            keys = ActionChains(browser).send_keys(Keys.ESCAPE).pause(0.5).send_keys(":")
            keys.pause(1).send_keys("logs").pause(1).send_keys(Keys.ENTER).perform()
            try:  # `:logs` jumps to the Logs screen by name, as k9s does
                wait_for(lambda s, at=typed: "Logs" in s[at:] and "Level" in s[at:], "Logs", 20)
                break
            except pytest.fail.Exception:
                if attempt == 2:
                    raise
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "web-console-logs.png"))
    finally:
        browser.quit()
