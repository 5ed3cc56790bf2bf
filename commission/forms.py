from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _


class MemberCheckboxes(forms.CheckboxSelectMultiple):
    def id_for_label(self, id_, index=None):
        # The error summary links to the field's label target: make it the first checkbox
        # (Django's default is none at all for a group of checkboxes).
        return super().id_for_label(id_, "0" if index is None else index)


class MemberChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class MeetingOpenForm(forms.Form):
    held_on = forms.DateField(
        label=_("İclasın tarixi"),
        # The same day.month.year in every interface language (and ISO from scripts).
        input_formats=["%d.%m.%Y", "%Y-%m-%d"],
        widget=forms.DateInput(attrs={"autocomplete": "off", "inputmode": "numeric"}, format="%d.%m.%Y"),
        help_text=_("gün.ay.il, məsələn: 15.03.2026"),
        error_messages={"required": _("İclasın tarixini daxil edin."),
                        "invalid": _("Tarixi gün.ay.il şəklində yazın, məsələn: 15.03.2026.")},
    )
    protocol_number = forms.CharField(
        label=_("Protokolun nömrəsi"), max_length=40,
        error_messages={"required": _("Protokolun nömrəsini yazın."),
                        "max_length": _("Protokolun nömrəsi 40 simvoldan uzun ola bilməz.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    members = MemberChoiceField(
        label=_("İclasda iştirak edən üzvlər"), queryset=None, widget=MemberCheckboxes,
        help_text=_("Qərarları yalnız iclasda iştirak edən üzvlər qəbul edə bilər."),
        error_messages={"required": _("İclasda iştirak edən üzvləri seçin."),
                        "invalid_choice": _("Seçilmiş şəxs komissiyanın üzvü deyil.")},
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        cast(MemberChoiceField, self.fields["members"]).queryset = members


class AgendaAddForm(forms.Form):
    """Put one claim on an open meeting's agenda; the meetings are given as (pk, label) so a
    page with many claims renders their forms without a query each."""

    meeting = forms.TypedChoiceField(
        label=_("İclas"), coerce=int, error_messages={"required": _("İclası seçin."),
                                                      "invalid_choice": _("Seçilmiş iclas artıq açıq deyil.")},
    )

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["meeting"]).choices = meetings


class ApproveForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Düzəlişin məbləği, AZN"), max_digits=12, decimal_places=2,
        help_text=_("Mənfi məbləğ borcu azaldır, müsbət məbləğ artırır."),
        error_messages={"required": _("Düzəlişin məbləğini yazın."),
                        "invalid": _("Məbləği rəqəmlə yazın, məsələn: -12.40."),
                        "max_decimal_places": _("Məbləğdə vergüldən sonra ən çoxu 2 rəqəm ola bilər."),
                        "max_digits": _("Məbləğ çox böyükdür."),
                        "max_whole_digits": _("Məbləğ çox böyükdür.")},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        label=_("Qeyd"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Məbləğ təklif ediləndən fərqlidirsə, səbəbini yazın."),
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label=_("İmtinanın səbəbi"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Səbəb vətəndaşa göndəriləcək məktubda və mesajlarda yazılacaq."),
        error_messages={"required": _("İmtinanın səbəbini yazın: onu vətəndaş oxuyacaq.")},
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("Operatora qaytarılma səbəbi"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
        error_messages={"required": _("Müraciətin operatora qaytarılma səbəbini yazın.")},
    )
