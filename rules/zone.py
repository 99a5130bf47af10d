"""The one time zone (SPEC section 4), alone so that what needs only it (the parser,
the command line) does not load the bank holiday tables."""

from __future__ import annotations

from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
