"""Steps of a sitting in the capture app, shared by its browser tests."""

from __future__ import annotations

from pathlib import Path

from tests.axe import axe_violations, describe
from tests.mobile_client.conftest import PASSWORD, make_jpeg


def accessible(page, screen: str) -> None:
    """axe-core finds nothing against WCAG 2.2 AA on what the page shows now."""
    found = axe_violations(page)
    assert not found, f"{screen}:\n{describe(found)}"


def sign_in(page, app_url: str, username: str) -> None:
    page.goto(app_url)
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Patient").wait_for()


def typed_patient(page, mrn: str) -> None:
    """No EMR: the MRN, then the wristband's details typed in; on to "What is it for?"."""
    page.get_by_label("Or type the MRN").fill(mrn)
    page.get_by_role("button", name="Find patient").click()
    page.get_by_role("heading", name="Patient details").wait_for()
    page.get_by_label("Family name").fill("DOE")
    page.get_by_label("Given name").fill("JANE")
    page.get_by_label("Birth date (second identifier)").fill("1950-01-31")
    page.get_by_label("Female").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="What is it for?").wait_for()


def take_photo(page, path: Path, region: str, site: str) -> None:
    """From the camera screen: a sharp photo, its site picked on the map, back to the list."""
    page.locator("#camera-input").set_input_files(
        str(make_jpeg(path, kind="sharp", size=(640, 480)))
    )
    page.get_by_role("heading", name="Body site").wait_for()
    # A second photo starts where the first one's site is on the map.
    whole = page.get_by_role("button", name="Whole body")
    if whole.is_visible():
        whole.click()
    page.get_by_role("button", name=region, exact=True).click()
    page.get_by_role("button", name=site, exact=True).click()
    page.get_by_role("button", name="Use this site").click()
    page.get_by_role("heading", name="Photos and videos").wait_for()


def banner(page, screen: str) -> str:
    return page.locator(f"#screen-{screen} [data-patient-banner]").inner_text()
