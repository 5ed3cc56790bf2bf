"""Forms of inspections: the operator's order, and the inspector's result and no-access
forms. They check the input and say what is wrong next to the field; the rules themselves
live in ``services`` (the forms call its checks so the message lands on the right field)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from django import forms
from django.core import signing
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.models import ClaimMeterEvidence
from identity.roles import inspectors_of

from .models import SealState, VisitWindow
from .services import MAX_READING, visit_day_error

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]  # the browser's date picker, or typed by hand
PHOTO_ACCEPT = ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"
PHOTO_TOKEN_SALT = "inspections.result-photo"  # noqa: S105 - a signing salt (a namespace), not a secret
PHOTO_TOKEN_MAX_AGE = 24 * 3600


class RadioSelect(forms.RadioSelect):
    """Radios whose field points at its first choice, so that the error summary's link lands
    on it (Django's RadioSelect gives the group no id to link to)."""

    def id_for_label(self, id_: str, index: str | None = "0") -> str:
        return super(forms.RadioSelect, self).id_for_label(id_, "0" if index is None else index)


def _date_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label, input_formats=DATE_INPUT_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Yoxlama tarixini daxil edin."),
                        "invalid": _("Tarixi düzgün yazın, məsələn 27.11.2026.")},
    )


def _window_field(label: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=VisitWindow.choices, widget=RadioSelect,
        error_messages={"required": _("Yoxlama vaxtını seçin."),
                        "invalid_choice": _("Yoxlama vaxtını siyahıdan seçin.")},
    )


def _clean_visit_day(day: date) -> date:
    error = visit_day_error(day)
    if error:
        raise forms.ValidationError(error, code="visit_day")
    return day


def _min_today(field: forms.Field) -> None:
    field.widget.attrs["min"] = timezone.localdate().isoformat()


class InspectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.display_name


class OrderInspectionForm(forms.Form):
    """The operator sends an inspector of the claim's branch to the address:
    ``OrderInspectionForm(request.POST or None, branch_id=claim.branch_id)``; when valid,
    ``inspection_order(claim=..., actor=..., **form.cleaned_data)``."""

    inspector = InspectorChoiceField(
        label=_("Nəzarətçi"), queryset=None, empty_label=_("Nəzarətçini seçin"),
        error_messages={"required": _("Nəzarətçini seçin."),
                        "invalid_choice": _("Nəzarətçini siyahıdan seçin.")},
    )
    visit_on = _date_field(_("Yoxlama tarixi"))
    window = _window_field(_("Vaxt aralığı"))

    def __init__(self, *args: Any, branch_id: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(InspectorChoiceField, self.fields["inspector"]).queryset = inspectors_of(branch_id)
        _min_today(self.fields["visit_on"])

    def clean_visit_on(self) -> date:
        return _clean_visit_day(self.cleaned_data["visit_on"])


@dataclass(frozen=True)
class KeptPhoto:
    """A photo already uploaded with a submission that failed on another field."""

    path: str
    content_type: str
    name: str


class InspectionResultForm(forms.Form):
    """What the inspector found: a verified reading per meter of the claim, the seal, a note
    and a photo. The photo file itself is stored by the view (``claims.evidence.photo_store``);
    when another field is wrong it is kept, through a signed token, so it need not be sent
    again from the phone."""

    seal_state = forms.ChoiceField(
        label=_("Plombun vəziyyəti"), choices=SealState.choices, widget=RadioSelect,
        error_messages={"required": _("Plombun vəziyyətini seçin."),
                        "invalid_choice": _("Plombun vəziyyətini siyahıdan seçin.")},
    )
    note = forms.CharField(label=_("Qeyd"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"max_length": _("Qeyd 2000 simvoldan uzun olmamalıdır.")})
    photo = forms.FileField(
        label=_("Sayğacın şəkli"), required=False,
        help_text=_("Göstərici və sayğacın nömrəsi oxunaqlı olmalıdır; jpg, png və ya pdf"),
        widget=forms.ClearableFileInput(attrs={"accept": PHOTO_ACCEPT}),
    )

    def __init__(self, *args: Any, meters: Iterable[ClaimMeterEvidence], inspection_id: int, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.meters = list(meters)
        self.inspection_id = inspection_id
        for i, meter in enumerate(self.meters):
            # The serial is in every message: the error summary lists them without their field.
            serial = {"serial": meter.meter_serial}
            self.fields[f"reading_{i}"] = forms.IntegerField(
                label=_("Sayğac %(serial)s: yoxlanılmış göstərici (m³)") % serial, min_value=0,
                max_value=MAX_READING,
                error_messages={
                    "required": _("Sayğac %(serial)s üçün yoxlanılmış göstəricini daxil edin.") % serial,
                    "invalid": _("Sayğac %(serial)s: göstəricini tam ədədlə yazın, məsələn 1490.") % serial,
                    "min_value": _("Sayğac %(serial)s: göstərici mənfi ola bilməz.") % serial,
                    "max_value": _("Sayğac %(serial)s: göstərici çox böyükdür; sayğacdakı rəqəmləri yoxlayın.")
                    % serial,
                },
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            )
        # Fields in page order: readings first, as the inspector reads the meter.
        self.order_fields([f"reading_{i}" for i in range(len(self.meters))])
        self.kept_photo = self._photo_from_token(self.data.get(self.add_prefix("photo_token"), ""))

    def meter_fields(self) -> list[tuple[ClaimMeterEvidence, forms.BoundField]]:
        return [(m, self[f"reading_{i}"]) for i, m in enumerate(self.meters)]

    def readings(self) -> dict[str, int]:
        return {m.meter_serial: self.cleaned_data[f"reading_{i}"] for i, m in enumerate(self.meters)
                if self.cleaned_data.get(f"reading_{i}") is not None}

    # --- the kept photo ------------------------------------------------------------------

    def keep_photo(self, photo: KeptPhoto | None) -> None:
        self.kept_photo = photo

    @property
    def photo_token(self) -> str:
        if self.kept_photo is None:
            return ""
        return signing.dumps({"i": self.inspection_id, "p": self.kept_photo.path, "t": self.kept_photo.content_type,
                              "n": self.kept_photo.name}, salt=PHOTO_TOKEN_SALT, compress=True)

    def _photo_from_token(self, token: str) -> KeptPhoto | None:
        if not token:
            return None
        try:
            data = signing.loads(token, salt=PHOTO_TOKEN_SALT, max_age=PHOTO_TOKEN_MAX_AGE)
        except signing.BadSignature:
            return None
        if data.get("i") != self.inspection_id:
            return None  # a token of another visit
        return KeptPhoto(path=data["p"], content_type=data["t"], name=data["n"])


class NoAccessForm(forms.Form):
    """Nobody opened the door: the new date and window, and what happened."""

    new_visit_on = _date_field(_("Yeni yoxlama tarixi"))
    new_window = _window_field(_("Yeni vaxt aralığı"))
    note = forms.CharField(label=_("Qeyd"), required=False, max_length=2000,
                           help_text=_("Məsələn: qapını açan olmadı, qonşuya bildiriş qoyuldu"),
                           widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"max_length": _("Qeyd 2000 simvoldan uzun olmamalıdır.")})

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _min_today(self.fields["new_visit_on"])

    def clean_new_visit_on(self) -> date:
        return _clean_visit_day(self.cleaned_data["new_visit_on"])
