import pytest
from django.contrib.auth import authenticate, get_user_model

from restaurants.dynamo.errors import AlreadyExists
from restaurants.dynamo.schema import scan_items

User = get_user_model()


def test_a_user_is_a_profile_item_beside_their_reviews(table, site_password_hashers):
    User.objects.create_user("Kim", "kim@example.com", "pass-word-9")
    [item] = [i for i in scan_items() if i["PK"] == "USER#kim"]
    assert item["SK"] == "#PROFILE"
    assert item["password"].startswith("pbkdf2_sha256$") and "pass-word-9" not in item["password"]


def test_usernames_are_unique_whatever_the_case(table):
    User.objects.create_user("kim", None, "pass-word-9")
    with pytest.raises(AlreadyExists):
        User.objects.create_user("KIM", None, "another-pass-9")


def test_a_lab_reviewer_name_cannot_be_taken_over(lab_table):
    with pytest.raises(AlreadyExists):
        User.objects.create_user("ewilliams", None, "pass-word-9")


def test_authenticate_checks_the_password(table):
    User.objects.create_user("kim", None, "pass-word-9")
    assert authenticate(username="Kim", password="pass-word-9").username == "kim"
    assert authenticate(username="kim", password="wrong") is None
    assert authenticate(username="nobody", password="pass-word-9") is None


def test_inactive_users_cannot_log_in(table):
    User.objects.create_user("kim", None, "pass-word-9", is_active=False)
    assert authenticate(username="kim", password="pass-word-9") is None


def test_save_with_update_fields_writes_only_those(table):
    user = User.objects.create_user("kim", "kim@example.com", "pass-word-9")
    user.email = "changed@example.com"
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    stored = User.objects.get_by_natural_key("kim")
    assert stored.is_staff and stored.email == "kim@example.com"


def test_superusers_have_every_permission_and_others_none(table):
    boss = User.objects.create_superuser("boss", "b@example.com", "pass-word-9")
    kim = User.objects.create_user("kim", None, "pass-word-9")
    assert boss.is_staff and boss.has_perm("anything") and boss.has_module_perms("restaurants")
    assert not kim.has_perm("anything") and not kim.has_module_perms("restaurants")


@pytest.mark.parametrize("name", ["ab", "a" * 31, "has space", "hash#tag", "slash/name", "ünï"])
def test_usernames_that_could_break_a_key_are_refused(table, name):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        User.objects.create_user(name, None, "pass-word-9")


def test_deleting_a_user_removes_the_profile(table):
    User.objects.create_user("kim", None, "pass-word-9").delete()
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("kim")


def test_a_profile_missing_from_the_cache_is_read_consistently(table, monkeypatch):
    """The cached profile holds the password hash every session is checked
    against, for minutes: a read just after a password change (the fence
    lifted) must not fetch, and cache, the item as it was before."""
    from restaurants.dynamo import users as user_items

    get_user_model().objects.create_user("reader", None, "pass-word-9")
    reads = []
    call = user_items.call

    def recording(operation, **params):
        if operation == "GetItem":
            reads.append(params.get("ConsistentRead"))
        return call(operation, **params)

    monkeypatch.setattr(user_items, "call", recording)
    get_user_model().objects.get_by_natural_key("reader")
    assert reads == [True]
    get_user_model().objects.get_by_natural_key("reader")
    assert reads == [True]  # then from the cache
