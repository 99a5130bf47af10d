"""`timescales.toml` (SPEC section 6): units, people, calendar and rule choices.

It lives beside the rules because the calendar and the rule pack are built
from it, and every other package may import rules/.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rules.calendar import DEFAULT_YEARS, WorkingCalendar
from rules.pack import RulePack, describe_validation_error, load_pack

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Slack ids: people U... (W... on Enterprise Grid), channels C... (G... for older private ones).
_PERSON = re.compile(r"^[UW][A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _clock(value: str) -> str:
    if not _CLOCK.match(value):
        raise ValueError('expected a time like "09:00"')
    return value


def _person(value: str) -> str:
    if not _PERSON.match(value):
        raise ValueError(f"expected a Slack member id like U012AB3CD (profile, then Copy member ID), not {value!r}")
    return value


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"expected a Slack channel id like C012AB3CD (channel details, at the bottom), not {value!r}")
    return value


class ReminderConfig(_Strict):
    """SPEC section 7's reminder policy; each key may be changed per deployment."""

    remind_working_days_before: int = Field(default=2, ge=0, le=10)
    service_manager_after: int = Field(default=2, ge=1, le=20)  # working days late
    head_of_service_after: int = Field(default=5, ge=1, le=40)
    urgent_hours: int = Field(default=24, ge=0, le=72)  # hour-based deadlines this short escalate out of hours
    digest_time: str = "08:30"  # the managers' daily digest, in working hours
    # How long a process's claim on a message (or on a Slack request it handles, at most 30 s)
    # holds without renewal: one that died gives them up after this, and another takes over.
    claim_lease_seconds: int = Field(default=120, ge=2, le=3600)

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        return _clock(value)


class UnitConfig(_Strict):
    id: str = Field(min_length=1)
    name: str
    channel: str = Field(min_length=1)
    team_manager: str
    service_manager: str
    head_of_service: str
    coordinator: str
    practitioners: list[str] = []
    child_protection_lead: str | None = None
    flexible_assessment: bool = False  # the 2013 direction's scheme
    meeting_day: str = "monday"  # the weekly unit meeting: its agenda is posted that morning
    agenda_time: str = "09:00"

    @field_validator("team_manager", "service_manager", "head_of_service", "coordinator", "child_protection_lead")
    @classmethod
    def _people(cls, value: str | None) -> str | None:
        return value if value is None else _person(value)

    @field_validator("practitioners")
    @classmethod
    def _practitioners(cls, value: list[str]) -> list[str]:
        return [_person(v) for v in value]

    @field_validator("channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        return _channel(value)

    @field_validator("meeting_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        if value.lower() not in WEEKDAYS:
            raise ValueError(f"expected one of {', '.join(WEEKDAYS)}")
        return value.lower()

    @field_validator("agenda_time")
    @classmethod
    def _agenda_clock(cls, value: str) -> str:
        return _clock(value)


class CoverConfig(_Strict):
    """Cover for leave known in advance (SPEC section 12): `who` is away from `from` to `to`
    (both days included), and `by` covers for them."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    who: str
    by: str
    first_day: date = Field(alias="from")
    last_day: date = Field(alias="to")

    @field_validator("who", "by")
    @classmethod
    def _people(cls, value: str) -> str:
        return _person(value)

    @model_validator(mode="after")
    def _in_order(self) -> CoverConfig:
        if self.last_day < self.first_day:
            raise ValueError(f"'to' ({self.last_day}) is before 'from' ({self.first_day})")
        if self.who == self.by:
            raise ValueError(f"{self.who} cannot cover for themselves")
        return self


class Config(_Strict):
    timezone: str = "Europe/London"
    working_hours: tuple[str, str] = ("08:30", "17:00")
    extra_bank_holidays: list[date] = []
    removed_bank_holidays: list[date] = []
    calendar_years: tuple[int, int] = DEFAULT_YEARS
    enabled_rules: list[str] = []  # rules that are off by default (recording standards)
    disabled_rules: list[str] = []
    units: list[UnitConfig] = []
    reminders: ReminderConfig = Field(default_factory=ReminderConfig)
    # People's own words (message text, unanswered questions) are kept this long;
    # the structured record (events, decisions, deadlines) is kept.
    retention_days: int = Field(default=90, ge=1, le=3650)
    cover: list[CoverConfig] = []  # [[cover]] entries: leave known in advance

    @field_validator("timezone")
    @classmethod
    def _london_only(cls, value: str) -> str:
        if value != "Europe/London":
            raise ValueError("the standards are set in England: only Europe/London is supported")
        return value

    @field_validator("working_hours")
    @classmethod
    def _clock_times(cls, value: tuple[str, str]) -> tuple[str, str]:
        if not all(_CLOCK.match(v) for v in value) or value[0] >= value[1]:
            raise ValueError('expected two times like ["08:30", "17:00"], start before end')
        return value

    @field_validator("units")
    @classmethod
    def _unique_units(cls, units: list[UnitConfig]) -> list[UnitConfig]:
        for attribute in ("id", "channel"):
            values = [getattr(u, attribute) for u in units]
            repeated = {v for v in values if values.count(v) > 1}
            if repeated:
                raise ValueError(f"unit {attribute} used twice: {', '.join(sorted(repeated))}")
        return units

    @model_validator(mode="after")
    def _cover_is_people_we_know(self) -> Config:
        known = {p for u in self.units for p in (u.team_manager, u.service_manager, u.head_of_service, u.coordinator,
                                                 u.child_protection_lead, *u.practitioners) if p}
        for n, cover in enumerate(self.cover):
            for field in ("who", "by"):
                if getattr(cover, field) not in known:
                    raise ValueError(f"cover.{n}.{field}: {getattr(cover, field)} is in no unit of this file")
        return self

    def calendar(self) -> WorkingCalendar:
        return WorkingCalendar(self.calendar_years, self.extra_bank_holidays, self.removed_bank_holidays)

    def rule_pack(self) -> RulePack:
        return load_pack(enabled=frozenset(self.enabled_rules), disabled=frozenset(self.disabled_rules))


def load_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (save it as UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from None
