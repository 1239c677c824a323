import unicodedata

from django import forms

NAME_HELP = "Up to 100 characters. Cannot be changed later: it is part of every review's key."


def _no_control_characters(value: str) -> None:
    if any(unicodedata.category(char).startswith("C") for char in value):
        raise forms.ValidationError("Use printable characters only.")


class RestaurantForm(forms.Form):
    name = forms.CharField(max_length=100, strip=True, help_text=NAME_HELP, validators=[_no_control_characters])
    cuisine = forms.CharField(max_length=50, strip=True, validators=[_no_control_characters])
    address = forms.CharField(max_length=200, strip=True, validators=[_no_control_characters])

    def __init__(self, *args, renaming_allowed: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not renaming_allowed:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = (
                "Renaming is not possible: the name is the restaurant's key and is copied into the key of "
                "every review of it (SK and GSI1PK), so a rename would mean rewriting all of them. "
                "Create a new restaurant instead."
            )


class RestaurantSearchForm(forms.Form):
    q = forms.CharField(label="Name starts with", max_length=100, required=False, strip=True)


class PurgeForm(forms.Form):
    restaurant = forms.CharField(label="Restaurant name", max_length=100, strip=True)
