"""The integration form on the real database, its tests against the sandbox simulators:
focus, labelled per-type fields, edits that keep what was not edited, the save button and
the last test."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select
from textual.widgets._footer import FooterKey

from connectors.base import ConnectionCheck
from connectors.sandbox.credentials import DEMO_GITHUB_TOKEN, DEMO_JIRA
from connectors.sandbox.github import GitHubSimulator
from connectors.sandbox.jira import JiraSimulator
from connectors.sandbox.org import Org
from pulse_console.services.integrations import IntegrationDraft, check_connection
from pulse_console.tui.app import PulseApp
from pulse_console.tui.context import ConsoleContext
from pulse_console.tui.dialogs.integration_form import IntegrationForm
from pulse_console.tui.palette import PulseCommands
from storage.db import Database
from storage.integrations import save_integration
from storage.models import Integration
from storage.tenancy import ensure_client
from tests.tui.conftest import make_ctx
from tests.tui.workers import workers_done

JIRA_URL = "https://sandbox.atlassian.net"


@pytest.fixture(scope="module")
def sandbox() -> httpx.MockTransport:
    """Jira and GitHub simulators behind one transport, chosen by host."""
    jira = JiraSimulator(Org(7, "tiny"), DEMO_JIRA)
    github = GitHubSimulator(Org(7, "tiny"), tokens=(DEMO_GITHUB_TOKEN,))

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "sandbox.atlassian.net":
            if request.url.path == "/rest/api/2/serverInfo":
                request.url = request.url.copy_with(path="/rest/api/3/serverInfo")
            return jira.handle(request)
        return github.handle(request)

    return httpx.MockTransport(handle)


@pytest.fixture
def form_ctx(database: Database, tmp_path: Path, sandbox: httpx.MockTransport) -> ConsoleContext:
    def tester(draft: IntegrationDraft, token: str) -> ConnectionCheck:
        return check_connection(draft, token, transport=sandbox)

    return make_ctx(database, tmp_path, tester=tester)


async def _open_form(app: PulseApp, pilot: Pilot[None], key: str) -> IntegrationForm:
    app.switch_to("integrations")
    await workers_done(app)
    await pilot.pause()
    await pilot.press(key)
    await pilot.pause()
    assert isinstance(app.screen, IntegrationForm)
    return app.screen


async def _settle(app: PulseApp, pilot: Pilot[None]) -> None:
    for _ in range(3):
        await workers_done(app)
        await pilot.pause()


def _stored(database: Database, name: str) -> Integration:
    with database.session() as session:
        row = session.query(Integration).filter_by(name=name).one()
        session.expunge(row)
        return row


async def test_typing_right_after_a_lands_in_the_name_field(form_ctx: ConsoleContext) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        await pilot.press(*"jira-two")
        assert form.query_one("#name", Input).value == "jira-two"


async def test_every_field_has_a_label_and_github_shows_its_own_fields(
    form_ctx: ConsoleContext,
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        labels = {str(label.content) for label in form.query(Label) if label.display}
        assert {"Name", "Type", "Base URL", "Token", "Projects to sync"} <= labels
        assert form.query_one("#fields-jira").display
        form.query_one("#type", Select).value = "github"
        await pilot.pause()
        assert not form.query_one("#fields-jira").display
        assert form.query_one("#fields-github").display
        assert form.query_one("#base_url", Input).value == "https://api.github.com"
        shown = {str(label.content) for label in form.query_one("#fields-github").query(Label)}
        assert {"Organisations", "Repositories", "Deployments from"} <= shown
        assert form.query_one("#github-enterprise", Checkbox).label.plain.startswith("GitHub")


async def test_a_github_integration_added_from_the_form_keeps_every_setting_and_its_test(
    form_ctx: ConsoleContext, database: Database
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        form.query_one("#name", Input).value = "gh-two"
        form.query_one("#type", Select).value = "github"
        await pilot.pause()
        form.query_one("#github-orgs", Input).value = "acme, acme-labs"
        form.query_one("#github-patterns", Input).value = "api-*"
        form.query_one("#github-project_keys", Input).value = "alp"
        form.query_one("#github-deployments", Select).value = "actions"
        form.query_one("#token", Input).value = DEMO_GITHUB_TOKEN
        form.query_one("#save", Button).press()
        await _settle(app, pilot)
        assert not isinstance(app.screen, IntegrationForm)
    row = _stored(database, "gh-two")
    assert row.config["orgs"] == ["acme", "acme-labs"]
    assert row.config["patterns"] == ["api-*"]
    assert row.config["project_keys"] == ["ALP"]
    assert row.config["deployments"] == "actions"
    # The test that let it be saved is its "Last test".
    assert row.last_test_ok is True and row.last_test_at is not None


async def test_editing_an_integration_changes_only_what_was_edited(
    form_ctx: ConsoleContext, database: Database
) -> None:
    with database.session() as session:
        client_id = ensure_client(session, "acme")
    with database.session() as session:
        save_integration(
            session,
            client_id=client_id,
            name="jira-main",
            type="jira",
            base_url=JIRA_URL,
            config={
                "email": DEMO_JIRA.email,
                "deployment": "cloud",
                "projects": ["ALP", "BET"],
                "page_size": 10,  # set by hand: the form has no field for it
            },
        )
    form_ctx.services.integrations.save(
        IntegrationDraft(
            "jira-main",
            "jira",
            JIRA_URL,
            DEMO_JIRA.email,
            DEMO_JIRA.api_token,
            existing_id=_stored(database, "jira-main").id,
            config={"deployment": "cloud", "projects": ["ALP", "BET"]},
        )
    )
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "enter")
        projects = form.query_one("#jira-projects", Input)
        assert projects.value == "ALP, BET"
        assert form.query_one("#jira-email", Input).value == DEMO_JIRA.email
        projects.value = "ALP"
        windows = form.query_one("#jira-windows", Input)
        assert windows.value == ""  # not stored: the sync's default
        windows.value = "17"
        form.query_one("#save", Button).press()
        await _settle(app, pilot)
        assert isinstance(app.screen, IntegrationForm), "out of bounds is not saved"
        assert "from 1 to 16" in str(form.query_one("#jira-windows-error").render())
        windows.value = "2"
        form.query_one("#save", Button).press()
        await _settle(app, pilot)
        assert not isinstance(app.screen, IntegrationForm)
    assert _stored(database, "jira-main").config == {
        "email": DEMO_JIRA.email,
        "deployment": "cloud",
        "projects": ["ALP"],
        "page_size": 10,
        "windows": 2,
    }


async def test_a_successful_retest_turns_save_anyway_back_into_save(
    form_ctx: ConsoleContext,
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        form.query_one("#name", Input).value = "jira-two"
        form.query_one("#base_url", Input).value = JIRA_URL
        form.query_one("#jira-email", Input).value = DEMO_JIRA.email
        form.query_one("#token", Input).value = "wrong-token"
        form.query_one("#test", Button).press()
        await _settle(app, pilot)
        save = form.query_one("#save", Button)
        assert str(save.label) == "Save anyway"
        form.query_one("#token", Input).value = DEMO_JIRA.api_token
        form.query_one("#test", Button).press()
        await _settle(app, pilot)
        assert str(save.label) == "Save"


async def test_jira_needs_an_email_unless_data_center_is_ticked(
    form_ctx: ConsoleContext, database: Database
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        form.query_one("#name", Input).value = "jira-dc"
        form.query_one("#base_url", Input).value = "https://jira.example.com"
        form.query_one("#token", Input).value = "pat"
        form.query_one("#test", Button).press()
        await pilot.pause()
        assert "e-mail" in str(form.query_one("#jira-email-error").render())
        form.query_one("#jira-deployment", Checkbox).value = True
        assert form.draft().config["deployment"] == "data_center"
        form.query_one("#test", Button).press()
        await pilot.pause()
        assert str(form.query_one("#jira-email-error").render()) == ""


async def test_ctrl_s_saves_the_form_from_a_field_and_is_in_the_footer_and_palette(
    form_ctx: ConsoleContext, database: Database
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        footer = form.query_one(Footer)  # the form's own footer shows its keys
        assert "ctrl+s" in {key.key for key in footer.query(FooterKey)}
        entries = PulseCommands(form, None)._entries()
        assert any(title == "Save" and "ctrl+s" in help_text for title, help_text, _ in entries)
        await pilot.press(*"jira-two")
        form.query_one("#base_url", Input).value = JIRA_URL
        form.query_one("#jira-email", Input).value = DEMO_JIRA.email
        form.query_one("#token", Input).value = DEMO_JIRA.api_token
        form.query_one("#token", Input).focus()
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert not isinstance(app.screen, IntegrationForm)
    row = _stored(database, "jira-two")
    assert row.type == "jira" and row.last_test_ok is True


async def test_enter_in_a_text_field_moves_to_the_next_text_field_of_the_chosen_type(
    form_ctx: ConsoleContext,
) -> None:
    app = PulseApp(form_ctx)
    async with app.run_test(size=(100, 32)) as pilot:
        form = await _open_form(app, pilot, "a")
        visited = []
        for _ in range(7):
            focused = app.focused
            assert isinstance(focused, Input)
            visited.append(focused.id)
            await pilot.press("enter")
            await pilot.pause()
        # the type choice and the Data Center flag are skipped; Enter on the last stays
        texts = ["jira-email", "jira-projects", "jira-windows", "jira-max_in_flight"]
        assert visited == ["name", "base_url", *texts, "token"]
        assert isinstance(form, IntegrationForm) and app.screen is form
