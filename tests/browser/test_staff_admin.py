"""A staff member uses the Django admin: logs in, reads the cache dashboard,
flushes the caches (staying logged in) and deletes a review."""

import re

from playwright.sync_api import Page, expect

from .conftest import ROOT
from .conftest import STAFF_PASSWORD as PASSWORD
from .pages import histogram, restaurant_path

RESTAURANT = "Example Corp. Italian"  # no other browser test writes here


def log_in(page: Page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_staff_flush_the_caches_and_stay_logged_in(page: Page, staff_username: str):
    log_in(page, staff_username)
    expect(page.get_by_role("heading", name="Our caches (hits / misses)")).to_be_visible()
    expect(page.locator("#servers")).to_contain_text("default, sessions")
    expect(page.locator("#servers .role")).to_contain_text("primary")

    page.get_by_role("link", name="Flush all caches").click()
    expect(page.get_by_text("Sessions are kept")).to_be_visible()
    page.get_by_role("button", name="Yes, flush all caches").click()

    expect(page.locator(".messagelist")).to_contain_text("Removed")
    expect(page.locator("#audit")).to_contain_text("Flush all caches")
    expect(page.locator("#user-tools")).to_contain_text(staff_username)
    page.screenshot(path=str(ROOT / "test-artifacts" / "staff-dashboard.png"), full_page=True)


def test_a_non_staff_visitor_cannot_use_the_admin(page: Page):
    page.goto("/admin/")
    page.get_by_label("Username").fill("nobody_here")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("staff account")


def test_staff_delete_a_review_and_the_page_and_counters_follow(page: Page, staff_username: str):
    page.goto(restaurant_path(RESTAURANT))
    before = histogram(page)
    log_in(page, staff_username)
    page.goto(f"/admin/restaurants/{RESTAURANT}/")
    first_row = page.locator("#reviews tbody tr").first
    author = first_row.locator("td").nth(1).inner_text()
    stars = int(first_row.locator("td").nth(2).inner_text())
    first_row.get_by_role("link", name="Delete").click()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Deleted {author}'s review")

    visitor = page.context.browser.new_context(base_url=page.url.split("/admin/")[0])
    anonymous = visitor.new_page()
    anonymous.goto(restaurant_path(RESTAURANT))
    after = histogram(anonymous)
    assert after[stars] == before[stars] - 1
    assert sum(after.values()) == sum(before.values()) - 1
    visitor.close()


def test_the_staff_login_has_a_heading(page: Page):
    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in to Tastebook staff")


def test_the_dashboard_fits_a_phone_and_shows_durations_as_staff_read_them(page: Page, staff_username: str):
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, staff_username)
    expect(page.get_by_role("heading", name="Our caches (hits / misses)")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "the dashboard scrolls sideways"
    expect(page.locator("#ttl-policy")).to_contain_text("Sessions")
    durations = page.locator("#ttl-policy td:nth-child(2)").all_inner_texts()
    assert "15 min" in durations and not [d for d in durations if re.fullmatch(r"\d+( s)?", d)], durations
    servers = page.locator("#servers .table-scroll")
    assert servers.evaluate("box => box.scrollWidth > box.clientWidth")  # its wide table scrolls in its box
