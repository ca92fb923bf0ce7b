"""The `schedule` values a source accepts, and what each becomes for Airflow.

Checked when the YAML is validated, so a schedule Airflow would refuse, or one that would never
start a run, is reported with its file and field instead of surfacing as a silent DAG.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warehouse_sources.config.durations import SCHEDULE_SHORTHANDS, parse_duration

MANUAL = "manual"

# Airflow 3.3's cron presets (airflow.sdk.definitions.timetables._cron.CRON_PRESETS), plus the two
# aliases cron users know; an alias is handed to Airflow as the preset it stands for.
CRON_PRESETS: dict[str, str] = {
    "@hourly": "@hourly",
    "@daily": "@daily",
    "@midnight": "@daily",
    "@weekly": "@weekly",
    "@monthly": "@monthly",
    "@quarterly": "@quarterly",
    "@yearly": "@yearly",
    "@annually": "@yearly",
}

# Airflow schedules that are no sync frequency.
REFUSED_PRESETS: dict[str, str] = {
    "@once": "runs once when the DAG is first unpaused and never again; for a source synced only on "
    "demand write 'manual'",
    "@continuous": "starts the next run as soon as one ends, loading the source without a pause; "
    "write a frequency such as '5m' or a cron string",
}

# A cron string with no fire time within this many years never starts a run (31 February).
NEVER_FIRES_YEARS = 5

ACCEPTED = (
    f"accepted: a shorthand ({' '.join(SCHEDULE_SHORTHANDS)}), a preset ({' '.join(CRON_PRESETS)}), "
    f"'{MANUAL}' (or null) for runs triggered by hand only, or a 5-field cron string "
    "(minute hour day-of-month month day-of-week, like '0 3 * * *')"
)


def check_schedule(text: str) -> str:
    """`text` when it is an accepted schedule; else ValueError saying why and what is accepted."""
    if text in SCHEDULE_SHORTHANDS or text in CRON_PRESETS or text == MANUAL:
        return text
    if text in REFUSED_PRESETS:
        raise ValueError(f"{text!r} {REFUSED_PRESETS[text]}; {ACCEPTED}")
    if text.startswith("@"):
        raise ValueError(f"{text!r} is not a preset (presets are lower case); {ACCEPTED}")
    fields = len(text.split())
    if fields in (6, 7):
        raise ValueError(
            f"{text!r} has {fields} fields; a seconds (or year) field is not supported, write the 5 fields "
            f"minute hour day-of-month month day-of-week; {ACCEPTED}"
        )
    from croniter import CroniterError, croniter

    if fields != 5 or not croniter.is_valid(text):
        raise ValueError(f"{text!r} is neither a shorthand, a preset, '{MANUAL}' nor a valid cron string; {ACCEPTED}")
    try:
        croniter(text, datetime.now(UTC), max_years_between_matches=NEVER_FIRES_YEARS).get_next(datetime)
    except CroniterError:
        raise ValueError(
            f"{text!r} never fires: no date matches it within {NEVER_FIRES_YEARS} years (a day of the month "
            f"that the month does not have, like 31 February); fix the day or month, or write '{MANUAL}'"
        ) from None
    return text


def airflow_schedule(text: str) -> timedelta | str | None:
    """What the DAG gets: a timedelta ("every N"), None (manual only), an Airflow preset or a cron string."""
    if text in SCHEDULE_SHORTHANDS:
        return parse_duration(text)
    if text == MANUAL:
        return None
    return CRON_PRESETS.get(text, text)
