"""Working-day offsets per second: ours beside numpy.busday_offset on the same inputs.

    .venv/bin/python bench/calendar_offsets.py
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

import numpy as np

from rules.calendar import WorkingCalendar

N = 200_000


def main() -> None:
    calendar = WorkingCalendar()
    rng = random.Random(7)
    starts = [date(2020, 1, 1) + timedelta(days=rng.randrange(0, 3650)) for _ in range(N)]
    offsets = [rng.randrange(1, 60) for _ in range(N)]
    holidays = sorted(calendar.bank_holidays)

    t0 = time.perf_counter()
    ours = [calendar.add_working_days(s, n) for s, n in zip(starts, offsets, strict=True)]
    t_ours = time.perf_counter() - t0

    np_starts = np.array(starts, dtype="datetime64[D]")
    np_offsets = np.array(offsets)
    busdays = np.busdaycalendar(holidays=holidays)
    t0 = time.perf_counter()
    vectorised = np.busday_offset(np_starts, np_offsets, roll="backward", busdaycal=busdays)
    t_vector = time.perf_counter() - t0

    sample = 20_000
    t0 = time.perf_counter()
    for s, n in zip(starts[:sample], offsets[:sample], strict=True):
        np.busday_offset(s, n, roll="backward", busdaycal=busdays)
    t_scalar = (time.perf_counter() - t0) * N / sample

    assert ours == vectorised.astype(object).tolist(), "ours and numpy disagree"
    print(f"working-day offsets, {N:,} random starts 2020-2029, 1-59 working days (answers identical)")
    print(f"  timescales WorkingCalendar, one call each : {N / t_ours:12,.0f} /s")
    print(f"  numpy.busday_offset, one call each        : {N / t_scalar:12,.0f} /s")
    print(f"  numpy.busday_offset, one vectorised call  : {N / t_vector:12,.0f} /s")


if __name__ == "__main__":
    main()
