from collections.abc import Callable
from functools import partial

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation

from . import services
from .error_pages import LOGIN_UNAVAILABLE
from .errors import Unavailable
from .models import USERNAME_RULES, User, username_validator
from .services import MAX_REVIEW_LENGTH

# Lowest first: the star picker shows them left to right, and the arrow keys move through them in this order.
RATING_CHOICES = [(stars, f"{stars} star{'s' if stars > 1 else ''}") for stars in range(1, 6)]


class SubmissionField(forms.CharField):
    """The hidden token naming this showing of the form, so that posting it
    twice (a retry after a timeout) writes once. Optional: a missing or stale
    one only makes the write a new one."""

    def __init__(self, **kwargs):
        super().__init__(required=False, widget=forms.HiddenInput, **kwargs)

    def clean(self, value):
        return services.submission_id(super().clean(value))


class ReviewForm(forms.Form):
    submission = SubmissionField()
    rating = forms.TypedChoiceField(choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect)
    review = forms.CharField(
        label="Your review",
        max_length=MAX_REVIEW_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": MAX_REVIEW_LENGTH}),
    )


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form, saying so when staff deactivated the account
    rather than "wrong password" (only to someone who gave its password: the
    backend refuses inactive accounts before the form learns why)."""

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "inactive": "This account has been deactivated by our staff, so it cannot log in. "
        "If you think this is a mistake, contact us.",
    }

    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            if self._deactivated_with_this_password():
                raise forms.ValidationError(self.error_messages["inactive"], code="inactive") from None
            raise
        except Unavailable:  # the account could not be read: a 503 (LoginView), the name kept
            raise forms.ValidationError(LOGIN_UNAVAILABLE, code="unavailable") from None

    def _deactivated_with_this_password(self) -> bool:
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if not username or not password:
            return False
        try:
            user = User.objects.get_for_login(username)
        except (User.DoesNotExist, Unavailable):  # unknown, or not readable now: "wrong password" stands
            return False
        return not user.is_active and user.check_password(password)


class SignupForm(forms.Form):
    username = forms.CharField(max_length=30, help_text=USERNAME_RULES, validators=[username_validator])
    email = forms.EmailField(required=False, help_text="Optional: only for resetting a forgotten password.")
    password1 = forms.CharField(label="Password", strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label="Password again", strip=False, widget=forms.PasswordInput)

    def clean_username(self):
        return User.normalize_username(self.cleaned_data["username"])

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "The two passwords do not match.")
        elif password1 and "username" in cleaned:
            user = User(username=cleaned["username"], email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class DeleteReviewForm(forms.Form):
    submission = SubmissionField()


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        required=False,
        help_text="Optional: only for resetting a forgotten password. Leave empty to remove it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class PasswordSaveMixin:
    """Django's password forms save the whole user; ours writes the password
    alone (``update_fields``): one UpdateItem behind the profile fence, which
    cannot overwrite anything another save changed meanwhile."""

    def save(self, commit=True):
        if commit:
            services.user_password_set(user=self.user, password=self.cleaned_data["new_password1"])
        else:
            self.user.set_password(self.cleaned_data["new_password1"])
        return self.user


class PasswordChangeForm(PasswordSaveMixin, auth_forms.PasswordChangeForm):
    pass


class SetPasswordForm(PasswordSaveMixin, auth_forms.SetPasswordForm):
    pass


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's, finding the accounts of an address through our email lookup
    items rather than the ORM, in two steps so that how long the answer takes
    does not tell whether the address has an account: ``prepare`` makes the
    one DynamoDB Query the answer waits for (the same request either way; an
    outage is the usual 503), and returns Django's ``save`` for the view to
    run once the answer is sent: each account's profile read and checked, its
    token, its mail. The same rules: active accounts with a usable password
    (the demo users' are unusable)."""

    _usernames: list[str] | None = None

    def prepare(self, **save_kwargs) -> Callable[[], None]:
        self._usernames = User.objects.usernames_with_email(self.cleaned_data["email"])
        return partial(self.save, **save_kwargs)

    def get_users(self, email):
        if self._usernames is None:  # save() without prepare()
            self._usernames = User.objects.usernames_with_email(email)
        users = User.objects.with_email_among(self._usernames, email)
        return [user for user in users if user.is_active and user.has_usable_password()]
