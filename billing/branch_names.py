"""The utility's branches' names in English and Russian, by branch code (the Azerbaijani name
is ``Branch.name``). The demo loader and billing's migration 0003 fill ``Branch.name_en`` and
``Branch.name_ru`` from here; staff keep them in the admin."""

NAMES: dict[str, tuple[str, str]] = {
    "BAK-BIN": ("Binagadi district office", "Бинагадинское районное управление"),
    "BAK-NAR": ("Narimanov district office", "Наримановское районное управление"),
    "BAK-NES": ("Nasimi district office", "Насиминское районное управление"),
    "BAK-NIZ": ("Nizami district office", "Низаминское районное управление"),
    "BAK-SAB": ("Sabunchu district office", "Сабунчинское районное управление"),
    "BAK-SUR": ("Surakhani district office", "Сураханское районное управление"),
    "BAK-XET": ("Khatai district office", "Хатаинское районное управление"),
    "BAK-YAS": ("Yasamal district office", "Ясамальское районное управление"),
    "BAK-SEB": ("Sabail district office", "Сабаильское районное управление"),
    "BAK-QAR": ("Garadagh district office", "Гарадагское районное управление"),
    "BAK-XEZ": ("Khazar district office", "Хазарское районное управление"),
    "BAK-PIR": ("Pirallahi district office", "Пираллахинское районное управление"),
    "SUM": ("Sumgayit branch", "Сумгайытский филиал"),
    "ABS": ("Absheron branch", "Абшеронский филиал"),
    "GNC": ("Ganja branch", "Гянджинский филиал"),
    "SKI": ("Shaki branch", "Шекинский филиал"),
    "LNK": ("Lankaran branch", "Ленкоранский филиал"),
    "QBA": ("Guba branch", "Губинский филиал"),
    "SRV": ("Shirvan branch", "Ширванский филиал"),
}
