from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"

    def ready(self) -> None:
        from . import checks, middleware  # noqa: F401 - registers the system checks and the login signal
