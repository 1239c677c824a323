"""A new user's own page, and managing an account: the password changed, then
forgotten and reset through the mail the site sends (Django's file backend,
read here from the site's mail folder)."""

import re
import uuid
from pathlib import Path

from playwright.sync_api import Page, expect

from restaurants.waiting import wait_until

from .conftest import MAILED_SITE_URL
from .pages import PASSWORD, flash, header, log_in, restaurant_path, sign_up

NEW_PASSWORD = "Fresh-browser-47"
MAIL_WAIT_SECONDS = 10


def unique_username() -> str:
    return f"member_{uuid.uuid4().hex[:12]}"


def log_out(page: Page) -> None:
    header(page).get_by_role("button", name="Log out").click()
    expect(header(page).get_by_role("link", name="Log in")).to_be_visible()


def mail_to(mail_dir: Path, address: str) -> str:
    """The body of the mail the site sent to ``address`` (the file backend
    writes it before the request that sent it answers; the wait only covers
    the file system)."""

    def mail() -> str | None:
        texts = (path.read_text() for path in mail_dir.glob("*.log"))
        return next((text for text in texts if f"To: {address}" in text), None)

    return wait_until(mail, timeout=MAIL_WAIT_SECONDS, every=0.1, what=f"a mail to {address} in {mail_dir}")


def test_a_new_user_clicks_their_name_gets_their_page_and_edits_from_it(page: Page):
    username = unique_username()
    page.goto("/")
    sign_up(page, username)

    header(page).get_by_role("link", name=username).click()

    expect(page.get_by_role("heading", name=f"Reviews by {username}", level=1)).to_be_visible()
    expect(page.get_by_text("Member since")).to_be_visible()
    expect(page.get_by_role("heading", name="You have not reviewed a restaurant yet")).to_be_visible()
    page.get_by_role("link", name="Find a restaurant").click()
    expect(page.get_by_role("heading", name="Restaurants", level=1)).to_be_visible()

    page.goto(restaurant_path("Example Corp. Steaks"))
    page.get_by_role("radio", name="5 stars").check()
    page.get_by_label("Your review").fill("Green curry worth the trip.")
    page.get_by_role("button", name="Post review").click()
    expect(flash(page)).to_have_text("Thank you! Your review is published.")

    header(page).get_by_role("link", name=username).click()
    expect(page.locator("article.review .review-text")).to_have_text("Green curry worth the trip.")
    page.get_by_role("link", name="Edit your review of Example Corp. Steaks").click()
    page.get_by_label("Your review").fill("Green curry worth the trip, twice.")
    page.get_by_role("button", name="Save changes").click()

    expect(page).to_have_url(f"/users/{username}/")
    expect(flash(page)).to_have_text("Your review is updated.")
    expect(page.locator("article.review .review-text")).to_have_text("Green curry worth the trip, twice.")

    page.get_by_role("link", name="Delete your review of Example Corp. Steaks").click()
    page.get_by_role("button", name="Yes, delete it").click()
    expect(page).to_have_url(f"/users/{username}/")
    expect(flash(page)).to_have_text("Your review is deleted.")
    expect(page.locator("article.review")).to_have_count(0)


def test_a_user_changes_their_password_and_logs_in_with_the_new_one(page: Page):
    username = unique_username()
    page.goto("/")
    sign_up(page, username)
    header(page).get_by_role("link", name=username).click()
    page.get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Change your password").click()

    page.get_by_label("Old password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()

    expect(flash(page)).to_have_text("Your password is changed. Your other sessions are logged out.")
    expect(header(page).get_by_role("link", name=username)).to_be_visible()  # this session is kept
    log_out(page)

    log_in(page, username, PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("Please enter a correct username and password")
    log_in(page, username, NEW_PASSWORD)
    expect(header(page).get_by_role("link", name=username)).to_be_visible()


def test_a_user_who_forgot_their_password_resets_it_by_email(page: Page, site_mail_dir: Path):
    username = unique_username()
    page.goto("/")
    sign_up(page, username)
    log_out(page)

    header(page).get_by_role("link", name="Log in").click()
    page.get_by_role("link", name="Forgotten your password?").click()
    page.get_by_label("Email").fill(f"{username.upper()}@EXAMPLE.COM")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    mail = mail_to(site_mail_dir, f"{username}@example.com")
    assert f'account "{username}"' in mail
    link = re.search(re.escape(MAILED_SITE_URL) + r"(/accounts/password/reset/\S+/)", mail).group(1)
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "set-password" in page.url  # the token left the address bar (and any Referer)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()

    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(header(page).get_by_role("link", name=username)).to_be_visible()

    page.goto(link)  # a used link is refused
    expect(page.get_by_role("heading", name="This link does not work any more")).to_be_visible()
