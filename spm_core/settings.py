"""App settings an admin changes on the Settings page, kept in settings.yaml beside the users file.

peer_visibility: what a rep sees of the others on a leaderboard (leaderboard.Audience applies it):
  rank_only        their rank and name;
  rank_and_metric  also their value of one metric, peer_metric (default bookings), and of no other, so
                   two metrics never combine into a third (bookings / attainment = quota).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from .files import write_private
from .leaderboard import METRICS
from .users import users_file

PEER_VISIBILITY: tuple[str, ...] = ("rank_only", "rank_and_metric")


class SettingsError(ValueError):
    """A settings file or value that cannot be used, with a message meant for the admin."""


@dataclass(frozen=True)
class Settings:
    peer_visibility: str = "rank_and_metric"
    peer_metric: str = "bookings"

    def __post_init__(self) -> None:
        if self.peer_visibility not in PEER_VISIBILITY:
            raise SettingsError(f"peer_visibility is {self.peer_visibility!r}; expected one of {', '.join(PEER_VISIBILITY)}.")
        if self.peer_metric not in METRICS:
            raise SettingsError(f"peer_metric is {self.peer_metric!r}; expected one of {', '.join(METRICS)}.")


def settings_file(warehouse: str | None = None) -> Path:
    """settings.yaml in the users file's folder: each warehouse has its own, like its users."""
    return users_file(None, warehouse).with_name("settings.yaml")


def load_settings(path: Path) -> Settings:
    """The saved settings; the defaults when none were saved yet."""
    if not path.exists():
        return Settings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"The settings file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or set(data) - set(Settings.__dataclass_fields__):
        raise SettingsError(f"The settings file {path} holds something other than {', '.join(Settings.__dataclass_fields__)}.")
    return Settings(**{k: str(v) for k, v in data.items()})


def save_settings(settings: Settings, path: Path) -> None:
    """Write atomically, readable by the app's owner only (600)."""
    write_private(path, yaml.safe_dump(asdict(settings), sort_keys=True))
