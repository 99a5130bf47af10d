"""Who may see and record what (SPEC section 8): the one place that decides, for
every way in (message, thread answer, edit, deletion, button, form, slash command,
DM, App Home), and the one refusal: a reply only the person sees, nothing stored.

A child is held by one unit. The people who may record for it are that unit's
members (practitioners, co-ordinator, team manager, child protection lead) and the
managers above it (service manager, head of service): everyone the config lists
for the unit. Everyone else (another unit's member, a guest, a Slack Connect user,
anyone not in the config) is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scheduler.outbox import Reply
from store.records import Store

MANAGER_ROLES = frozenset({"team_manager", "service_manager", "head_of_service"})
# The standards give some decisions to the Service Manager (9.11: whether a Supervision
# Order's visits reduce); the head of service above them may take them too.
SERVICE_MANAGER_ROLES = frozenset({"service_manager", "head_of_service"})
NOT_A_MEMBER = ("You are not a member of this unit in Timescales, so I have not recorded anything. If you work "
                "in it, ask its unit co-ordinator to add you to timescales.toml.")
NOT_YOUR_CHILD = ("That child is not held by a unit you belong to in Timescales, so I have not recorded anything.")


class NotAllowed(Exception):
    """A refusal; `reply` is shown only to the person who tried."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.text)
        self.reply = reply


@dataclass(frozen=True)
class Where:
    """Where a person acted: the channel (a unit's, a DM) and the thread, if any."""

    channel: str
    thread_ts: str | None = None


@dataclass(frozen=True)
class Actor:
    """The person who posted, answered, clicked or submitted: the one recorded."""

    user: str
    roles: dict[str, frozenset[str]]  # unit id -> their roles in it

    def member_of(self, unit: str | None) -> bool:
        return unit is not None and bool(self.roles.get(unit))

    def manages(self, unit: str) -> bool:
        return bool(self.roles.get(unit, frozenset()) & MANAGER_ROLES)

    def manages_service(self, unit: str) -> bool:
        return bool(self.roles.get(unit, frozenset()) & SERVICE_MANAGER_ROLES)


class Gate:
    def __init__(self, store: Store) -> None:
        self.store = store

    def actor(self, user: str) -> Actor:
        return Actor(user, {unit: frozenset(roles) for unit, roles in self.store.roles_of(user).items()})

    @staticmethod
    def refuse(actor: Actor, where: Where, text: str) -> NotAllowed:
        return NotAllowed(Reply(where.channel, text, thread_ts=where.thread_ts, only_for=actor.user))

    def require_member(self, actor: Actor, unit: str | None, where: Where, text: str = NOT_A_MEMBER) -> None:
        if not actor.member_of(unit):
            raise self.refuse(actor, where, text)

    def require_manager(self, actor: Actor, unit: str, where: Where, text: str) -> None:
        if not actor.manages(unit):
            raise self.refuse(actor, where, text)

    def require_service_manager(self, actor: Actor, unit: str, where: Where, text: str) -> None:
        if not actor.manages_service(unit):
            raise self.refuse(actor, where, text)

    def held_elsewhere(self, unit: str, children: Iterable[str]) -> list[str]:
        """Those of `children` that another unit holds (a child nobody holds yet is the
        first recording unit's)."""
        return sorted(child for child, holder in self.store.holders(children).items() if holder != unit)
