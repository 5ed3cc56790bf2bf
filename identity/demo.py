"""Demo staff and citizens: the users ``manage.py seed_demo`` creates (see billing.demo).

Identity sits below billing, so nothing here knows a branch beyond the model instance it is
handed: billing.demo decides which branches are staffed and with how many operators, and which
people become demo citizens (the holders of its scripted accounts).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from identity.models import Role, StaffAssignment

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo staff only, printed on purpose
# The demo staff whose role requires a second factor (commission members, managers, the
# administrator) are enrolled with this authenticator secret (base32, as an app takes it; the
# code of the moment: ``manage.py demo_logins`` or ``demo_totp_token()``). Demo only.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo staff only, printed on purpose

# ---------------------------------------------------------------------------------------------
# Names (billing.demo draws account holders from them too)

MALE_NAMES = (
    "Rəşad", "Elşən", "Orxan", "Tural", "Elvin", "Kamran", "Ramin", "Rövşən", "Fuad", "Vüqar", "Anar",
    "Elnur", "Nicat", "Ceyhun", "Səbuhi", "Murad", "Emil", "Fərid", "Rauf", "Zaur", "Cavid", "Eldar",
    "Namiq", "Vaqif", "İlqar", "Əli", "Hüseyn", "Məhəmməd", "Ramil", "Kənan", "Tofiq", "Rasim", "Yaşar",
    "Mübariz", "Elçin", "Azər", "Sahib", "Natiq", "Ülvi", "Samir",
)
FEMALE_NAMES = (
    "Aygün", "Günel", "Leyla", "Nigar", "Səbinə", "Aysel", "Gülnar", "Sevinc", "Nərmin", "Könül", "Lamiyə",
    "Aynur", "Fidan", "Vüsalə", "Ülviyyə", "Şəbnəm", "Təranə", "Zərifə", "Gülşən", "Səadət", "Aytən",
    "Xədicə", "Fatimə", "Mehriban", "Röya", "Nurlana", "Jalə", "Samirə", "Elmira", "Kəmalə",
)
# Male forms; the female form adds "a" (Əliyev -> Əliyeva).
SURNAMES = (
    "Əliyev", "Məmmədov", "Həsənov", "Hüseynov", "Quliyev", "İsmayılov", "Abdullayev", "Cəfərov", "Rzayev",
    "Orucov", "Kərimov", "Nəsirov", "Bağırov", "Süleymanov", "Qasımov", "Babayev", "Vəliyev", "Musayev",
    "Rəhimov", "Səfərov", "Zeynalov", "Mustafayev", "Paşayev", "Nağıyev", "Əhmədov", "Sadıqov", "Mehdiyev",
    "Hacıyev", "Allahverdiyev", "Qurbanov", "İbrahimov", "Novruzov", "Əsgərov", "Salmanov", "Hümbətov",
    "Şükürov", "Tağıyev", "Xəlilov", "Əzizov", "Rüstəmov",
)
# Surnames that do not change with gender.
INVARIANT_SURNAMES = ("Vəzirzadə", "Sultanlı", "Hacılı", "Əfəndizadə", "Rəsulzadə")


# ---------------------------------------------------------------------------------------------
# Staff


@dataclass(frozen=True)
class StaffedBranch:
    """A branch that gets demo staff: ``slug`` names the logins (``op-<slug>-1``)."""

    slug: str
    branch: Any  # a billing.models.Branch; identity sits below billing and does not import it
    operators: int


@dataclass(frozen=True)
class StaffLogin:
    username: str
    role: str
    branch: Any | None  # a billing.models.Branch, or None for every branch
    first_name: str
    last_name: str
    superuser: bool = False


def staff_logins(branches: Sequence[StaffedBranch], seed: int) -> list[StaffLogin]:
    """Per branch its operators, an inspector and a manager; then the commission and an
    administrator. Names come from their own RNG, so the same seed gives the same staff."""
    # A separate RNG: the staff list does not shift the accounts' data, and vice versa.
    rng = random.Random(f"staff-{seed}")

    def login(username: str, role: str, branch: Any | None, superuser: bool = False) -> StaffLogin:
        male = rng.random() < 0.5
        last = rng.choice(SURNAMES)
        return StaffLogin(username, role, branch, rng.choice(MALE_NAMES if male else FEMALE_NAMES),
                          last if male else last + "a", superuser)

    logins: list[StaffLogin] = []
    for b in branches:
        for i in range(1, b.operators + 1):
            logins.append(login(f"op-{b.slug}-{i}", Role.OPERATOR, b.branch))
        logins.append(login(f"insp-{b.slug}", Role.INSPECTOR, b.branch))
        logins.append(login(f"mgr-{b.slug}", Role.BRANCH_MANAGER, b.branch))
    logins += [
        login("kom-1", Role.COMMISSION_MEMBER, None),
        login("kom-2", Role.COMMISSION_MEMBER, None),
        login("kom-katib", Role.COMMISSION_SECRETARY, None),
        login("admin", Role.ADMINISTRATOR, None, superuser=True),
    ]
    return logins


def ensure_staff(logins: list[StaffLogin]) -> int:
    """Create the staff users and their assignments that are missing; returns how many users
    were created. Existing users keep their passwords."""
    User = get_user_model()
    usernames = [s.username for s in logins]
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    password = make_password(DEMO_PASSWORD)  # hashing is slow on purpose: once for everyone
    User.objects.bulk_create([
        User(username=s.username, first_name=s.first_name, last_name=s.last_name, password=password,
             is_staff=s.superuser, is_superuser=s.superuser)
        for s in logins if s.username not in existing
    ])
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    held = set(StaffAssignment.objects.filter(user__in=users.values()).values_list("user_id", "role", "branch_id"))
    StaffAssignment.objects.bulk_create([
        StaffAssignment(user=users[s.username], role=s.role, branch=s.branch)
        for s in logins
        if (users[s.username].pk, s.role, s.branch.pk if s.branch else None) not in held
    ])
    ensure_demo_second_factor([users[s.username] for s in logins
                               if s.role in settings.STAFF_OTP_REQUIRED_ROLES or s.superuser])
    return len(logins) - len(existing)


def demo_totp_key() -> str:
    """DEMO_TOTP_SECRET as django-otp stores it (hex)."""
    import base64

    return base64.b32decode(DEMO_TOTP_SECRET).hex()


def demo_totp_token(drift: int = 0) -> str:
    """The code an authenticator app enrolled with DEMO_TOTP_SECRET shows now (``drift``: that
    many 30-second steps later)."""
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(demo_totp_key()), drift=drift):06d}"


def ensure_demo_second_factor(users: Iterable[Any]) -> None:
    """Enrol these demo users' authenticator with DEMO_TOTP_SECRET (those without one)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for user in users:
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            TOTPDevice.objects.create(user=user, name="demo", key=demo_totp_key(), confirmed=True)


# ---------------------------------------------------------------------------------------------
# Citizens


class DemoPerson(Protocol):
    fin: str
    first_name: str
    last_name: str
    father_name: str


def ensure_citizens(people: Iterable[DemoPerson]) -> None:
    """A citizen user per person (found by FIN; created without a usable password: citizens
    log in through the identity provider or the development login page)."""
    User = get_user_model()
    for person in people:
        user, created = User.objects.get_or_create(
            fin=person.fin,
            defaults={"username": f"citizen-{person.fin}", "first_name": person.first_name,
                      "last_name": person.last_name, "patronymic": person.father_name},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])

