"""Realistic demo data: branches, subscriber accounts, meters, two years of readings, invoices
and payments, and (through identity.demo) demo citizens and demo staff.

``manage.py seed_demo`` is the command line over ``load()``:

    manage.py seed_demo --accounts 2000 [--seed 1] [--if-empty] [--today 2026-11-27]

Everything random comes from one ``random.Random(seed)``, so a seed and a "today" give the
same data every time (``--today`` defaults to the local date).

Identifiers
-----------
- Subscriber code: 10 digits ``BB SSSSSSS C``: ``BB`` is the branch number (see BRANCHES,
  e.g. 18 = Yasamal), ``SSSSSSS`` the account's running number inside the branch starting at
  1000001, ``C`` a Luhn check digit over the first nine, so a mistyped digit is caught.
  Example: ``1810000017``.
- FIN: 7 characters from digits and uppercase letters without I and O.
- Meter serial: ``SM`` + 8 digits; seal (plomb) number: ``PL-`` + 7 digits.
- Invoice number: ``F`` + yymm of the billed month + the account's 7-digit load sequence,
  e.g. ``F26100000123``.

What the data contains
----------------------
Per account 25 monthly readings per meter (a controller reads once a month on a day between
the 10th and the 20th; the first reading opens the history) and 24 invoices, one line per
meter, priced with billing.pricing at the tariffs in the database. About 5 % of invoices are
estimated (no reading: average of the previous months), about 4 % carry a misreading (the
billed reading is 30-300 m³ above the register; the register then continues from its true
value, so the following months bill little or nothing until it catches up). About 5 % of
accounts are organisations (non-household), about 10 % of citizens hold two accounts, about 8 %
of accounts have two meters, and about a quarter of the accounts leave their last invoices
unpaid.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field, Model

from billing.branch_names import NAMES
from billing.models import (
    Account,
    Branch,
    Category,
    HolderKind,
    Invoice,
    InvoiceLine,
    Meter,
    Payment,
    Reading,
    Tariff,
    TariffZone,
)
from billing.pricing import TariffRate, money, price_consumption
from identity.demo import (
    FEMALE_NAMES,
    INVARIANT_SURNAMES,
    MALE_NAMES,
    SURNAMES,
    StaffedBranch,
    StaffLogin,
    ensure_citizens,
    ensure_staff,
    staff_logins,
)

BILLED_MONTHS = 24
CHUNK_ACCOUNTS = 1000
BATCH_SIZE = 2000
PRICE_MEMO_SIZE = 200_000

SHARE_ORGANISATION = 0.05
SHARE_SECOND_ACCOUNT = 0.09  # of household accounts: gives ~10 % of citizens with two accounts
SHARE_TWO_METERS = 0.08
SHARE_ESTIMATED = 0.05
SHARE_MISREAD = 0.04
SHARE_DEBTORS = 0.25

FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O



class DemoDataError(Exception):
    """The database is not ready for demo data (no tariffs, already loaded, ...)."""


# ---------------------------------------------------------------------------------------------
# Places


@dataclass(frozen=True)
class BranchDef:
    code: str
    number: int  # the first two digits of the subscriber codes of this branch
    name: str
    region: str
    zone: str
    weight: int  # roughly the population served, in thousands
    area: str  # how addresses of the branch begin
    streets: tuple[str, ...] = ()
    settlements: tuple[str, ...] = ()
    apartment_share: float = 0.8

    @property
    def slug(self) -> str:
        return self.code.rsplit("-", 1)[-1].lower()


BAKU, OTHER = TariffZone.BAKU_AREA.value, TariffZone.OTHER.value

BRANCHES: tuple[BranchDef, ...] = (
    BranchDef("BAK-BIN", 11, "Binəqədi rayon idarəsi", "Bakı", BAKU, 260, "Binəqədi r.",
              ("Əzim Əzimzadə küç.", "Mirmahmud Kazımovski küç.", "Cəlil Məmmədquluzadə küç.",
               "Binəqədi şossesi", "7-ci mkr.", "8-ci mkr.", "9-cu mkr.")),
    BranchDef("BAK-NAR", 12, "Nərimanov rayon idarəsi", "Bakı", BAKU, 170, "Nərimanov r.",
              ("Təbriz küç.", "Atatürk pr.", "Əliyar Əliyev küç.", "Fətəli Xan Xoyski küç.",
               "Ziya Bünyadov pr.", "Aşıq Molla Cümə küç.")),
    BranchDef("BAK-NES", 13, "Nəsimi rayon idarəsi", "Bakı", BAKU, 220, "Nəsimi r.",
              ("Rəşid Behbudov küç.", "Səməd Vurğun küç.", "Füzuli küç.", "Bakıxanov küç.",
               "Azadlıq pr.", "Süleyman Rəhimov küç.", "Cəfər Cabbarlı küç.")),
    BranchDef("BAK-NIZ", 14, "Nizami rayon idarəsi", "Bakı", BAKU, 200, "Nizami r.",
              ("Qara Qarayev pr.", "Mehdi Abbasov küç.", "Elşən Süleymanov küç.", "Kəmalə Ağayeva küç.",
               "Bəhruz Nuriyev küç.")),
    BranchDef("BAK-SAB", 15, "Sabunçu rayon idarəsi", "Bakı", BAKU, 240, "Sabunçu r.",
              settlements=("Bakıxanov", "Sabunçu", "Maştağa", "Zabrat", "Ramana", "Balaxanı", "Kürdəxanı"),
              apartment_share=0.35),
    BranchDef("BAK-SUR", 16, "Suraxanı rayon idarəsi", "Bakı", BAKU, 210, "Suraxanı r.",
              settlements=("Hövsan", "Qaraçuxur", "Əmircan", "Yeni Suraxanı", "Dədə Qorqud", "Bülbülə", "Zığ"),
              apartment_share=0.35),
    BranchDef("BAK-XET", 17, "Xətai rayon idarəsi", "Bakı", BAKU, 280, "Xətai r.",
              ("Babək pr.", "Nobel pr.", "Xocalı pr.", "Ağa Nemətulla küç.", "Yusif Səfərov küç.",
               "Mehdi Mehdizadə küç.")),
    BranchDef("BAK-YAS", 18, "Yasamal rayon idarəsi", "Bakı", BAKU, 250, "Yasamal r.",
              ("Şərifzadə küç.", "Hüseyn Cavid pr.", "İnşaatçılar pr.", "Mətbuat pr.",
               "Həsən bəy Zərdabi küç.", "Abdulla Şaiq küç.")),
    BranchDef("BAK-SEB", 19, "Səbail rayon idarəsi", "Bakı", BAKU, 100, "Səbail r.",
              ("Neftçilər pr.", "İstiqlaliyyət küç.", "Üzeyir Hacıbəyov küç.", "Nizami küç.",
               "Badamdar şossesi")),
    BranchDef("BAK-QAR", 20, "Qaradağ rayon idarəsi", "Bakı", BAKU, 130, "Qaradağ r.",
              settlements=("Lökbatan", "Sahil", "Səngəçal", "Ələt", "Müşfiqabad", "Puta"),
              apartment_share=0.3),
    BranchDef("BAK-XEZ", 21, "Xəzər rayon idarəsi", "Bakı", BAKU, 170, "Xəzər r.",
              settlements=("Mərdəkan", "Şüvəlan", "Buzovna", "Türkan", "Zirə", "Qala", "Binə", "Şağan"),
              apartment_share=0.2),
    BranchDef("BAK-PIR", 22, "Pirallahı rayon idarəsi", "Bakı", BAKU, 20, "Pirallahı r.",
              settlements=("Pirallahı", "Gürgən"), apartment_share=0.2),
    BranchDef("SUM", 30, "Sumqayıt filialı", "Sumqayıt", BAKU, 350, "Sumqayıt ş.",
              ("Sülh küç.", "Nizami küç.", "Heydər Əliyev pr.", "Səməd Vurğun küç.", "3-cü mkr.", "5-ci mkr.",
               "9-cu mkr.", "11-ci mkr.", "13-cü mkr.", "17-ci mkr.")),
    BranchDef("ABS", 31, "Abşeron filialı", "Abşeron", BAKU, 220, "Abşeron r.",
              ("Xırdalan ş., Heydər Əliyev pr.", "Xırdalan ş., Nizami küç."),
              settlements=("Masazır", "Novxanı", "Mehdiabad", "Saray", "Məmmədli", "Görədil", "Digah"),
              apartment_share=0.4),
    BranchDef("GNC", 40, "Gəncə filialı", "Gəncə", OTHER, 330, "Gəncə ş.",
              ("Atatürk pr.", "Cavad xan küç.", "Nizami Gəncəvi küç.", "Şah İsmayıl Xətai pr.",
               "Heydər Əliyev pr.")),
    BranchDef("SKI", 41, "Şəki filialı", "Şəki", OTHER, 70, "Şəki ş.",
              ("M.F. Axundov pr.", "Rəşid Behbudov küç.", "Şəkixanovlar küç.", "Nizami küç."),
              apartment_share=0.4),
    BranchDef("LNK", 42, "Lənkəran filialı", "Lənkəran", OTHER, 90, "Lənkəran ş.",
              ("Həzi Aslanov küç.", "Heydər Əliyev pr.", "Nizami küç.", "Mikayıl Müşfiq küç."),
              apartment_share=0.4),
    BranchDef("QBA", 43, "Quba filialı", "Quba", OTHER, 40, "Quba ş.",
              ("Heydər Əliyev pr.", "Ərdəbil küç.", "Səttarxan küç.", "Nizami küç."), apartment_share=0.35),
    BranchDef("SRV", 44, "Şirvan filialı", "Şirvan", OTHER, 80, "Şirvan ş.",
              ("Heydər Əliyev pr.", "Nizami küç.", "Səməd Vurğun küç.", "Füzuli küç."), apartment_share=0.5),
)

SETTLEMENT_STREETS = (
    "Nizami küç.", "Füzuli küç.", "Səməd Vurğun küç.", "Neftçilər küç.", "Azadlıq küç.", "Məktəb küç.",
    "Bağ küç.", "Sahil küç.", "Şəhidlər küç.", "Zərdabi küç.",
)

# ---------------------------------------------------------------------------------------------
# People and organisations
# Person names are identity.demo's (staff are drawn from them too).

ORG_WORDS = (
    "Xəzər", "Nur", "Araz", "Günəş", "Bulaq", "Kür", "Şahdağ", "Qafqaz", "Gilan", "Ulduz", "Zəfər",
    "Savalan", "Bərəkət", "Sahil", "Qala", "Göygöl", "Dalğa", "İnci",
)
ORG_TRADES = (
    "Market", "Servis", "Tikinti", "Qida", "Avto", "Aptek", "Restoran", "Ticarət", "İnşaat", "Otel", "Çörək",
    "Tekstil", "Logistika", "Mebel",
)
ORG_FORMS = ("MMC", "MMC", "MMC", "MMC", "ASC", "QSC")

PAYMENT_CHANNELS = ("EMANAT", "MILLION", "KAPITAL", "AZERPOCT", "PORTMANAT", "KASSA")


@dataclass(slots=True)
class Person:
    fin: str
    first_name: str
    last_name: str
    father_name: str
    male: bool
    accounts: list[AccountPlan] = field(default_factory=list)

    @property
    def patronymic(self) -> str:
        return f"{self.father_name} {'oğlu' if self.male else 'qızı'}"

    @property
    def full_name(self) -> str:
        return f"{self.last_name} {self.first_name} {self.patronymic}"


# ---------------------------------------------------------------------------------------------
# Plans: the generated data before it has database ids


@dataclass(slots=True)
class MeterPlan:
    serial_number: str
    seal_number: str
    installed_on: date
    readings: list[tuple[date, int, str]] = field(default_factory=list)  # (taken_on, value, source)


@dataclass(slots=True)
class LinePlan:
    meter_index: int
    previous_reading: int
    current_reading: int
    estimated: bool

    @property
    def consumption(self) -> int:
        return self.current_reading - self.previous_reading


@dataclass(slots=True)
class InvoicePlan:
    number: str
    period: date
    period_start: date
    period_end: date
    issued_on: date
    due_on: date
    consumption: int
    water_amount: Decimal
    sewerage_amount: Decimal
    total: Decimal
    lines: list[LinePlan]
    misread: bool


@dataclass(slots=True)
class AccountPlan:
    seq: int
    subscriber_code: str
    holder_kind: str
    holder_fin: str
    holder_name: str
    address: str
    branch: Branch
    category: str
    zone: str
    opened_on: date
    meters: list[MeterPlan] = field(default_factory=list)
    invoices: list[InvoicePlan] = field(default_factory=list)
    payments: list[tuple[date, Decimal, str]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoSlot:
    """A scripted account at the start of the load, so that the demo citizens printed at the
    end have what a demo needs: two accounts, two meters, a recent misread invoice."""

    citizen: int
    meters: int
    recent_misread: bool


DEMO_SLOTS: tuple[DemoSlot, ...] = (
    DemoSlot(0, 1, True), DemoSlot(0, 1, False),  # two accounts
    DemoSlot(1, 2, True),  # two meters
    DemoSlot(2, 1, False), DemoSlot(2, 2, True),  # two accounts, the second with two meters
    DemoSlot(3, 1, True),
    DemoSlot(4, 1, True),
    DemoSlot(5, 1, False),
    DemoSlot(6, 1, True),
    DemoSlot(7, 2, False),
    DemoSlot(8, 1, False),
    DemoSlot(9, 1, True),
)


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # doubled positions, counted from the check digit's left neighbour
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def billed_months(today: date) -> list[date]:
    """First days of the baseline month and the BILLED_MONTHS months after it. The last one is
    this month once its readings (by the 20th) and invoices (by the 22nd) are all in the past."""
    last = today.replace(day=1) if today.day >= 23 else add_months(today.replace(day=1), -1)
    return [add_months(last, -BILLED_MONTHS + i) for i in range(BILLED_MONTHS + 1)]


def seasonal_factor(month: int) -> float:
    """More water in summer: +20 % in July, -15 % in January."""
    return {1: 0.85, 2: 0.87, 3: 0.92, 4: 0.97, 5: 1.05, 6: 1.15, 7: 1.2, 8: 1.18, 9: 1.08, 10: 0.98,
            11: 0.92, 12: 0.88}[month]


# ---------------------------------------------------------------------------------------------
# The generator


class DemoGenerator:
    """Plans accounts one after another from a single seeded RNG."""

    def __init__(self, *, seed: int, today: date, branches: dict[str, Branch],
                 rates: dict[tuple[str, str], list[TariffRate]]):
        self.rng = random.Random(seed)
        self.today = today
        self.months = billed_months(today)
        self.branch_defs = BRANCHES
        self.branch_weights = [b.weight for b in BRANCHES]
        self.branches = branches
        self.rates = rates
        self.fins: set[str] = set()
        self.serials: set[str] = set()
        self.branch_seq = {b.code: 1_000_000 for b in BRANCHES}
        self.account_seq = 0
        self.single_holders: deque[Person] = deque(maxlen=500)
        self.demo_citizens: list[Person] = []
        self.priced: dict[tuple, tuple[Decimal, Decimal, Decimal]] = {}

    # -- people ------------------------------------------------------------------------------

    def new_fin(self) -> str:
        while True:
            fin = "".join(self.rng.choices(FIN_ALPHABET, k=7))
            if fin not in self.fins:
                self.fins.add(fin)
                return fin

    def new_person(self) -> Person:
        rng = self.rng
        male = rng.random() < 0.55  # account holders are somewhat more often men
        first = rng.choice(MALE_NAMES if male else FEMALE_NAMES)
        if rng.random() < 0.05:
            last = rng.choice(INVARIANT_SURNAMES)
        else:
            last = rng.choice(SURNAMES)
            last = last if male else last + "a"
        return Person(fin=self.new_fin(), first_name=first, last_name=last,
                      father_name=rng.choice(MALE_NAMES), male=male)

    def organisation_name(self) -> str:
        rng = self.rng
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_TRADES)}"
        if rng.random() < 0.2:
            name += f"-{rng.randint(1995, 2022)}"
        return f"“{name}” {rng.choice(ORG_FORMS)}"

    # -- places and identifiers --------------------------------------------------------------

    def pick_branch(self) -> BranchDef:
        return self.rng.choices(self.branch_defs, weights=self.branch_weights)[0]

    def address(self, b: BranchDef, *, organisation: bool) -> str:
        rng = self.rng
        if b.settlements and (not b.streets or rng.random() < 0.75):
            place = f"{rng.choice(b.settlements)} qəs., {rng.choice(SETTLEMENT_STREETS)}"
        else:
            place = rng.choice(b.streets)
        house = rng.randint(1, 160)
        if not organisation and rng.random() < b.apartment_share:
            return f"{b.area}, {place}, ev {house}, mənzil {rng.randint(1, 120)}"
        return f"{b.area}, {place}, ev {house}"

    def subscriber_code(self, b: BranchDef) -> str:
        self.branch_seq[b.code] += 1
        body = f"{b.number:02d}{self.branch_seq[b.code]:07d}"
        return body + luhn_digit(body)

    def new_meter(self, opened_on: date) -> MeterPlan:
        rng = self.rng
        while True:
            serial = f"SM{rng.randint(10_000_000, 99_999_999)}"
            if serial not in self.serials:
                self.serials.add(serial)
                break
        first_reading = self.months[0].replace(day=10)
        earliest = max(opened_on, date(2012, 1, 1))
        span = max((first_reading - earliest).days - 30, 1)
        return MeterPlan(serial_number=serial, seal_number=f"PL-{rng.randint(0, 9_999_999):07d}",
                         installed_on=earliest + timedelta(days=rng.randrange(span)))

    # -- accounts ----------------------------------------------------------------------------

    def holder_for(self, index: int) -> tuple[Person | None, int, bool]:
        """Who holds account number ``index`` (0-based), how many meters it has and whether a
        misreading is forced into its last twelve months."""
        rng = self.rng
        if index < len(DEMO_SLOTS):
            slot = DEMO_SLOTS[index]
            if slot.citizen == len(self.demo_citizens):
                self.demo_citizens.append(self.new_person())
            return self.demo_citizens[slot.citizen], slot.meters, slot.recent_misread
        meters = 2 if rng.random() < SHARE_TWO_METERS else 1
        if rng.random() < SHARE_ORGANISATION:
            return None, meters, False
        if self.single_holders and rng.random() < SHARE_SECOND_ACCOUNT:
            return self.single_holders.popleft(), meters, False
        person = self.new_person()
        self.single_holders.append(person)
        return person, meters, False

    def plan_account(self, index: int) -> AccountPlan:
        rng = self.rng
        person, meter_count, recent_misread = self.holder_for(index)
        b = self.pick_branch()
        self.account_seq += 1
        first_reading = self.months[0].replace(day=10)
        opened_on = date(2000, 1, 1) + timedelta(days=rng.randrange((first_reading - date(2000, 1, 1)).days - 60))
        organisation = person is None
        plan = AccountPlan(
            seq=self.account_seq,
            subscriber_code=self.subscriber_code(b),
            holder_kind=HolderKind.ORGANISATION if organisation else HolderKind.PERSON,
            holder_fin="" if person is None else person.fin,
            holder_name=self.organisation_name() if person is None else person.full_name,
            address=self.address(b, organisation=organisation),
            branch=self.branches[b.code],
            category=Category.NON_HOUSEHOLD if organisation else Category.HOUSEHOLD,
            zone=self.branches[b.code].zone,
            opened_on=opened_on,
        )
        if person is not None:
            person.accounts.append(plan)
        plan.meters = [self.new_meter(opened_on) for _ in range(meter_count)]
        self.simulate_readings(plan, recent_misread=recent_misread)
        self.simulate_payments(plan)
        return plan

    def monthly_use(self, plan: AccountPlan) -> float:
        """The account's typical m³ a month."""
        rng = self.rng
        if plan.category == Category.NON_HOUSEHOLD:
            return min(rng.lognormvariate(4.0, 0.8), 600.0)  # median ~55 m³
        persons = rng.choices((1, 2, 3, 4, 5, 6), weights=(10, 20, 25, 25, 15, 5))[0]
        return max(3.0, persons * rng.uniform(2.0, 4.0))

    def simulate_readings(self, plan: AccountPlan, *, recent_misread: bool) -> None:
        """Walk the meters' true registers month by month and bill what the controller read."""
        rng = self.rng
        months = self.months
        use = self.monthly_use(plan)
        shares = [1.0]
        if len(plan.meters) == 2:  # e.g. kitchen and bathroom risers
            first_share = rng.uniform(0.35, 0.65)
            shares = [first_share, 1.0 - first_share]
        large = plan.category == Category.NON_HOUSEHOLD
        true = [rng.uniform(0, 20_000 if large else 3_000) for _ in plan.meters]
        billed = [int(t) for t in true]
        history: list[list[int]] = [[] for _ in plan.meters]
        route_day = rng.randint(10, 20)
        forced_month = rng.randint(len(months) - 12, len(months) - 2) if recent_misread else -1
        rates = self.rates[(plan.category, plan.zone)]

        previous_day = months[0].replace(day=route_day)
        for m, meter in enumerate(plan.meters):
            meter.readings.append((previous_day, billed[m], Reading.Source.CONTROLLER))

        for i in range(1, len(months)):
            month = months[i]
            day = month.replace(day=min(20, max(10, route_day + rng.randint(-1, 1))))
            days = (day - previous_day).days
            roll = rng.random()
            estimated = i != forced_month and roll < SHARE_ESTIMATED
            misread = i == forced_month or (SHARE_ESTIMATED <= roll < SHARE_ESTIMATED + SHARE_MISREAD)
            misread_meter = rng.randrange(len(plan.meters)) if misread else -1
            volume = use * seasonal_factor(month.month) * max(0.6, min(1.5, rng.gauss(1.0, 0.12))) * days / 30.4
            lines: list[LinePlan] = []
            for m, meter in enumerate(plan.meters):
                true[m] += volume * shares[m]
                register = int(true[m])
                if estimated:
                    recent = history[m][-12:]
                    guess = round(sum(recent) / len(recent)) if recent else round(use * shares[m])
                    current, source = billed[m] + guess, Reading.Source.ESTIMATE
                    meter.readings.append((day, current, source))
                elif m == misread_meter:
                    current = max(register, billed[m]) + (rng.randint(50, 300) if large else rng.randint(30, 60))
                    meter.readings.append((day, current, Reading.Source.CONTROLLER))
                else:
                    # A register below the billed value (after a misreading or an estimate)
                    # bills nothing until it catches up.
                    current = max(register, billed[m])
                    meter.readings.append((day, register, Reading.Source.CONTROLLER))
                lines.append(LinePlan(m, billed[m], current, estimated))
                history[m].append(current - billed[m])
                billed[m] = current
            plan.invoices.append(self.invoice(plan, month, previous_day, day, lines, rates, misread=misread))
            previous_day = day

    def invoice(self, plan: AccountPlan, month: date, previous_day: date, day: date, lines: list[LinePlan],
                rates: list[TariffRate], *, misread: bool) -> InvoicePlan:
        consumption = sum(line.consumption for line in lines)
        period_start = previous_day + timedelta(days=1)
        water, sewerage, total = self.price(plan, rates, period_start, day, consumption)
        issued_on = day + timedelta(days=self.rng.randint(1, 2))
        return InvoicePlan(
            number=f"F{month.year % 100:02d}{month.month:02d}{plan.seq:07d}",
            period=month,
            period_start=period_start,
            period_end=day,
            issued_on=issued_on,
            due_on=issued_on + timedelta(days=20),
            consumption=consumption,
            water_amount=water,
            sewerage_amount=sewerage,
            total=total,
            lines=lines,
            misread=misread,
        )

    def price(self, plan: AccountPlan, rates: list[TariffRate], start: date, end: date,
              consumption: int) -> tuple[Decimal, Decimal, Decimal]:
        """(water, sewerage, total). Pricing is pure and the same (days, m³) combinations recur
        across accounts, so results are memoised (bounded, to keep memory flat)."""
        key = (plan.category, plan.zone, start, end, consumption)
        amounts = self.priced.get(key)
        if amounts is None:
            priced = price_consumption(rates=rates, period_start=start, period_end=end, consumption=consumption)
            amounts = (priced.water_amount, priced.sewerage_amount, priced.total)
            if len(self.priced) >= PRICE_MEMO_SIZE:
                self.priced.clear()
            self.priced[key] = amounts
        return amounts

    def simulate_payments(self, plan: AccountPlan) -> None:
        """Most holders pay each invoice in full before it is due; some pay late; some pay only
        part of what they owe each month; some pay only their usual amount on a misread
        invoice; a quarter leave their last one to four invoices unpaid. Nothing is paid after
        today."""
        rng = self.rng
        style = rng.choices(("prompt", "late", "partial"), weights=(70, 20, 10))[0]
        unpaid_tail = rng.randint(1, 4) if rng.random() < SHARE_DEBTORS else 0
        channel = rng.choice(PAYMENT_CHANNELS)
        owed = Decimal(0)
        recent_totals: deque[Decimal] = deque(maxlen=6)
        for k, inv in enumerate(plan.invoices[: len(plan.invoices) - unpaid_tail]):
            owed += inv.total
            amount = inv.total
            if inv.misread and recent_totals and rng.random() < 0.2:  # pays the usual, disputes the rest
                amount = money(sum(recent_totals, Decimal(0)) / len(recent_totals))
            recent_totals.append(inv.total)
            if style == "partial":
                amount = (owed * Decimal(rng.randint(50, 90)) / 100).quantize(Decimal(1), rounding=ROUND_DOWN)
            if amount <= 0:
                continue
            if style == "late" or rng.random() < 0.05:
                paid_on = inv.due_on + timedelta(days=rng.randint(1, 30))
            else:
                paid_on = inv.issued_on + timedelta(days=rng.randint(0, 18))
            if paid_on > self.today:
                continue
            if rng.random() < 0.3:
                channel = rng.choice(PAYMENT_CHANNELS)
            owed -= amount
            plan.payments.append((paid_on, money(amount), f"{channel}-{paid_on:%y%m%d}-{plan.seq:07d}-{k:02d}"))


# ---------------------------------------------------------------------------------------------
# Saving


@dataclass
class LoadCounts:
    accounts: int = 0
    meters: int = 0
    readings: int = 0
    invoices: int = 0
    payments: int = 0


def insert_rows(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> None:
    """Insert plain rows: COPY on PostgreSQL, one prepared INSERT per batch on SQLite.

    bulk_create compiles every value through its model field (about 10 µs a value), which is
    most of the time of a load of millions of rows; on PostgreSQL a multi-row INSERT then
    spends as long again in the driver's client-side parameter binding. These rows hold only
    ints, strings, dates, booleans and Decimals, which both drivers adapt themselves.
    """
    if not rows:
        return
    opts = model._meta
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    # the callers name concrete fields only, never a reverse relation
    columns = ", ".join(qn(cast("Field[Any, Any]", opts.get_field(name)).column) for name in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608 - names from model metadata
        for start in range(0, len(rows), BATCH_SIZE):
            cursor.executemany(sql, rows[start : start + BATCH_SIZE])


def save_chunk(plans: list[AccountPlan], counts: LoadCounts) -> None:
    """Insert a chunk of planned accounts with everything under them, in one transaction.

    Accounts and meters go through bulk_create, which returns their ids (PostgreSQL, SQLite
    >= 3.35); invoices' ids are read back by number. The many rows below them (readings,
    invoices, lines, payments) are inserted as plain rows.
    """
    with transaction.atomic():
        accounts = Account.objects.bulk_create(
            [
                Account(subscriber_code=p.subscriber_code, holder_kind=p.holder_kind, holder_fin=p.holder_fin,
                        holder_name=p.holder_name, address=p.address, branch_id=p.branch.pk, category=p.category,
                        zone=p.zone, opened_on=p.opened_on)
                for p in plans
            ],
            batch_size=BATCH_SIZE,
        )
        if accounts and accounts[0].pk is None:
            raise DemoDataError("The database does not return ids from bulk inserts (SQLite >= 3.35 is needed).")
        meters = Meter.objects.bulk_create(
            [
                Meter(account_id=a.pk, serial_number=m.serial_number, seal_number=m.seal_number,
                      installed_on=m.installed_on)
                for p, a in zip(plans, accounts, strict=True) for m in p.meters
            ],
            batch_size=BATCH_SIZE,
        )
        meter_ids: list[list[int]] = []
        next_meter = iter(meters)
        for p in plans:
            meter_ids.append([next(next_meter).pk for _ in p.meters])

        readings = [
            (ids[m], taken_on, value, source)
            for p, ids in zip(plans, meter_ids, strict=True)
            for m, meter in enumerate(p.meters)
            for taken_on, value, source in meter.readings
        ]
        insert_rows(Reading, ("meter", "taken_on", "value", "source"), readings)

        invoices = [
            (a.pk, inv.number, inv.period, inv.period_start, inv.period_end, inv.issued_on, inv.due_on,
             inv.consumption, inv.water_amount, inv.sewerage_amount, inv.total)
            for p, a in zip(plans, accounts, strict=True) for inv in p.invoices
        ]
        insert_rows(Invoice, ("account", "number", "period", "period_start", "period_end", "issued_on", "due_on",
                              "consumption", "water_amount", "sewerage_amount", "total"), invoices)
        invoice_ids = dict(
            Invoice.objects.filter(account_id__in=[a.pk for a in accounts]).values_list("number", "pk")
        )
        lines = [
            (invoice_ids[inv.number], ids[line.meter_index], line.previous_reading, line.current_reading,
             line.estimated, line.consumption)
            for p, ids in zip(plans, meter_ids, strict=True)
            for inv in p.invoices
            for line in inv.lines
        ]
        insert_rows(InvoiceLine, ("invoice", "meter", "previous_reading", "current_reading", "estimated",
                                  "consumption"), lines)

        payments = [
            (a.pk, paid_on, amount, reference)
            for p, a in zip(plans, accounts, strict=True) for paid_on, amount, reference in p.payments
        ]
        insert_rows(Payment, ("account", "paid_on", "amount", "reference"), payments)
    counts.accounts += len(accounts)
    counts.meters += len(meters)
    counts.readings += len(readings)
    counts.invoices += len(invoices)
    counts.payments += len(payments)


def ensure_branches() -> dict[str, Branch]:
    branches = {}
    for b in BRANCHES:
        name_en, name_ru = NAMES.get(b.code, ("", ""))
        branches[b.code], _ = Branch.objects.get_or_create(
            code=b.code, defaults={"name": b.name, "name_en": name_en, "name_ru": name_ru, "region": b.region,
                                   "zone": b.zone}
        )
    return branches


def load_rates() -> dict[tuple[str, str], list[TariffRate]]:
    rates: dict[tuple[str, str], list[TariffRate]] = {
        (c, z): [] for c in Category.values for z in TariffZone.values
    }
    for t in Tariff.objects.all():
        rates[(t.category, t.zone)].append(TariffRate(service=t.service, price=t.price, valid_from=t.valid_from))
    missing = [key for key, value in rates.items() if not value]
    if missing:
        raise DemoDataError(f"No tariffs for {missing}: run `manage.py migrate` (billing 0002 seeds them).")
    return rates


# ---------------------------------------------------------------------------------------------
# Loading


def staffed_branches(branches: dict[str, Branch]) -> list[StaffedBranch]:
    """Every branch gets demo staff; the larger ones (150 000 people and more) two operators."""
    return [StaffedBranch(b.slug, branches[b.code], 2 if b.weight >= 150 else 1) for b in BRANCHES]


def existing_accounts() -> int:
    return Account.objects.count()


@dataclass
class DemoLoad:
    """What ``load()`` loaded, for the command to print."""

    counts: LoadCounts
    citizens: list[Person]  # the demo citizens, with the plans of their accounts
    staff: list[StaffLogin]
    recent_from: date  # first month of the last twelve: a misreading since then is "recent"


def load(*, accounts: int, seed: int, today: date,
         progress: Callable[[LoadCounts, int], None] | None = None) -> DemoLoad:
    """Load ``accounts`` accounts with everything under them, the branches, the demo staff and
    the demo citizens into a database without accounts. The same seed and ``today`` give the
    same data. Accounts are saved in chunks of CHUNK_ACCOUNTS, one transaction each;
    ``progress(counts, accounts)`` is called after each. Raises DemoDataError when accounts
    already exist or the tariffs are missing."""
    existing = existing_accounts()
    if existing:
        raise DemoDataError(f"Billing already holds {existing} accounts; seed_demo loads into an empty "
                            "database (or pass --if-empty).")
    if accounts < 1:
        raise DemoDataError("--accounts must be at least 1")
    rates = load_rates()
    branches = ensure_branches()
    logins = staff_logins(staffed_branches(branches), seed)
    ensure_staff(logins)

    generator = DemoGenerator(seed=seed, today=today, branches=branches, rates=rates)
    counts = LoadCounts()
    for chunk_start in range(0, accounts, CHUNK_ACCOUNTS):
        chunk_end = min(accounts, chunk_start + CHUNK_ACCOUNTS)
        plans = [generator.plan_account(i) for i in range(chunk_start, chunk_end)]
        save_chunk(plans, counts)
        if progress is not None:
            progress(counts, accounts)
    ensure_citizens(generator.demo_citizens)
    return DemoLoad(counts=counts, citizens=generator.demo_citizens, staff=logins,
                    recent_from=generator.months[-12])
