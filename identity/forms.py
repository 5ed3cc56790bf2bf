import re
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import LoginMethod

FIN_RE = re.compile(r"^[0-9A-HJ-NP-Z]{7}$")


def normalise_fin(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


class DevLoginForm(forms.Form):
    method = forms.ChoiceField(label=_("Giriş üsulu"), choices=LoginMethod.choices, widget=forms.RadioSelect,
                               initial=LoginMethod.ID_NUMBER)
    demo_fin = forms.ChoiceField(label=_("Demo vətəndaş"), required=False)
    fin = forms.CharField(label=_("və ya FİN"), required=False, max_length=12,
                          help_text=_("Şəxsiyyət vəsiqəsindəki 7 simvollu fərdi identifikasiya nömrəsi"))
    first_name = forms.CharField(label=_("Ad"), required=False, max_length=100)
    last_name = forms.CharField(label=_("Soyad"), required=False, max_length=100)

    def __init__(self, *args, demo_citizens=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["demo_fin"]).choices = [("", "—")] + [
            (u.fin, f"{u.fin} · {u.last_name} {u.first_name}") for u in demo_citizens
        ]

    def clean_fin(self) -> str:
        fin = normalise_fin(self.cleaned_data.get("fin", ""))
        if fin and not FIN_RE.match(fin):
            raise forms.ValidationError(
                _("FİN 7 simvoldan ibarətdir: rəqəmlər və latın hərfləri (I və O hərfləri istifadə olunmur).")
            )
        return fin

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean() returns cleaned_data
        if not data.get("fin") and not data.get("demo_fin") and "fin" not in self.errors:
            self.add_error("fin", _("Demo vətəndaşı seçin və ya FİN daxil edin."))
        return data
