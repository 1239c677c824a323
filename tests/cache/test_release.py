"""What is rendered is keyed by the release that rendered it (restaurants/cache/rules/release.py).

A "release" here is a copy of the templates (``TEMPLATES`` DIRS pointed at it)
or a ``RELEASE`` setting: within one test, switching between them is two
processes of two releases running side by side against the same Redis.
"""

import importlib.util
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import reverse

from restaurants import services
from restaurants.cache.rules import keys, release

FINE_DINING = "AnyCompany Fine Dining"
DETAIL = reverse("restaurants:detail", args=[FINE_DINING])
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
# In restaurants/includes/histogram.html, included by the detail page inside a cached fragment.
OLD_CAPTION = "Ratings by number of stars"
NEW_CAPTION = "Stars given, as the new release shows them"
NEW_RELEASE_EDITS = {"restaurants/includes/histogram.html": (OLD_CAPTION, NEW_CAPTION)}


def _templates(tmp_path: Path, name: str, edits: dict[str, tuple[str, str]] | None = None) -> Path:
    """A copy of the site's templates, with ``edits`` (file: (old text, new text))."""
    root = tmp_path / name
    shutil.copytree(TEMPLATES_DIR, root)
    for relative, (old, new) in (edits or {}).items():
        path = root / relative
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return root


@contextmanager
def serving(templates: Path):
    """A process of the release whose templates are ``templates`` (RELEASE unset: derived)."""
    with override_settings(RELEASE="", TEMPLATES=[{**settings.TEMPLATES[0], "DIRS": [templates]}]):
        yield


def _configured_release() -> str:
    """``RELEASE`` as reviews_site/settings.py reads it from the environment now."""
    spec = importlib.util.find_spec("reviews_site.settings")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    return fresh.RELEASE


def _derived_with(templates: Path) -> str:
    with serving(templates):
        return release.current()


# --- Which release a process is -------------------------------------------------------------


def test_the_release_changes_when_a_page_template_changes(tmp_path):
    edit = ('{% extends "base.html" %}', '{% extends "base.html" %}{# new release #}')
    edited = _templates(tmp_path, "edited", {"restaurants/detail.html": edit})
    assert _derived_with(edited) != _derived_with(_templates(tmp_path, "same"))


def test_the_release_changes_when_an_included_template_changes(tmp_path):
    assert _derived_with(_templates(tmp_path, "new", NEW_RELEASE_EDITS)) != _derived_with(_templates(tmp_path, "old"))


def test_the_release_is_the_same_for_the_same_files_wherever_they_are(tmp_path):
    one, other = _templates(tmp_path, "one"), _templates(tmp_path, "other")
    assert _derived_with(one) == _derived_with(other) == _derived_with(TEMPLATES_DIR)


def test_the_release_changes_when_a_static_file_changes(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(Path(settings.BASE_DIR) / "static", static)
    with override_settings(RELEASE="", STATICFILES_DIRS=[static]):
        before = release.current()
        stylesheet = static / "css" / "site.css"
        stylesheet.write_text(stylesheet.read_text() + "\n/* new release */\n")
        with override_settings(STATICFILES_DIRS=[static]):  # a new process: derived again
            assert release.current() != before


def test_with_a_manifest_the_release_follows_the_manifest(tmp_path):
    manifest_storage = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    storages = {**settings.STORAGES, "staticfiles": manifest_storage}
    manifest = tmp_path / "staticfiles.json"
    manifest.write_text('{"paths": {"css/site.css": "css/site.0123456789ab.css"}, "version": "1.1"}')
    with override_settings(RELEASE="", STORAGES=storages, STATIC_ROOT=tmp_path):
        before = release.current()
        manifest.write_text('{"paths": {"css/site.css": "css/site.ba9876543210.css"}, "version": "1.1"}')
        with override_settings(STATIC_ROOT=tmp_path):
            assert release.current() != before


def test_the_release_environment_variable_names_the_release(monkeypatch):
    monkeypatch.setenv("RELEASE", "2025-06-01.4f2c9e1")
    with override_settings(RELEASE=_configured_release()):
        assert release.current() == "2025-06-01.4f2c9e1"
        assert keys.release_page_field("/top/?") == "2025-06-01.4f2c9e1/top/?"
        assert "2025-06-01.4f2c9e1" in keys.fragment_shell_key(keys.restaurant_tag(FINE_DINING))


def test_without_the_environment_variable_the_release_is_derived(monkeypatch):
    monkeypatch.delenv("RELEASE", raising=False)
    with override_settings(RELEASE=_configured_release()):
        assert release.current() == release.derived()


@pytest.mark.parametrize("name", ["v1/2", "two words", "a:b", "x" * 65])
def test_a_release_name_that_cannot_go_into_a_key_is_refused(name):
    with override_settings(RELEASE=name), pytest.raises(ImproperlyConfigured, match="RELEASE"):
        release.current()


# --- What visitors are served after a deploy ------------------------------------------------


@pytest.mark.integration
def test_a_changed_template_is_served_on_the_next_anonymous_view(site, client, tmp_path):
    old = client.get(DETAIL)
    assert client.get(DETAIL)["X-Cache"] == "HIT"
    with serving(_templates(tmp_path, "new", NEW_RELEASE_EDITS)):
        new = client.get(DETAIL)
        revalidated = client.get(DETAIL, headers={"if-none-match": old["ETag"]})
    assert new["X-Cache"] == "MISS"
    assert NEW_CAPTION in new.content.decode() and OLD_CAPTION not in new.content.decode()
    assert revalidated.status_code == 200 and NEW_CAPTION in revalidated.content.decode()


@pytest.mark.integration
def test_a_logged_in_page_after_a_deploy_is_rendered_from_the_new_templates(site, member, tmp_path):
    assert OLD_CAPTION in member.get(DETAIL).content.decode()  # keeps this release's shell and fragments
    with serving(_templates(tmp_path, "new", NEW_RELEASE_EDITS)):
        page = member.get(DETAIL).content.decode()
    assert NEW_CAPTION in page and OLD_CAPTION not in page and "kim" in page


@pytest.mark.integration
def test_a_browser_holding_another_releases_page_is_sent_this_ones(site, client):
    with override_settings(RELEASE="one"):
        held = client.get(DETAIL)
    with override_settings(RELEASE="two"):
        asked = client.get(DETAIL, headers={"if-none-match": held["ETag"]})
    assert asked.status_code == 200 and asked["ETag"] != held["ETag"]
    assert asked.content == held.content  # same templates, same page: still its own release's


@pytest.mark.integration
def test_two_releases_side_by_side_each_serve_their_own_pages_and_a_write_retires_both(site, client, tmp_path):
    old_release, new_release = _templates(tmp_path, "old"), _templates(tmp_path, "new", NEW_RELEASE_EDITS)
    for templates in (old_release, new_release):
        with serving(templates):
            assert [client.get(url)["X-Cache"] for url in (DETAIL, "/")] == ["MISS", "MISS"]
    with serving(old_release):
        old = [client.get(DETAIL), client.get("/")]
    with serving(new_release):
        new = [client.get(DETAIL), client.get("/")]
    assert [page["X-Cache"] for page in (*old, *new)] == ["HIT"] * 4
    assert OLD_CAPTION in old[0].content.decode() and NEW_CAPTION in new[0].content.decode()
    # A CDN knows both releases' pages by the same groups: one purge takes both.
    assert [page["Surrogate-Key"] for page in old] == [page["Surrogate-Key"] for page in new]

    services.review_post(username="kim", restaurant=FINE_DINING, rating=5, text="Posted mid-deploy.")

    for templates in (old_release, new_release):
        with serving(templates):
            detail, lists = client.get(DETAIL), client.get("/")
        assert [detail["X-Cache"], lists["X-Cache"]] == ["MISS", "MISS"], templates.name
        assert "Posted mid-deploy." in detail.content.decode()
