"""Saved views: a user's named page + filters, kept beside the users file (`spm.users.views.yaml` beside
`spm.users.yaml`: per warehouse, like the usernames they are filed under), and shared as a link.

A view stores only the page and the filter bar's URL parameters, never data or a scope: whoever opens it
(its owner or someone given the link) sees the page under their own scope, and the filter bar drops (with a
notice) any team, rep or manager they may not see. Changes are made under a file lock and written atomically,
like the users file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import yaml
from filelock import FileLock

from ..files import write_private
from ..users import UserError

OPEN_PARAM = "open"  # the link parameter naming the page to open
MAX_VIEWS = 50
MAX_NAME = 60
_PAGE = re.compile(r"^[a-z0-9_-]{0,60}$")


@dataclass(frozen=True)
class SavedView:
    name: str
    page: str  # the page's URL path ("" for the default page)
    params: tuple[tuple[str, str], ...]  # the filter bar's URL parameters, as saved

    def link(self) -> str:
        """The query string that opens this view for anyone (under their own scope)."""
        return "?" + urlencode([(OPEN_PARAM, self.page), *self.params])


class ViewStore:
    """views.yaml: username -> list of {name, page, params}."""

    def __init__(self, users_file: Path) -> None:
        self.path = users_file.with_name(f"{users_file.stem}.views.yaml")
        self._lock = FileLock(str(self.path) + ".lock")

    def _data(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            return yaml.safe_load(self.path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"The saved views file {self.path} is not valid YAML: {exc}") from exc

    @contextmanager
    def _editing(self) -> Iterator[dict]:
        with self._lock:
            data = self._data()
            yield data
            write_private(self.path, yaml.safe_dump(data, sort_keys=True))

    def views(self, username: str) -> list[SavedView]:
        return [
            SavedView(v["name"], v["page"], tuple((str(k), str(x)) for k, x in (v.get("params") or {}).items()))
            for v in self._data().get(username, [])
        ]

    def save(self, username: str, name: str, page: str, params: Mapping[str, str]) -> SavedView:
        """Save (or replace, by name) a view of `username`'s."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME:
            raise UserError(f"A view needs a name of 1 to {MAX_NAME} characters.")
        if not _PAGE.match(page):
            raise UserError(f"Not a page of this app: {page!r}.")
        with self._editing() as data:
            mine = [v for v in data.get(username, []) if v["name"] != name]
            if len(mine) >= MAX_VIEWS:
                raise UserError(f"At most {MAX_VIEWS} saved views per user; delete one first.")
            mine.append({"name": name, "page": page, "params": {str(k): str(v) for k, v in params.items()}})
            data[username] = sorted(mine, key=lambda v: v["name"].casefold())
        return SavedView(name, page, tuple((str(k), str(v)) for k, v in params.items()))

    def remove(self, username: str, name: str) -> None:
        with self._editing() as data:
            data[username] = [v for v in data.get(username, []) if v["name"] != name]
