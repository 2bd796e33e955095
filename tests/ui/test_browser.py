"""The triage app in a real browser (headless chromium): what an analyst, a viewer and two
analysts at once see and do. Screenshots for the README are taken here (see _shot)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from helpers import HOSTILE_NAME, PASSWORD

DEMO_REGION = "simulated-demo-seed10"
# COMPUTEWATCH_SCREENSHOTS=docs/img ./run pytest tests/ui/test_browser.py records the README's
# screenshots again; otherwise they go to the test's own folder.
SHOTS = os.environ.get("COMPUTEWATCH_SCREENSHOTS")


def _shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    page.screenshot(path=path)
    assert path.read_bytes().startswith(b"\x89PNG")
    if SHOTS:
        shutil.copy(path, Path(SHOTS) / name)


def open_page(browser, base: str, user: str):
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=user]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#queue tbody tr")
    page.errors = errors
    return page


def rows(page) -> list[str]:
    return page.locator("#queue tbody tr td:nth-child(2)").all_inner_texts()


def pick(page, site: str) -> None:
    page.locator("#queue tbody tr", has_text=site).first.click()
    page.wait_for_selector(f"#detail h2:text-is('{site}')")


def image_loaded(page, kind: str, timeout_ms: int = 15_000) -> bool:
    """Whether the detail pane's evidence image of this kind finishes loading as a real picture
    (an image still in flight is waited for; a broken one never passes)."""
    try:
        page.wait_for_function(
            "(kind) => { const i = document.querySelector(`#detail img[data-kind=${kind}]`);"
            " return i !== null && i.complete && i.naturalWidth > 100; }",
            arg=kind, timeout=timeout_ms)
    except PlaywrightTimeoutError:
        return False
    return True


def test_an_analyst_filters_opens_confirms_and_signs_out(browser, served, tmp_path):
    page = open_page(browser, served, "ana")
    assert len(rows(page)) == 4  # three demo alerts and the hostile region's
    page.select_option("#region", DEMO_REGION)
    expect(page.locator("#queue tbody tr")).to_have_count(3)
    page.fill("#f-score", "0.86")  # below F000001 (0.865), above F000002 (0.856) and F000003 (0.83)
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    assert rows(page) == ["F000001"]
    page.fill("#f-score", "0")
    page.select_option("#f-declared", "exceeds")
    assert rows(page) == []
    page.select_option("#f-declared", "")
    page.click("#queue th[data-key=est_it_mw]")  # sort by IT MW, largest first
    assert rows(page)[0] == "F000002"

    pick(page, "F000001")
    assert image_loaded(page, "thermal") and image_loaded(page, "load")
    assert page.locator("#detail").get_by_text("Roof ΔT").is_visible()
    assert page.locator("#detail").get_by_text("Yard ΔT").is_visible()
    expect(page.locator("path.leaflet-interactive")).to_have_count(3)
    _shot(page, tmp_path, "triage-alert.png")

    page.keyboard.press("c")
    assert page.locator("#decide").is_visible()
    page.fill("#decide-note", "two halls and a new substation on the 2025 imagery")
    page.keyboard.press("Enter")
    page.wait_for_selector("#decisions td:text-is('ana')")
    assert "two halls and a new substation" in page.inner_text("#decisions")
    row = page.locator("#queue tbody tr", has_text="F000001")
    expect(row.locator(".status")).to_have_text("confirmed")
    expect(page.locator('path.leaflet-interactive[stroke="#b30000"]')).to_have_count(1)
    page.keyboard.press("k")  # the alert above in the queue as sorted (by IT MW)
    page.wait_for_selector("#detail h2:text-is('F000003')")
    page.select_option("#f-status", "confirmed")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    assert rows(page) == ["F000001"]
    page.select_option("#f-status", "")
    _shot(page, tmp_path, "triage-queue.png")

    page.click("#signout")
    page.wait_for_url("**/login")
    page.goto(served + "/")
    assert page.url.endswith("/login")
    assert page.errors == []


def test_a_viewer_sees_everything_and_can_decide_nothing(browser, served):
    page = open_page(browser, served, "vic")
    pick(page, "F000002")
    assert image_loaded(page, "thermal")
    buttons = page.locator("#detail .actions button")
    assert buttons.count() == 5 and all(b.is_disabled() for b in buttons.all())
    page.keyboard.press("c")
    assert not page.locator("#decide").is_visible()
    assert page.locator("#users-open").is_hidden()
    assert page.errors == []


def test_a_name_or_note_holding_script_shows_as_text_and_runs_nothing(browser, served):
    page = open_page(browser, served, "ana")
    page.select_option("#region", "hostile")
    expect(page.locator("#queue tbody tr")).to_have_count(1)
    assert rows(page) == [HOSTILE_NAME]
    page.locator("#queue tbody tr").first.click()
    page.wait_for_selector("#detail h2")
    assert page.inner_text("#detail h2") == HOSTILE_NAME
    page.keyboard.press("i")
    page.fill("#decide-note", "<script>window.pwned = 3</script><b>bold</b>")
    page.keyboard.press("Enter")
    page.wait_for_selector("#decisions td:text-is('ana')")
    assert "<script>window.pwned = 3</script><b>bold</b>" in page.inner_text("#decisions")
    assert page.evaluate("window.pwned") is None
    assert page.locator("#detail b, #queue img, #detail script").count() == 0
    assert page.errors == []


def test_two_analysts_on_one_alert_the_second_sees_the_first_and_confirms(browser, served,
                                                                          app):
    from pipelines.alerts.accounts import add_user

    add_user(app.state.engine, "ben", PASSWORD, "analyst")
    first, second = open_page(browser, served, "ana"), open_page(browser, served, "ben")
    for page in (first, second):
        pick(page, "F000002")
    first.keyboard.press("c")
    first.fill("#decide-note", "confirmed by ana")
    first.keyboard.press("Enter")
    first.wait_for_selector("#decisions td:text-is('ana')")

    second.keyboard.press("d")
    second.fill("#decide-note", "dismissed by ben")
    second.keyboard.press("Enter")
    warning = second.locator("#decide-conflict")
    warning.wait_for()
    assert "ana set this to confirmed" in warning.inner_text()
    assert "confirmed by ana" in warning.inner_text()
    second.click("#decide-ok")
    second.wait_for_selector("#decisions td:text-is('ben')")
    notes = second.inner_text("#decisions")
    assert "confirmed by ana" in notes and "dismissed by ben" in notes
    assert first.errors == [] and second.errors == []


def test_an_admin_adds_a_user_and_changes_a_role_in_the_users_dialog(browser, served, app):
    from pipelines.alerts.accounts import list_users

    page = open_page(browser, served, "ada")
    page.click("#users-open")
    expect(page.locator("#users-table tbody tr")).to_have_count(3)
    page.fill("#ua-name", "ben")
    page.select_option("#ua-role", "analyst")
    page.fill("#ua-password", "a long enough password")
    page.click("#user-add button")
    expect(page.locator("#users-table tbody tr")).to_have_count(4)
    expect(page.locator("#users-message")).to_have_text("ben added")
    page.locator("#users-table tbody tr", has_text="vic").locator("select").select_option(
        "analyst")
    expect(page.locator("#users-message")).to_have_text("vic updated")
    roles = {u["name"]: u["role"] for u in list_users(app.state.engine)}
    assert roles == {"ada": "admin", "ana": "analyst", "ben": "analyst", "vic": "analyst"}
    assert page.errors == []
