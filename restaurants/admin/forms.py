"""The staff admin's forms. A restaurant's name is checked by the one name rule
(``restaurants.names``), the same function ``load_items``, ``import_table``
and the model layer use, so the admin cannot create what the site cannot show."""

import unicodedata

from django import forms

from restaurants.models import User, username_validator
from restaurants.names import URL_SEGMENT_MAX_LENGTH, restaurant_name_problem

NAME_HELP = (
    f"Up to {URL_SEGMENT_MAX_LENGTH} characters (“/” and “%” count 3 each), printable, "
    "no space at either end. Cannot be changed later: it is part of every review's key."
)


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise forms.ValidationError("Use printable characters only.")


def _valid_restaurant_name(value: str) -> None:
    if problem := restaurant_name_problem(value):
        raise forms.ValidationError(problem)


class RestaurantForm(forms.Form):
    name = forms.CharField(
        max_length=URL_SEGMENT_MAX_LENGTH, strip=True, help_text=NAME_HELP, validators=[_valid_restaurant_name]
    )
    cuisine = forms.CharField(max_length=50, strip=True, validators=[_no_control_characters])
    address = forms.CharField(max_length=200, strip=True, validators=[_no_control_characters])

    def __init__(self, *args, renaming_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not renaming_allowed:
            # Shown, never submitted: a disabled field is cleaned from its initial value, which
            # must not be judged again (a restaurant another client created may break the rule).
            self.fields["name"].disabled = True
            self.fields["name"].required = False
            self.fields["name"].validators = []
            self.fields["name"].help_text = (
                "A restaurant cannot be renamed: the name is part of every review's record, so renaming "
                "would orphan its reviews. Create a new restaurant instead."
            )


class RestaurantSearchForm(forms.Form):
    q = forms.CharField(label="Name starts with", max_length=URL_SEGMENT_MAX_LENGTH, required=False, strip=True)


class PurgeForm(forms.Form):
    restaurant = forms.CharField(label="Restaurant name", max_length=URL_SEGMENT_MAX_LENGTH, strip=True)


class UserSearchForm(forms.Form):
    username = forms.CharField(max_length=30, strip=True, validators=[username_validator])

    def clean_username(self) -> str:
        return User.normalize_username(self.cleaned_data["username"])


class UserActiveForm(forms.Form):
    """What the account page's one button asks for: deactivate or reactivate."""

    active = forms.TypedChoiceField(
        choices=[("0", "deactivate"), ("1", "reactivate")], coerce=lambda value: value == "1"
    )
