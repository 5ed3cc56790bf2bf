import re
from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from claims.contacts import normalise_phone

SUBSCRIBER_CODE_RE = re.compile(r"^\d{10}$")


class AccountPickForm(forms.Form):
    """The e-su.az way: one of the accounts held under the citizen's FIN."""

    account = forms.ChoiceField(label=_("Abonent kodu"), widget=forms.RadioSelect,
                                error_messages={"required": _("Abonent kodunu seçin.")})

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["account"]).choices = [
            (a.subscriber_code, f"{a.subscriber_code} — {a.address}") for a in accounts
        ]


class AccountCheckForm(forms.Form):
    """The e-gov.az way: any subscriber code, checked with "Yoxla"."""

    subscriber_code = forms.CharField(
        label=_("Abonent kodu"), max_length=20,
        help_text=_("Fakturanın yuxarısında yazılmış 10 rəqəmli kod"),
        error_messages={"required": _("Abonent kodunu daxil edin.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_subscriber_code(self) -> str:
        code = re.sub(r"[\s\-]", "", self.cleaned_data["subscriber_code"])
        if not SUBSCRIBER_CODE_RE.match(code):
            raise forms.ValidationError(_("Abonent kodu 10 rəqəmdən ibarət olmalıdır."), code="format")
        return code


class InvoicePickForm(forms.Form):
    invoice = forms.ChoiceField(label=_("Xətalı faktura"), widget=forms.RadioSelect,
                                error_messages={"required": _("Xətalı fakturanın nömrəsini seçin.")})

    def __init__(self, *args, invoices=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["invoice"]).choices = [(i.number, i.number) for i in invoices]


class ReasonChoiceField(forms.ModelChoiceField):
    """The reasons, labelled in the page's language (set by the form)."""

    language = "az"

    def label_from_instance(self, obj):
        return obj.text(self.language)


class DetailsForm(forms.Form):
    reason = ReasonChoiceField(
        label=_("Müraciətin səbəbi"), queryset=None, empty_label=_("Səbəbi seçin"),
        error_messages={"required": _("Müraciətin səbəbini seçin."),
                        "invalid_choice": _("Müraciətin səbəbini siyahıdan seçin.")},
    )
    reason_text = forms.CharField(
        label=_("Səbəbin təsviri"), required=False, max_length=1000,
        help_text=_("“Digər” seçdikdə səbəbi qısa yazın"), widget=forms.Textarea(attrs={"rows": 3}),
    )
    phone = forms.CharField(
        label=_("Telefon nömrəsi"), max_length=25, help_text=_("Mobil nömrə, məsələn 050 123 45 67"),
        error_messages={"required": _("Telefon nömrəsini daxil edin.")},
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("Elektron poçt ünvanı"), max_length=254,
        error_messages={"required": _("Elektron poçt ünvanını daxil edin."),
                        "invalid": _("Elektron poçt ünvanını düzgün yazın, məsələn: ad@example.az.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    comment = forms.CharField(label=_("Əlavə qeyd"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, meters=(), reasons=None, stored_photos=None, language="az", **kwargs):
        super().__init__(*args, **kwargs)
        reason = cast(ReasonChoiceField, self.fields["reason"])
        reason.queryset = reasons
        reason.language = language
        self.meters = list(meters)
        self.stored_photos = stored_photos or {}
        # Which of the optional fields a choice makes required: labelled without “(könüllü)”.
        self.fields["reason_text"].conditional = True  # type: ignore[attr-defined]  # read by field.html
        for i, meter in enumerate(self.meters):
            serial = {"serial": meter.serial_number}
            # Each message names its meter: with two meters the error summary says which one.
            self.fields[f"reading_{i}"] = forms.IntegerField(
                label=_("Sayğacın bu günə göstəricisi (m³)"), min_value=0, max_value=9_999_999,
                error_messages={
                    "required": _("Sayğac %(serial)s: bu günə göstəricini daxil edin.") % serial,
                    "invalid": _("Sayğac %(serial)s: göstəricini tam ədədlə yazın, məsələn 1490.") % serial,
                    "min_value": _("Sayğac %(serial)s: göstərici mənfi ola bilməz.") % serial,
                    "max_value": _("Sayğac %(serial)s: göstərici çox böyükdür; sayğacdakı rəqəmləri yoxlayın.")
                    % serial,
                },
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            )
            self.fields[f"photo_{i}"] = forms.FileField(
                label=_("Göstəricinin göründüyü sayğacın şəkli"), required=False,
                help_text=_("jpg, jpeg, png və ya pdf; sayğacın nömrəsi və göstəricisi oxunaqlı olmalıdır"),
                widget=forms.ClearableFileInput(
                    attrs={"accept": ".jpg,.jpeg,.png,.pdf,image/jpeg,image/png,application/pdf"}),
            )
        # The page's order, which the error summary follows: reason, each meter, contact.
        self.order_fields(["reason", "reason_text"]
                          + [f"{name}_{i}" for i in range(len(self.meters)) for name in ("reading", "photo")])

    def meter_fields(self):
        return [(m, self[f"reading_{i}"], self[f"photo_{i}"], self.stored_photos.get(m.serial_number))
                for i, m in enumerate(self.meters)]

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data.get("phone", ""))

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (typed Optional in the stubs)
        reason = data.get("reason")
        if reason is not None and reason.requires_text and not (data.get("reason_text") or "").strip():
            self.add_error("reason_text", _("“Digər” səbəbini qısa yazın."))
        return data


class ReviewForm(forms.Form):
    consent = forms.BooleanField(
        label=_("Şəxsi məlumatlarımın (FİN, telefon, e-poçt, sayğacın şəkli) bu müraciətə baxılması məqsədilə "
                "emalına razıyam."),
        error_messages={"required": _("Müraciəti göndərmək üçün şəxsi məlumatların emalına razılıq verin.")},
    )


class AnswerForm(forms.Form):
    """The citizen's answer to an information request: text and/or a new photo."""

    text = forms.CharField(label=_("Cavabınız"), required=False, max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 4}))
    text.conditional = True  # type: ignore[attr-defined]  # required unless a photo is sent
    photo = forms.FileField(label=_("Şəkil (könüllü)"), required=False,
                            help_text=_("jpg, jpeg, png və ya pdf"),
                            widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}))

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what Form.clean returns (typed Optional in the stubs)
        if not (data.get("text") or "").strip() and not data.get("photo") and not self.errors:
            self.add_error("text", _("Cavabı yazın və ya şəkil yükləyin."))
        return data
