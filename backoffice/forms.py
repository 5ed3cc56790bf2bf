from typing import cast

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from claims.models import CompetentBody, ReasonTemplate
from claims.transitions import ClaimStatus


class QueueFilterForm(forms.Form):
    scope = forms.ChoiceField(label=_("Müraciətlər"), required=False, choices=[
        ("", _("Mənim və təyin edilməmiş")), ("mine", _("Yalnız mənim")), ("unassigned", _("Təyin edilməmiş"))])
    status = forms.ChoiceField(label=_("Status"), required=False)
    reason = forms.ChoiceField(label=_("Səbəb"), required=False)
    due = forms.ChoiceField(label=_("Müddət"), required=False, choices=[
        ("", _("Hamısı")), ("overdue", _("Gecikmiş")), ("near", _("Müddəti yaxınlaşan"))])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["status"]).choices = [("", _("Açıq olanlar"))] + list(ClaimStatus.choices)
        cast(forms.ChoiceField, self.fields["reason"]).choices = [("", _("Hamısı"))] + [
            (r.code, r.text((get_language() or "az")[:2])) for r in ReasonTemplate.objects.order_by("ordering")]


class TextForm(forms.Form):
    """One required text: a question, an explanation, a reason."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000,
                           error_messages={"required": _("Mətni yazın.")})

    def __init__(self, *args, label="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label


class OperatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class InfoRequestForm(TextForm):
    """The question, and the date the citizen is asked to answer by (art. 10.2)."""

    reply_by = forms.DateField(label=_("Cavab tarixi (boş qalsa: 10 iş günü)"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"invalid": _("Tarixi düzgün daxil edin.")})


class ForwardOutForm(forms.Form):
    """Art. 7.10: the competent body an appeal outside the utility's competence goes to."""

    body = forms.ModelChoiceField(label=_("Səlahiyyətli qurum"), queryset=CompetentBody.objects.filter(active=True),
                                  error_messages={"required": _("Səlahiyyətli qurumu siyahıdan seçin.")})
    note = forms.CharField(label=_("Niyə müəssisənin səlahiyyətinə aid deyil (vətəndaşa və quruma yazılır)"),
                           widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                           error_messages={"required": _("Müraciətin niyə aidiyyəti üzrə göndərildiyini yazın.")})


class UnconsideredForm(forms.Form):
    """Art. 8.1.4: a repeat appeal left unconsidered, with the reasoned answer."""

    reason = forms.CharField(
        label=_("Vətəndaşa əsaslandırılmış cavab"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
        error_messages={"required": _("Vətəndaşa göndəriləcək əsaslandırılmış cavabı yazın.")})
    nothing_new = forms.BooleanField(
        label=_("Müraciətdə yeni hal göstərilməyib"),
        error_messages={"required": _("Müraciətdə yeni hal göstərilmədiyini təsdiq edin.")})


class ReassignForm(forms.Form):
    operator = OperatorChoiceField(label=_("Operator"), queryset=None,
                                   error_messages={"required": _("Operatoru seçin.")})

    def __init__(self, *args, operators=None, **kwargs):
        super().__init__(*args, **kwargs)
        cast(OperatorChoiceField, self.fields["operator"]).queryset = operators


class CorrectionForm(forms.Form):
    note = forms.CharField(label=_("Komissiya üçün qeyd"), widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=4000, error_messages={"required": _("Komissiya üçün qeydi yazın.")})

    def __init__(self, *args, lines=(), initial_readings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.serials = []
        for i, line in enumerate(lines):
            name = f"reading_{i}"
            self.serials.append((name, line["meter_serial"]))
            self.fields[name] = forms.IntegerField(
                label=_("Sayğac %(serial)s: düzgün cari göstərici (m³)") % {"serial": line["meter_serial"]},
                min_value=0, initial=(initial_readings or {}).get(line["meter_serial"]),
                help_text=_("Əvvəlki göstərici %(prev)s, fakturada %(cur)s")
                % {"prev": line["previous_reading"], "cur": line["current_reading"]},
                error_messages={"required": _("Göstəricini daxil edin."), "invalid": _("Tam ədəd daxil edin."),
                                "min_value": _("Göstərici mənfi ola bilməz.")},
            )

    def readings(self) -> dict[str, int]:
        return {serial: self.cleaned_data[name] for name, serial in self.serials}


class OtpTokenForm(forms.Form):
    """The 6-digit code of the staff member's authenticator app."""

    otp_token = forms.CharField(
        label=_("Autentifikator tətbiqindəki kod"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}),
        error_messages={"required": _("Kodu daxil edin."), "min_length": _("Kod 6 rəqəmdən ibarətdir."),
                        "max_length": _("Kod 6 rəqəmdən ibarətdir.")})

    def clean_otp_token(self) -> str:
        value = self.cleaned_data["otp_token"].strip()
        if not value.isdigit():
            raise forms.ValidationError(_("Kod 6 rəqəmdən ibarətdir."))
        return value
