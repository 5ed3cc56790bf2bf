from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginMethod(models.TextChoices):
    """The five login methods of the user manual (national single sign-on)."""

    ID_NUMBER = "id_number", _("İdentifikasiya nömrəsi ilə")
    SIMA_SIGNATURE = "sima_signature", _("SİMA imza ilə")
    ASAN_SIGNATURE = "asan_signature", _("Asan imza ilə")
    SIMA_TOKEN = "sima_token", _("SİMA Token(Elektron imza) ilə")
    BSXM_SIGNATURE = "bsxm_signature", _("BSXM Elektron İmza ilə")


class Role(models.TextChoices):
    OPERATOR = "operator", _("Operator")
    INSPECTOR = "inspector", _("Nəzarətçi")
    COMMISSION_MEMBER = "commission_member", _("Komissiya üzvü")
    COMMISSION_SECRETARY = "commission_secretary", _("Komissiya katibi")
    BRANCH_MANAGER = "branch_manager", _("Filial rəhbəri")
    ADMINISTRATOR = "administrator", _("Administrator")


class User(AbstractUser):
    """A person who uses the product: a citizen (identified by FIN) or a staff member.

    Citizens arrive through an identity provider and have no usable password; staff log in
    with a username and password.
    """

    fin = models.CharField(_("FİN"), max_length=7, unique=True, null=True, blank=True)
    patronymic = models.CharField(_("ata adı"), max_length=100, blank=True)

    @property
    def is_citizen(self) -> bool:
        return self.fin is not None

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.username


class StaffAssignment(models.Model):
    """A role held by a staff member, in one branch (or everywhere when branch is empty)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    branch = models.ForeignKey(
        "billing.Branch", on_delete=models.CASCADE, null=True, blank=True, related_name="staff"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "branch"], name="staff_assignment_unique"),
        ]
        indexes = [models.Index(fields=["branch", "role"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()} · {self.branch or '*'}"
