"""People change (SPEC section 12): a child's lead practitioner, and cover for leave.

A lead is recorded with who set it and when; the child's row carries the current one.
Cover says who is away from one day to another and who covers for them; "back from
leave" brings the last day forward. `[[cover]]` entries in timescales.toml are loaded
by `timescales db upgrade`, like the units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, select

from rules.config import Config
from store.models import Child, Cover, LeadChange
from store.records import Store, insert_new


@dataclass(frozen=True)
class Away:
    """Someone away on a day, until when, and who covers (None: nobody named)."""

    who: str
    cover: str | None
    last_day: date


class People:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- leads -----------------------------------------------------------------------
    def set_lead(self, child: str, lead: str, by: str, at: datetime, channel: str, message_ts: str) -> str | None:
        """Make `lead` the child's lead practitioner; returns who it was. The same message
        again changes nothing."""
        with self.store.session.begin() as s:
            row = s.get(Child, child, with_for_update=True)
            if row is None:
                raise KeyError(child)
            was = row.lead_practitioner
            if insert_new(s, LeadChange, {"child": child, "lead": lead, "was": was, "by": by,
                                                           "at": at, "channel": channel, "message_ts": message_ts}):
                row.lead_practitioner = lead
            return was

    def leads(self, children: Sequence[str]) -> dict[str, str]:
        """Child -> its lead practitioner, for those that have one."""
        if not children:
            return {}
        with self.store.session() as s:
            return {n: lead for n, lead in s.execute(select(Child.number, Child.lead_practitioner)
                                                     .where(Child.number.in_(sorted(set(children))))) if lead}

    def lead_history(self, child: str) -> list[LeadChange]:
        with self.store.session() as s:
            return list(s.scalars(select(LeadChange).where(LeadChange.child == child).order_by(LeadChange.id)))

    # -- cover -----------------------------------------------------------------------
    def record_cover(self, who: str, cover: str | None, first_day: date, last_day: date, by: str, at: datetime,
                     channel: str, message_ts: str) -> None:
        with self.store.session.begin() as s:
            insert_new(s, Cover, {
                "who": who, "cover": cover, "first_day": first_day, "last_day": last_day, "source": "slack",
                "recorded_by": by, "recorded_at": at, "channel": channel, "message_ts": message_ts})

    def back(self, who: str, day: date) -> list[Cover]:
        """`who` is back on `day`: the leave they are on ends the day before. Returns it."""
        with self.store.session.begin() as s:
            on = list(s.scalars(select(Cover).where(Cover.who == who, Cover.first_day <= day, Cover.last_day >= day)))
            for leave in on:
                leave.last_day = day - timedelta(days=1)
            return on

    def away_on(self, day: date) -> dict[str, Away]:
        """Who is away on `day`; where two entries overlap, the one recorded last counts."""
        with self.store.session() as s:
            rows = s.scalars(select(Cover).where(Cover.first_day <= day, Cover.last_day >= day)
                             .order_by(Cover.recorded_at, Cover.id))
            return {c.who: Away(c.who, c.cover, c.last_day) for c in rows}

    def sync_config(self, config: Config, at: datetime) -> list[str]:
        """The config's [[cover]] entries, as `db upgrade` loads them; says what changed."""
        wanted = {(c.who, c.by, c.first_day, c.last_day) for c in config.cover}
        with self.store.session.begin() as s:
            have = {(c.who, c.cover, c.first_day, c.last_day): c.id
                    for c in s.scalars(select(Cover).where(Cover.source == "config"))}
            gone = [cover_id for key, cover_id in have.items() if key not in wanted]
            if gone:
                s.execute(delete(Cover).where(Cover.id.in_(gone)))
            for who, cover, first, last in sorted(wanted - set(have), key=str):
                s.add(Cover(who=who, cover=cover, first_day=first, last_day=last, source="config",
                            recorded_by="timescales.toml", recorded_at=at))
        return ([f"cover: {w} away {f} to {t}, {c} covering" for w, c, f, t in sorted(wanted - set(have), key=str)]
                + [f"cover: an entry for {key[0]} ({key[2]} to {key[3]}) is no longer in the config"
                   for key in have if key not in wanted])

