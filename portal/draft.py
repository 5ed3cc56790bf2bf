"""The claim being filled in, kept in the citizen's session between the steps of the flow."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.files.storage import default_storage
from django.http import HttpRequest

KEY = "claim_draft"


class Draft:
    def __init__(self, request: HttpRequest):
        self._session = request.session
        self.data: dict[str, Any] = dict(self._session.get(KEY) or {})

    @classmethod
    def start(cls, request: HttpRequest, *, subscriber_code: str) -> Draft:
        draft = cls(request)
        for path in draft.photos:  # photos of an abandoned draft
            default_storage.delete(path)
        draft.data = {"key": uuid.uuid4().hex, "subscriber_code": subscriber_code, "meters": {}}
        draft.save()
        return draft

    def save(self) -> None:
        self._session[KEY] = self.data
        self._session.modified = True

    def clear(self) -> None:
        self._session.pop(KEY, None)

    def get(self, name: str, default: Any = None) -> Any:
        return self.data.get(name, default)

    def update(self, **values: Any) -> None:
        self.data.update(values)
        self.save()

    @property
    def photos(self) -> list[str]:
        return [m["photo_path"] for m in self.data.get("meters", {}).values() if m.get("photo_path")]

    @property
    def has_details(self) -> bool:
        return bool(self.data.get("reason_id")) and bool(self.data.get("phone"))
