"""The user model: Django's auth on top of DynamoDB profile items.

``User`` is an unmanaged model with no table: Django's auth, password hashing,
sessions and the admin see an ordinary user, while ``save``, ``delete`` and the
manager's lookups go to the ``USER#<username>`` / ``#PROFILE`` item through
the model layer. Permissions are simple: active superusers have them all.
"""

import datetime as dt
import functools

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .cache import invalidation
from .cache.data import visitors
from .dynamo import users as user_items
from .dynamo.entities import parse_timestamp
from .dynamo.errors import NotFound, Unavailable

USERNAME_RULES = "3 to 30 characters: letters, digits, and _ - . only."
username_validator = RegexValidator(r"^[A-Za-z0-9_.-]{3,30}\Z", f"Enter a valid username: {USERNAME_RULES}")


class UserManager(BaseUserManager):
    def get_by_natural_key(self, username):
        username = self.model.normalize_username(username or "")
        try:
            # A consistent read on a miss: the profile is cached for minutes, and one read
            # just after a password change must not cache the old hash (the fence is lifted by then).
            load = functools.partial(user_items.user_item_get, username=username, consistent=True)
            item = visitors.profile(username, load=load)
        except NotFound:
            raise self.model.DoesNotExist(f"No user called {username!r}.") from None
        return self.model.from_item(item)

    def get_for_login(self, username):
        """The user as DynamoDB has it now, never the cached profile: a password
        changed a moment ago must be the only one that logs in."""
        username = self.model.normalize_username(username or "")
        try:
            item = user_items.user_item_get(username=username, consistent=True)
        except NotFound:
            raise self.model.DoesNotExist(f"No user called {username!r}.") from None
        return self.model.from_item(item)

    def with_email(self, email: str) -> list["User"]:
        """The accounts that gave ``email`` (whatever its case), as DynamoDB
        has them now: whom a password reset for that address may reach."""
        return [self.model.from_item(item) for item in user_items.users_with_email(email=email)]

    def usernames_with_email(self, email: str) -> list[str]:
        """Whom the lookup items of ``email`` name: one Query, whether or not
        there are any. ``with_email_among`` then reads and checks them."""
        return user_items.usernames_with_email(email=email)

    def with_email_among(self, usernames: list[str], email: str) -> list["User"]:
        """The accounts of ``usernames`` that still have ``email``, as DynamoDB has them now."""
        items = user_items.profiles_with_email(email=email, usernames=usernames)
        return [self.model.from_item(item) for item in items]

    def create_user(self, username, email=None, password=None, **extra_fields):
        user = self.model(username=self.model.normalize_username(username), email=self.normalize_email(email))
        for name, value in extra_fields.items():
            setattr(user, name, value)
        user.set_password(password)
        user.clean_fields(exclude=["password", "last_login"])
        user.save(force_insert=True)
        return user

    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.update(is_staff=True, is_superuser=True)
        return self.create_user(username, email, password, **extra_fields)


class User(AbstractBaseUser):
    username = models.CharField(
        max_length=30,
        primary_key=True,
        validators=[username_validator],
        help_text=USERNAME_RULES,
    )
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    is_superuser = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised to end every session of the account (staff deactivating it): see get_session_auth_hash.
    session_epoch = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        managed = False

    @classmethod
    def normalize_username(cls, username):
        """Names are stored lower-case, so "Kim" and "kim" are one account."""
        return super().normalize_username(username).strip().lower()

    @classmethod
    def from_item(cls, item: dict) -> "User":
        user = cls(
            username=item["username"],
            email=item.get("email", ""),
            is_active=item.get("is_active", True),
            is_staff=item.get("is_staff", False),
            is_superuser=item.get("is_superuser", False),
            date_joined=_read_time(item.get("date_joined")) or timezone.now(),
            session_epoch=int(item.get("session_epoch", 0)),
        )
        user.password = item.get("password", "")
        user.last_login = _read_time(item.get("last_login"))
        user._state.adding = False
        return user

    def to_fields(self) -> dict:
        return {
            "username": self.username,
            "password": self.password,
            "email": self.email,
            "is_active": self.is_active,
            "is_staff": self.is_staff,
            "is_superuser": self.is_superuser,
            "date_joined": _write_time(self.date_joined),
            "last_login": _write_time(self.last_login),
            "session_epoch": self.session_epoch or None,  # absent until first raised
        }

    def save(self, *args, force_insert=False, update_fields=None, **kwargs):
        """Insert (refusing a taken name) or update the profile item. Login
        calls this with ``update_fields=["last_login"]``.

        Any other update may change the password or the user's rights, which
        sessions are checked against on every request: the cached profile is
        fenced first (visitors.fence_profile), and if Redis cannot take the
        fence nothing is written and the caller gets Unavailable (a 503 page)."""
        fields = self.to_fields()
        if force_insert or self._state.adding:
            user_items.user_item_create(fields=fields)
            self._state.adding = False
            invalidation.user_changed(self.username)  # their page exists from now on
        else:
            if update_fields is not None:
                fields = {name: fields[name] for name in update_fields}
            if set(fields) - {"username", "last_login"}:
                try:
                    visitors.fence_profile(self.username)
                except visitors.CacheDown as error:
                    raise Unavailable("Our session store did not answer, so nothing was changed.") from error
            fields.pop("username", None)
            user_items.user_item_update(username=self.username, fields=fields)
            visitors.forget_profile(self.username)
        if self._password is not None:
            self._password = None

    def delete(self, *args, **kwargs):
        user_items.user_item_delete(username=self.username)
        visitors.forget_profile(self.username)
        invalidation.user_changed(self.username)

    def has_perm(self, perm, obj=None):
        return self.is_active and self.is_superuser

    def get_session_auth_hash(self):
        """Django's HMAC of the password, which every session stores and is
        checked against on each request, plus the session epoch once raised:
        raising it ends every session of the account at its next request
        without touching the password (a deactivation), and for good, so a
        reactivated account's old cookies stay logged out. At epoch 0 it is
        Django's own hash, so existing sessions are kept."""
        return self._with_epoch(super().get_session_auth_hash())

    def get_session_auth_fallback_hash(self):
        # Each under its own old key, as Django's are, so rotating SECRET_KEY logs nobody out.
        fallbacks = super().get_session_auth_fallback_hash()
        for secret, fallback in zip(settings.SECRET_KEY_FALLBACKS, fallbacks, strict=True):
            yield self._with_epoch(fallback, secret=secret)

    def _with_epoch(self, password_hash: str, *, secret: str | None = None) -> str:
        if not self.session_epoch:
            return password_hash
        salt = "restaurants.models.User.session_epoch"
        value = f"{password_hash}#{self.session_epoch}"
        return salted_hmac(salt, value, secret=secret, algorithm="sha256").hexdigest()

    def has_perms(self, perm_list, obj=None):
        return all(self.has_perm(perm, obj) for perm in perm_list)

    def has_module_perms(self, app_label):
        return self.is_active and self.is_superuser

    def get_username(self):
        return self.username

    def __str__(self):
        return self.username


def _read_time(value: str | None) -> dt.datetime | None:
    return parse_timestamp(value) if value else None


def _write_time(value: dt.datetime | None) -> str | None:
    return value.astimezone(dt.UTC).isoformat() if value else None
