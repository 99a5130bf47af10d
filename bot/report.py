"""A timeliness report as people read it: a table in a message or a terminal, CSV for a
spreadsheet, and a picture (PNG) of the on-time percentage per standard and by month.

The picture is drawn with matplotlib's Agg backend (no display). It is meant to be read
at Slack's preview size and to survive printing in greyscale: bars in dark and light
grey with hatching, values written on the bars, the unit and period in the title.
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, timedelta

from rules.calendar import add_months
from rules.timeliness import Report, UnitReport


def period_words(start: date, end: date) -> str:
    if start.day == 1 and end == add_months(start, 1) - timedelta(days=1):
        return f"{start:%B %Y}"
    return f"{start.day} {start:%b %Y} to {end.day} {end:%b %Y}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def unit_lines(unit: UnitReport, start: date, end: date, standard: str | None = None) -> list[str]:
    """A unit's table: one line per standard, then the national measures."""
    lines = [f"*{unit.name}: how timely, {period_words(start, end)}*"]
    shown = [s for s in unit.standards if standard is None or standard.lower() in (s.standard + " " + s.title).lower()]
    if not shown:
        lines.append("nothing fell due in this period" + (f" for {standard}" if standard else ""))
    for s in shown:
        late = f", median {s.median_days_late:g} working days late" if s.median_days_late is not None else ""
        lines.append(f"• {s.standard} {s.title}: {_pct(s.on_time_pct)} on time ({s.on_time} of {s.due}; "
                     f"{s.late} late, {s.missed} missed{late})")
    lines.append("_National measures (as the Department for Education counts them)_")
    for m in unit.measures:
        share = f"{100 * m.numerator / m.denominator:.0f}%" if m.denominator else "-"
        lines.append(f"• {m.title}: {m.numerator} of {m.denominator} ({share})")
    return lines


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "standard", "rule", "title", "due", "on_time", "late", "missed", "on_time_pct",
                     "median_days_late", "from", "to"])
    for unit in report.units:
        for s in unit.standards:
            writer.writerow([unit.unit, s.standard, s.rule, s.title, s.due, s.on_time, s.late, s.missed,
                             "" if s.on_time_pct is None else s.on_time_pct,
                             "" if s.median_days_late is None else s.median_days_late, report.start, report.end])
        for m in unit.measures:
            writer.writerow([unit.unit, "measure", m.measure, m.title, m.denominator, m.numerator, "", "", "", "",
                             report.start, report.end])
    return out.getvalue()


def report_png(report: Report) -> bytes:
    """On-time percentage per standard (one panel) and by month (the other), every unit in
    the report together, as a PNG of about 1500 x 900 pixels."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    totals: dict[str, list[int]] = {}
    months: dict[str, list[int]] = {}
    for unit in report.units:
        for s in unit.standards:
            counted = totals.setdefault(s.standard, [0, 0])
            counted[0], counted[1] = counted[0] + s.on_time, counted[1] + s.due
        for month, (on_time, due) in unit.by_month.items():
            counted = months.setdefault(month, [0, 0])
            counted[0], counted[1] = counted[0] + on_time, counted[1] + due
    names = ", ".join(u.name for u in report.units) or "no units"
    figure, (by_standard, by_month) = pyplot.subplots(1, 2, figsize=(15, 9), dpi=100,
                                                      gridspec_kw={"width_ratios": [3, 2]})
    figure.suptitle(f"On time: {names}, {period_words(report.start, report.end)}", fontsize=18, fontweight="bold")
    standards = sorted(totals, key=lambda k: totals[k][0] / totals[k][1] if totals[k][1] else 0)
    values = [100 * totals[k][0] / totals[k][1] if totals[k][1] else 0 for k in standards]
    bars = by_standard.barh(standards or ["-"], values or [0], color="#404040", edgecolor="black", hatch="//")
    for bar, k in zip(bars, standards, strict=False):
        by_standard.text(min(bar.get_width() + 1, 92), bar.get_y() + bar.get_height() / 2,
                         f"{bar.get_width():.0f}% ({totals[k][0]}/{totals[k][1]})", va="center", fontsize=11)
    by_standard.set_xlim(0, 100)
    by_standard.set_xlabel("% on time", fontsize=13)
    by_standard.set_title("By standard (point of the Practice Standards / Working Together)", fontsize=13)
    by_standard.tick_params(labelsize=11)
    labels = list(months)
    month_values = [100 * months[m][0] / months[m][1] if months[m][1] else 0 for m in labels]
    columns = by_month.bar(labels or ["-"], month_values or [0], color="#b0b0b0", edgecolor="black", hatch="..")
    for column, m in zip(columns, labels, strict=False):
        by_month.text(column.get_x() + column.get_width() / 2, column.get_height() + 1,
                      f"{column.get_height():.0f}%\n({months[m][0]}/{months[m][1]})", ha="center", fontsize=11)
    by_month.set_ylim(0, 110)
    by_month.set_ylabel("% on time", fontsize=13)
    by_month.set_title("By month due", fontsize=13)
    by_month.tick_params(labelsize=11)
    figure.tight_layout(rect=(0, 0, 1, 0.94))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    pyplot.close(figure)
    return out.getvalue()


def report_text(report: Report, about: str | None = None) -> str:
    return "\n\n".join("\n".join(unit_lines(u, report.start, report.end, about)) for u in report.units)


def picture(report: Report) -> dict[str, str]:
    """The report's PNG, as a reply carries it (base64, so it can wait in the ledger)."""
    return {"filename": f"timeliness-{report.start:%Y-%m}.png", "base64": base64.b64encode(report_png(report)).decode(),
            "title": f"On time, {period_words(report.start, report.end)}"}
