"""Small text helpers shared by the citizen's pages and the channel API."""


def mask_name(name: str) -> str:
    """Ə***** R**** : enough for an occupant to recognise, not enough to learn a name."""
    return " ".join(w[0] + "*" * (len(w) - 1) if len(w) > 1 else w for w in name.split())
