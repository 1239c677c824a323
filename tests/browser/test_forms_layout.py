"""Where the review form and the form pages put things: the star picker's
"pick a rating" warning at the stars, the form apart from the latest reviews,
form panels centred, their actions apart. Each test signs up a user of its own;
only the last posts a review, to a restaurant no other browser test reads."""

import uuid

from playwright.sync_api import Page, expect

from .pages import restaurant_path, sign_up

UNREVIEWED = "AnyCompany Mexican"  # the form is shown and never posted
POSTED_TO = "Example Corp. Mexican"


def box(page: Page, selector: str) -> dict:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_the_missing_rating_warning_points_at_the_stars_and_the_form_has_its_own_section(page: Page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(restaurant_path(UNREVIEWED))
    sign_up(page, f"layout_{uuid.uuid4().hex[:8]}")
    page.get_by_label("Your review").fill("Lovely.")
    page.get_by_role("button", name="Post review").click()  # no rating: the browser refuses and says why

    expect(page).to_have_url(restaurant_path(UNREVIEWED))
    # The control the browser's bubble points at is the first invalid one: it must sit on the stars.
    invalid = page.evaluate(
        """() => { const r = document.querySelector('form.review-form input:invalid').getBoundingClientRect();
                   return {x: r.x, y: r.y, width: r.width, height: r.height}; }"""
    )
    stars = box(page, ".star-choices")
    assert invalid["width"] > 10 and invalid["height"] > 10
    assert stars["x"] <= invalid["x"] and invalid["x"] + invalid["width"] <= stars["x"] + stars["width"]
    assert stars["y"] <= invalid["y"] and invalid["y"] + invalid["height"] <= stars["y"] + stars["height"] + 1

    expect(page.get_by_role("heading", name="Write a review", level=2)).to_be_visible()
    form_bottom = box(page, ".write-review")["y"] + box(page, ".write-review")["height"]
    assert box(page, "#latest-heading")["y"] - form_bottom >= 16  # the form does not touch the reviews


def test_form_panels_are_centred_and_their_actions_apart(page: Page):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(restaurant_path(POSTED_TO))
    sign_up(page, f"layout_{uuid.uuid4().hex[:8]}")
    page.get_by_role("radio", name="4 stars").check()
    page.get_by_label("Your review").fill("Good mole.")
    page.get_by_role("button", name="Post review").click()
    page.get_by_role("link", name="Edit your review").click()

    panel = box(page, "form.review-form")
    left, right = panel["x"], 1280 - (panel["x"] + panel["width"])
    assert abs(left - right) < 20, (left, right)
    save, delete = box(page, "button:has-text('Save changes')"), box(page, "a:has-text('Delete review')")
    assert delete["x"] - (save["x"] + save["width"]) >= 16
