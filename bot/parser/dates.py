"""Dates and times as practitioners write them, read relative to when the message was posted.

Every form here is read by our own code; `dateparser` only gets a span we could
not read ourselves and that still looks like a date (it costs ~2 ms a call and,
given a whole message, turns child numbers into years).

A date can have several readings: "Thursday" in a message that does not say
whether the visit happened or is booked, "next Friday" said on a Monday, "last
week". Each reading is kept and the caller asks which one was meant.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from .tokens import Token

Direction = Literal["past", "future"] | None

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "thursdays": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
# Ordinary English words as well as day names: only a day after "on", "last", "next"...
_WEAK_WEEKDAYS = {"sat", "sun", "wed", "thu", "mon", "tue"}
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
# Months that are also words ("may", "march"): only with a day number beside them.
_WEAK_MONTHS = {"may", "march", "mar", "jan", "sept"}
_RELATIVE_DAYS = {
    "today": 0, "tonight": 0, "tday": 0, "2day": 0, "yesterday": -1, "yday": -1, "yest": -1, "y'day": -1,
    "yesterdays": -1, "yesterday's": -1, "tomorrow": 1, "tmrw": 1, "tmw": 1, "tomoz": 1, "tmr": 1,
    "tomorrows": 1, "tomorrow's": 1, "today's": 0, "todays": 0,
}
_PARTS_OF_DAY = {"morning", "afternoon", "evening", "night", "am", "pm", "lunchtime"}
_PART_STARTS = {"afternoon": time(12), "pm": time(12), "lunchtime": time(12), "evening": time(17),
                "night": time(17), "tonight": time(17)}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "couple": 2,
}
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14}
# Days people name by the holiday: (month, day).
_HOLIDAYS = {("christmas", "eve"): (12, 24), ("xmas", "eve"): (12, 24), ("christmas", "day"): (12, 25),
             ("xmas", "day"): (12, 25), ("boxing", "day"): (12, 26), ("new", "years", "eve"): (12, 31),
             ("new", "year's", "eve"): (12, 31), ("nye",): (12, 31), ("new", "years", "day"): (1, 1),
             ("new", "year's", "day"): (1, 1), ("nyd",): (1, 1), ("christmas",): (12, 25), ("xmas",): (12, 25)}
# "w/c 7 Dec", "week commencing 7/12": a week, not the Monday.
_WEEK_OF = (("w", "/", "c"), ("w", "/", "b"), ("wc",), ("wb",), ("w/c",), ("week", "commencing"),
            ("week", "beginning"), ("week", "starting"), ("the", "week", "of"), ("week", "of"),
            ("wk", "commencing"), ("wk", "beginning"))
_HOLIDAY_FIRST = frozenset(words[0] for words in _HOLIDAYS)  # a quick no for most words
_WEEK_OF_FIRST = frozenset(words[0] for words in _WEEK_OF)
_WEEK_OF_BY_FIRST = {first: [words for words in _WEEK_OF if words[0] == first] for first in _WEEK_OF_FIRST}
# Every word a date or time phrase can start with (see DateReader._at): any other word is
# passed over at once, which matters because _at is tried at every token of every message.
_DATE_WORDS = (frozenset(WEEKDAYS) | frozenset(MONTHS) | frozenset(_RELATIVE_DAYS) | frozenset(_NUMBER_WORDS)
               | _HOLIDAY_FIRST | _WEEK_OF_FIRST
               | {"midday", "noon", "lunchtime", "at", "overnight", "overnite", "over", "during", "on", "this", "last",
                  "next", "coming", "the", "weekend", "wkend", "w/e", "wknd", "day", "earlier", "later", "in",
                  "couple", "past", "since", "just"})
# Words after which an ordinal is a sequence, not a date: "the 2nd visit", "3rd time".
_SEQUENCE_NOUNS = {"time", "times", "attempt", "attempts", "floor", "birthday", "one", "child", "sibling", "go",
                   "week", "month", "year", "day", "of"}
# Words that make a leftover span worth handing to dateparser.
_DATE_HINTS = set(MONTHS) | {"fortnight", "month", "months"}
_SPAN_WORDS = set(MONTHS) | set(WEEKDAYS) | {"of", "the", "ago", "in", "a", "fortnight", "month", "months",
                                            "last", "next", "this", "week", "weeks", "time"}


# Not frozen, as Token: made many times a message.
@dataclass(slots=True)
class Reading:
    """One way of reading a date phrase."""

    day: date
    direction: Direction  # which way from today the phrase itself points, if it does


@dataclass(slots=True)
class DateMention:
    start: int  # token indexes, end exclusive
    end: int
    text: str
    kind: Literal["relative", "weekday", "day_month", "day_only", "week", "exact", "dateparser", "weekend",
                  "overnight"]
    days: int = 0  # relative
    weekday: int = 0
    modifier: str = ""  # last / next / this / coming / on / "" ; week_of: "w/c 7 Dec", the week of that day
    day: int = 0
    month: int = 0
    year: int | None = None
    week: int = 0  # -1 last week, 0 this week, 1 next week
    exact: date | None = None
    also_weekday: int | None = None  # "Thursday 3 December": the day name given with it
    part: str = ""  # "afternoon", "evening"...: not a time, but enough to tell booked from done

    @property
    def rough_time(self) -> time | None:
        """When a part of the day starts, for telling "this afternoon" (still to come) from done."""
        return _PART_STARTS.get(self.part)

    @property
    def inherent(self) -> Direction:
        """Whether the words themselves say past or future ("yesterday", "next Tuesday")."""
        if self.kind == "relative":
            return "past" if self.days < 0 else "future" if self.days > 0 else None
        if self.kind in ("weekday", "week"):
            if self.modifier in ("last", "past", "since") or self.week < 0:
                return "past"
            if self.modifier in ("next", "coming") or self.week > 0:
                return "future"
        return None

    def readings(self, today: date, direction: Direction) -> list[Reading]:
        """Possible dates, most likely first; more than one means ask."""
        if self.kind == "day_only" and self.also_weekday is not None:
            return self._weekday_and_day(today, direction or self.inherent)
        if self.modifier == "week_of":  # the week of that day: which day of it is the person's to say
            found = dataclasses.replace(self, modifier="")._readings(today, direction)[:1]
            monday = found[0].day - timedelta(days=found[0].day.weekday()) if found else None
            return [Reading(monday + timedelta(days=n), None) for n in range(5)] if monday else []
        found = self._readings(today, direction or self.inherent)
        if self.also_weekday is not None and found and found[0].day.weekday() != self.also_weekday:
            # "Thursday 4 December" when the 4th is a Friday: ask which was meant.
            named = DateMention(0, 0, "", "weekday", weekday=self.also_weekday, modifier="")
            return found[:1] + named._readings(today, direction or "future")[:1]
        return found

    def _weekday_and_day(self, today: date, direction: Direction) -> list[Reading]:
        """'Tues 17th': the nearest month in which the 17th is a Tuesday; when none near is,
        the day number and the day name disagree, and both are offered."""
        assert self.also_weekday is not None
        fits = []
        for offset in (-2, -1, 0, 1, 2):
            month0 = today.month - 1 + offset
            found = _safe_date(today.year + month0 // 12, month0 % 12 + 1, self.day)
            if found and found.weekday() == self.also_weekday:
                fits.append(found)
        if fits:
            return [Reading(min(fits, key=lambda d: abs((d - today).days)), None)]
        by_number = _nearest_month(today, self.day, direction)[:1]
        named = _weekday_readings(today, self.also_weekday, "", direction or "past")[:1]
        return by_number + [r for r in named if r.day not in (b.day for b in by_number)]

    def _readings(self, today: date, direction: Direction) -> list[Reading]:
        if self.kind == "weekend":
            return _weekend_readings(today, self.week, direction)
        if self.kind == "overnight":  # the night before the day it was posted: it began the evening before
            return [Reading(today - timedelta(days=1), "past"), Reading(today, None)]
        if self.kind == "relative":
            return [Reading(today + timedelta(days=self.days), self.inherent)]
        if self.kind == "exact" or self.kind == "dateparser":
            assert self.exact is not None
            return [Reading(self.exact, None)]
        if self.kind == "weekday":
            return _weekday_readings(today, self.weekday, self.modifier, direction)
        if self.kind == "week":
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=self.week)
            days = [monday + timedelta(days=n) for n in range(5)]
            if self.week == 0 and direction == "past":
                days = [d for d in days if d <= today]
            elif self.week == 0 and direction == "future":
                days = [d for d in days if d >= today]
            return [Reading(d, self.inherent) for d in days]
        if self.kind == "day_month":
            if self.year is not None:
                return [Reading(d, None) for d in [_safe_date(self.year, self.month, self.day)] if d]
            return _nearest_year(today, self.month, self.day, direction)
        return _nearest_month(today, self.day, direction)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _weekend_readings(today: date, week: int, direction: Direction) -> list[Reading]:
    """'over the weekend', 'this weekend', 'last weekend': its Saturday and Sunday (which one
    is the person's to say)."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7)  # this week's, today if Saturday
    if today.weekday() == 6:
        saturday = today - timedelta(days=1)
    if week < 0 or (week == 0 and direction == "past" and today.weekday() < 5):
        saturday -= timedelta(days=7)
    elif week > 0:
        saturday += timedelta(days=7)
    days = [saturday, saturday + timedelta(days=1)]
    if direction == "past":
        days = [d for d in days if d <= today] or days
    return [Reading(d, None) for d in days]


def _weekday_readings(today: date, weekday: int, modifier: str, direction: Direction) -> list[Reading]:
    ahead = (weekday - today.weekday()) % 7
    next_one = today + timedelta(days=ahead or 7)  # strictly after today
    last_one = today - timedelta(days=(today.weekday() - weekday) % 7 or 7)  # strictly before today
    if modifier in ("last", "past"):
        return [Reading(last_one, "past")]
    if modifier == "coming":
        return [Reading(next_one, "future")]
    if modifier == "since":  # "missing since Saturday": the last one, today included
        return [Reading(today if weekday == today.weekday() else last_one, "past")]
    if modifier == "this":
        this_week = today - timedelta(days=today.weekday()) + timedelta(days=weekday)
        return [Reading(this_week, None)]
    if modifier == "next":
        # "next Friday" said on a Monday: this Friday or the one after? People differ; ask.
        if next_one.isocalendar()[1] == today.isocalendar()[1]:
            return [Reading(next_one, "future"), Reading(next_one + timedelta(days=7), "future")]
        return [Reading(next_one, "future")]
    if weekday == today.weekday() and direction != "future":
        return [Reading(today, None)]
    if direction == "past":
        return [Reading(last_one, "past")]
    if direction == "future":
        return [Reading(next_one, "future")]
    return [Reading(last_one, "past"), Reading(next_one, "future")]


def _nearest_year(today: date, month: int, day: int, direction: Direction) -> list[Reading]:
    """"24th November" with no year: the nearest one, or the one the status points to.

    A reading more than six months away is probably a slip (a visit "done" on a
    date later this year); both readings are offered then.
    """
    candidates = [d for y in (today.year - 1, today.year, today.year + 1) if (d := _safe_date(y, month, day))]
    past = [d for d in candidates if d <= today]
    future = [d for d in candidates if d >= today]
    before, after = (past[-1] if past else None), (future[0] if future else None)
    return _pick(today, before, after, direction, limit=183)


def _nearest_month(today: date, day: int, direction: Direction) -> list[Reading]:
    """"the 30th": this month's, last month's or next month's."""
    candidates: list[date] = []
    for offset in (-2, -1, 0, 1, 2):
        month0 = today.month - 1 + offset
        if found := _safe_date(today.year + month0 // 12, month0 % 12 + 1, day):
            candidates.append(found)
    past = [d for d in candidates if d <= today]
    future = [d for d in candidates if d >= today]
    return _pick(today, past[-1] if past else None, future[0] if future else None, direction, limit=62)


def _pick(today: date, before: date | None, after: date | None, direction: Direction, limit: int) -> list[Reading]:
    first: date | None
    other: date | None
    if direction == "past" and before:
        first, other = before, after
    elif direction == "future" and after:
        first, other = after, before
    elif before and after:
        first, other = (after, before) if (after - today) <= (today - before) else (before, after)
    else:
        first, other = before or after, None
    if first is None:
        return []
    readings = [Reading(first, None)]
    if other and (abs((first - today).days) > limit or abs((other - today).days) < abs((first - today).days)):
        # "visited on the 28th" said on the 25th: last month's 28th, or the coming one (then it
        # is booked, not done)? The words point one way and the calendar the other: ask.
        readings.append(Reading(other, None))
    return readings


@dataclass(slots=True)
class TimeMention:
    start: int
    end: int
    text: str
    at: time


def _clock(text: str) -> time | None:
    """'2pm', '2.30pm', '14:00', '9.30', '1400hrs' as a time; hours 1-7 without am/pm are afternoon."""
    t = text.replace(" ", "").replace("a.m.", "am").replace("p.m.", "pm").removesuffix("hrs")
    suffix = t[-2:] if t[-2:] in ("am", "pm") else ""
    t = t.removesuffix(suffix)
    if len(t) == 4 and t.isdigit():
        hour, minute = int(t[:2]), int(t[2:])
    else:
        hour_text, _, minute_text = t.replace(".", ":").partition(":")
        if not hour_text.isdigit() or (minute_text and not minute_text.isdigit()):
            return None
        hour, minute = int(hour_text), int(minute_text or 0)
    if suffix and not 1 <= hour <= 12:
        return None
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    elif not suffix and 1 <= hour <= 7:
        hour += 12  # "at 2" in a working day is 2pm
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _number(token: Token) -> int | None:
    if token.kind == "number":
        return int(token.text)
    return _NUMBER_WORDS.get(token.text) if token.kind == "word" else None


def _day_number(token: Token | None) -> int | None:
    if token is None or token.kind not in ("ordinal", "number"):
        return None
    digits = token.text.rstrip("stndrh")
    value = int(digits) if digits.isdigit() else 0
    return value if 1 <= value <= 31 and len(digits) <= 2 else None


def _year(token: Token | None) -> int | None:
    if token is not None and token.kind == "number" and len(token.text) == 4 and 2000 <= int(token.text) <= 2099:
        return int(token.text)
    return None


class DateReader:
    """Finds date and time phrases in a token list and marks the tokens they use."""

    def __init__(self, tokens: Sequence[Token], dated_after: frozenset[str] = frozenset(),
                 nouns: frozenset[str] = frozenset()) -> None:
        """`dated_after`: words after which a short day name ("held Thu") or a bare ordinal
        ("booked 29th") is a date; `nouns`: words before which an ordinal counts ("2nd core group")."""
        self.tokens = tokens
        self.dated_after = dated_after
        self.nouns = nouns  # with _SEQUENCE_NOUNS: not joined here, once a message
        self.used = [False] * len(tokens)
        self.dates: list[DateMention] = []
        self.times: list[TimeMention] = []
        self.unread: list[tuple[int, int]] = []  # date-like spans nobody could read

    # -- helpers --------------------------------------------------------------------
    def _word(self, i: int) -> str:
        return self.tokens[i].text if 0 <= i < len(self.tokens) and self.tokens[i].kind == "word" else ""

    def _tok(self, i: int) -> Token | None:
        return self.tokens[i] if 0 <= i < len(self.tokens) else None

    def _text(self, start: int, end: int) -> str:
        return " ".join(t.text for t in self.tokens[start:end])

    def _add_date(self, start: int, end: int, **kw: object) -> int:
        self.dates.append(DateMention(start, end, self._text(start, end), **kw))  # type: ignore[arg-type]
        for k in range(start, end):
            self.used[k] = True
        return end

    def _add_time(self, start: int, end: int, at: time) -> int:
        self.times.append(TimeMention(start, end, self._text(start, end), at))
        for k in range(start, end):
            self.used[k] = True
        return end

    # -- the grammar ----------------------------------------------------------------
    def read(self) -> DateReader:
        i = 0
        while i < len(self.tokens):
            i = self._at(i) or i + 1
        self._unread_spans()
        return self

    def _at(self, i: int) -> int | None:
        """Try each form at token i; the end index of what was read, or None."""
        tok = self.tokens[i]
        kind = tok.kind
        if kind == "word":
            return self._at_word(i, tok.text, tok) if tok.text in _DATE_WORDS else None
        if kind == "iso_date":
            return self._add_date(i, i + 1, kind="exact", exact=date.fromisoformat(tok.text))
        if kind in ("slash_date", "dot_date"):
            return self._numeric_date(i)
        if kind == "clock":
            at = _clock(tok.text)
            return self._add_time(i, i + 1, at) if at else None
        if kind not in ("number", "ordinal"):
            return None  # punctuation, "#123"
        if kind == "number" and (end := self._n_days_ago(i)):  # "3 days ago"
            return end
        if (day := _day_number(tok)) and (end := self._day_month(i, day)):  # "24th November", "3 Dec"
            return end
        if kind == "ordinal" and (day := _day_number(tok)) and not self._counts_something(i) and (
                self._word(i - 1) in ("the", "on", "by", "for", "until", "till", "from", "to")
                or self._after_a_verb_or_number(i)):
            start = i - 1 if self._word(i - 1) == "the" else i
            return self._add_date(start, i + 1, kind="day_only", day=day)
        return None

    def _at_word(self, i: int, w: str, tok: Token) -> int | None:
        """The forms that start with a word (one that can start a date or time phrase)."""
        if w in ("midday", "noon", "lunchtime") and self._word(i - 1) in ("at", "by", "from", ""):
            start = i - 1 if self._word(i - 1) == "at" else i
            return self._add_time(start, i + 1, time(12))
        if w == "at" and (n := self._tok(i + 1)) and n.kind == "number" and not self._unit_after(i + 2):
            at = _clock(n.text) if (len(n.text) <= 2 and 1 <= int(n.text) <= 12) or len(n.text) == 4 else None
            if at:
                return self._add_time(i, i + 2, at)
        if w in _RELATIVE_DAYS:
            return self._relative_word(i, _RELATIVE_DAYS[w])
        if w in ("overnight", "overnite") or (w == "over" and self._word(i + 1) in ("night", "nite")):
            return self._add_date(i, i + (1 if w != "over" else 2), kind="overnight", part="night")
        if (end := self._weekend(i)) or (end := self._holiday(i)) or (end := self._week_of(i)):
            return end
        if w in ("day", "the") and (end := self._day_before_after(i)):
            return end
        if w in ("this", "earlier", "later") and self._word(i + 1) in ("morning", "afternoon", "evening"):
            return self._add_date(i, i + 2, kind="relative", days=0, part=self._word(i + 1))
        if w == "earlier" and self._word(i + 1) == "today":
            return self._add_date(i, i + 2, kind="relative", days=0)
        if w == "last" and self._word(i + 1) in ("night", "nite"):
            return self._add_date(i, i + 2, kind="relative", days=-1)
        if w == "in" and (end := self._in_n_days(i)):
            return end
        if (w in _NUMBER_WORDS or w == "couple") and (end := self._n_days_ago(i)):
            return end
        modifiers = ("last", "next", "this", "coming", "past", "on", "earlier", "later", "since")
        if w in modifiers and (end := self._modified(i)):
            return end
        if w == "just" and self._word(i + 1) == "gone" and self._word(i + 2) in WEEKDAYS:
            return self._weekday(i, i + 2, "last")  # "just gone Friday"
        if w in WEEKDAYS and (w not in _WEAK_WEEKDAYS or tok.capitals or self._looks_dated(i)
                              or self._after_a_verb_or_number(i) or self._clock_after(i + 1)):
            return self._weekday(i, i, "")
        if w in MONTHS and (end := self._month_day(i)):
            return end
        return None

    def _after_a_verb_or_number(self, i: int) -> bool:
        """'held Thu', 'seen 5120 Mon', 'booked 29th', 'ICPC wed': a verb, an event or a child
        number just before makes a short day name (or an ordinal) a date."""
        before = self._tok(i - 1)
        if before is None:
            return False
        return before.kind in ("number", "hash_number", "clock") or before.text in self.dated_after

    def _clock_after(self, i: int) -> bool:
        """'Mon 2pm', 'thu am': a time straight after."""
        tok = self._tok(i)
        return tok is not None and (tok.kind == "clock" or tok.text in ("am", "pm", "morning", "afternoon"))

    def _counts_something(self, i: int) -> bool:
        """'the 2nd core group', '3rd time': the ordinal counts the thing after it."""
        nxt = self._tok(i + 1)
        return nxt is not None and nxt.kind == "word" and (nxt.text in self.nouns or nxt.text in _SEQUENCE_NOUNS)

    def _weekend(self, i: int) -> int | None:
        """'over the weekend', 'at the weekend', 'this weekend', 'last weekend', 'wkend'."""
        w = self._word(i)
        j, week = i, 0
        if w in ("over", "at", "during", "on") and self._word(i + 1) == "the":
            j = i + 2
        elif w in ("this", "last", "next", "coming") :
            j, week = i + 1, {"last": -1, "next": 1}.get(w, 0)
        elif w == "the":
            j = i + 1
        if self._word(j) not in ("weekend", "wkend", "w/e", "wknd"):
            return None
        return self._add_date(i, j + 1, kind="weekend", week=week, modifier=w if w in ("last", "next", "this") else "")

    def _holiday(self, i: int) -> int | None:
        """'Xmas Eve', 'Christmas Day', 'Boxing Day', 'New Year's Eve', 'NYE'."""
        if self._word(i) not in _HOLIDAY_FIRST:
            return None
        for words, (month, day) in _HOLIDAYS.items():
            end = i + len(words)
            if tuple(self._word(k) for k in range(i, end)) == words:
                if len(words) == 1 and words[0] in ("christmas", "xmas") and self._word(i - 1) not in ("on",):
                    continue  # "before Christmas", "Christmas holidays": not a day
                year = _year(self._tok(end))
                return self._add_date(i, end + (1 if year else 0), kind="day_month", day=day, month=month,
                                      year=year)
        return None

    def _week_of(self, i: int) -> int | None:
        """'w/c 7 Dec', 'week commencing 7/12': any working day of that week."""
        for words in _WEEK_OF_BY_FIRST.get(self.tokens[i].text, ()):
            end = i + len(words)
            if tuple(self.tokens[k].text for k in range(i, min(end, len(self.tokens)))) != words:
                continue
            before = len(self.dates)
            if end < len(self.tokens) and self._at(end) and len(self.dates) > before:
                found = self.dates.pop()
                if found.kind not in ("day_month", "day_only", "exact"):
                    self.dates.append(found)
                    return None
                self.dates.append(dataclasses.replace(found, start=i, text=self._text(i, found.end),
                                                      modifier="week_of"))
                for k in range(i, found.end):
                    self.used[k] = True
                return found.end
        return None

    def _looks_dated(self, i: int) -> bool:
        """'Wed 3 Dec', 'Sat 14/11': a weak day name followed by a date."""
        nxt = self._tok(i + 1)
        return nxt is not None and nxt.kind in ("ordinal", "slash_date", "number")

    def _unit_after(self, i: int) -> bool:
        return self._word(i) in ("days", "day", "weeks", "week", "mins", "minutes", "hours", "hrs", "people",
                                 "children")

    def _numeric_date(self, i: int) -> int | None:
        parts = self.tokens[i].text.replace(".", "/").split("/")
        day, month = int(parts[0]), int(parts[1])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return None  # "13/14" is not a date; leave it for the reader to question
        year = None
        if len(parts) == 3:
            year = int(parts[2]) + (2000 if len(parts[2]) == 2 else 0)
        return self._add_date(i, i + 1, kind="day_month", day=day, month=month, year=year)

    def _relative_word(self, i: int, days: int) -> int:
        end = i + 1
        part = "tonight" if self._word(i) == "tonight" else ""
        if self._word(end) in _PARTS_OF_DAY:  # "yesterday evening", "tomorrow morning"
            part = self._word(end)
            end += 1
        return self._add_date(i, end, kind="relative", days=days, part=part)

    def _day_before_after(self, i: int) -> int | None:
        start = i
        if self._word(i) == "the":
            i += 1
        if self._word(i) == "day" and self._word(i + 1) in ("before", "after"):
            target = self._word(i + 2)
            beyond = "before" if target == "yesterday" else "after"
            if target in ("yesterday", "tomorrow") and self._word(i + 1) == beyond:
                return self._add_date(start, i + 3, kind="relative", days=-2 if target == "yesterday" else 2)
        return None

    def _amount(self, i: int) -> tuple[int, int] | None:
        """'3 days', 'two weeks', 'a fortnight', 'a couple of days': (days, end)."""
        tok = self._tok(i)
        if tok is None:
            return None
        count = _number(tok)
        j = i + 1
        if tok.text == "a" and self._word(j) == "couple" and self._word(j + 1) == "of":
            count, j = 2, j + 2
        elif tok.text == "couple" and self._word(j) == "of":
            count, j = 2, j + 1
        if count is None or count > 60:
            return None
        unit = _UNITS.get(self._word(j))
        if unit is None:
            return None
        return count * unit, j + 1

    def _n_days_ago(self, i: int) -> int | None:
        amount = self._amount(i)
        if amount is None:
            return None
        days, j = amount
        if self._word(j) == "ago":
            return self._add_date(i, j + 1, kind="relative", days=-days)
        if self._word(j) == "time":  # "3 days' time"
            return self._add_date(i, j + 1, kind="relative", days=days)
        return None

    def _in_n_days(self, i: int) -> int | None:
        amount = self._amount(i + 1)
        if amount is None:
            return None
        days, j = amount
        if self._word(j) == "time":
            j += 1
        return self._add_date(i, j, kind="relative", days=days)

    def _modified(self, i: int) -> int | None:
        w = self._word(i)
        j = i + 1
        modifier = {"on": "", "earlier": "", "later": ""}.get(w, w)
        if w == "since":
            if self._word(j) not in WEEKDAYS:
                return None
            modifier = "since"
        if w == "this" and self._word(j) == "coming":
            modifier, j = "coming", j + 1
        if w == "this" and self._word(j) == "past":
            modifier, j = "past", j + 1
        nxt = self._word(j)
        if nxt in ("week", "wk") and w != "on":
            week = {"last": -1, "past": -1, "next": 1, "coming": 1}.get(modifier, 0)
            return self._add_date(i, j + 1, kind="week", week=week, modifier=modifier)
        if nxt in WEEKDAYS:
            return self._weekday(i, j, modifier)
        return None

    def _weekday(self, start: int, i: int, modifier: str) -> int:
        weekday = WEEKDAYS[self._word(i)]
        end = i + 1
        if self._word(end) in ("just",) and self._word(end + 1) == "gone":
            modifier, end = "last", end + 2
        # "Thursday 3 December" / "Thu 3/12": the date decides, the day name checks it.
        tok = self._tok(end)
        if tok is not None and (tok.kind in ("slash_date", "dot_date") or _day_number(tok)):
            before = len(self.dates)
            if self._at(end) and len(self.dates) > before:
                found = self.dates.pop()
                self.dates.append(
                    DateMention(start, found.end, self._text(start, found.end), found.kind, day=found.day,
                                month=found.month, year=found.year, exact=found.exact, also_weekday=weekday)
                )
                for k in range(start, found.end):
                    self.used[k] = True
                return found.end
        # "Tues 17th", "Thu the 26th", "Fri 27": a day number with no month, checked by the day name.
        j = end + 1 if self._word(end) == "the" else end
        number = self._tok(j)
        if (number is not None and (day := _day_number(number)) and not self._counts_something(j)
                and (number.kind == "ordinal" or not self._unit_after(j + 1))):
            return self._add_date(start, j + 1, kind="day_only", day=day, also_weekday=weekday)
        part = ""
        if self._word(end) in _PARTS_OF_DAY:
            part = self._word(end)
            end += 1
        return self._add_date(start, end, kind="weekday", weekday=weekday, modifier=modifier, part=part)

    def _day_month(self, i: int, day: int) -> int | None:
        """'24th November', '24 nov 2026', '3rd of December'."""
        j = i + 1
        if self._word(j) == "of":
            j += 1
        month = MONTHS.get(self._word(j))
        if month is None:
            return None
        end = j + 1
        year = _year(self._tok(end))
        if year:
            end += 1
        start = i - 1 if self._word(i - 1) == "the" else i
        return self._add_date(start, end, kind="day_month", day=day, month=month, year=year)

    def _month_day(self, i: int) -> int | None:
        """'November 24th', 'Dec 3', 'December 3rd, 2026'."""
        month = MONTHS[self._word(i)]
        j = i + 1
        if self._word(j) == "the":
            j += 1
        day = _day_number(self._tok(j))
        if day is None:
            return None
        end = j + 1
        if (t := self._tok(end)) and t.text == "," and _year(self._tok(end + 1)):
            end += 1
        year = _year(self._tok(end))
        if year:
            end += 1
        return self._add_date(i, end, kind="day_month", day=day, month=month, year=year)

    def _unread_spans(self) -> None:
        """Spans left over that still look like dates ("a fortnight ago", "Dec the 3rd")."""
        i = 0
        n = len(self.tokens)
        while i < n:
            tok = self.tokens[i]
            hint = not self.used[i] and (
                (tok.kind == "word" and tok.text in _DATE_HINTS and tok.text not in _WEAK_MONTHS)
                or (tok.kind == "ordinal" and not self._counts_something(i))
                or tok.kind in ("slash_date", "dot_date")
            )
            if not hint:
                i += 1
                continue
            start = i
            while start > 0 and not self.used[start - 1] and self._spanish(start - 1):
                start -= 1
            end = i + 1
            while end < n and not self.used[end] and self._spanish(end):
                end += 1
            self.unread.append((start, end))
            i = end

    def _spanish(self, i: int) -> bool:
        tok = self.tokens[i]
        return tok.kind == "ordinal" or (tok.kind == "number" and len(tok.text) <= 2) or tok.text in _SPAN_WORDS


def read_with_dateparser(text: str, now: datetime, direction: Direction) -> date | None:
    """The last resort for a span we could not read ourselves (imported only when needed)."""
    import dateparser

    settings = {
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": now.replace(tzinfo=None),  # naive London time: aware bases break times
        "PREFER_DATES_FROM": {"past": "past", "future": "future"}.get(direction or "", "current_period"),
        "REQUIRE_PARTS": ["day"],
    }
    found = dateparser.parse(text, languages=["en"], settings=settings)
    return found.date() if found else None
