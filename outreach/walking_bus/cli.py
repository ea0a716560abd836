"""``outreach walking-bus ...``: routes, stops, places, ambassadors and the rota from a terminal,
plus the clock's jobs by hand. Thin: parse, call a service, print (never pupil names in logs;
the terminal is the officer's own screen)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import click
from flask.cli import AppGroup
from sqlalchemy import select

from outreach.core.cli_util import date_option, user_errors
from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import london_today, week_start
from outreach.extensions import db
from outreach.schools.models import Contact, Pupil
from outreach.schools.services import get_school
from outreach.walking_bus import jobs, queries, services
from outreach.walking_bus.models import CONSENT_METHODS
from outreach.walking_bus.times import days_label, parse_days

walking_bus_cli = AppGroup("walking-bus", help="Walking buses: routes, stops, places, ambassadors, rota, texts.")
rota_cli = AppGroup("rota", help="Generate or show a week's rota.")
walking_bus_cli.add_command(rota_cli)
school_option = click.option("--school", "urn", required=True, help="School URN.")


def _date(value: str | None, name: str) -> date | None:
    return date_option(value, f"--{name}")


def _time(value: str, name: str) -> time:
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise UserError(f"--{name} must be a time like 08:40, got {value!r}") from None


def _now(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--now must be an ISO time like 2026-03-01T18:00:00+00:00, got {value!r}") from None
    if moment.tzinfo is None:
        raise UserError("--now needs a time zone, e.g. +00:00")
    return moment.astimezone(timezone.utc)


@walking_bus_cli.command("routes")
@school_option
def routes_command(urn: str) -> None:
    """List the school's routes with stops and pickup times."""
    with user_errors():
        school = get_school(urn)
        for route in queries.routes(school.id):
            s = queries.route_summary(route, london_today())
            click.echo(f"{route.id}\t{route.name}\t{days_label(s['days'])}\tarrives {route.arrival_time:%H:%M}\t"
                       f"{s['children']}/{route.max_children} children\t{s['adults_needed']} adults needed")
            for stop in s["stops"]:
                click.echo(f"\t{stop.position}. {stop.name} {stop.pickup:%H:%M} (stop id {stop.id})")


@walking_bus_cli.command("create-route")
@school_option
@click.option("--name", required=True)
@click.option("--days", default="mon,tue,wed,thu,fri", show_default=True)
@click.option("--start", required=True, help="YYYY-MM-DD")
@click.option("--end", default=None, help="YYYY-MM-DD")
@click.option("--arrival", required=True, help="Arrival at school, e.g. 08:40")
@click.option("--max-children", default=18, show_default=True)
@click.option("--per-adult", default=6, show_default=True, help="Children per adult.")
@click.option("--min-adults", default=2, show_default=True)
def create_route_command(urn: str, name: str, days: str, start: str, end: str | None, arrival: str, max_children: int,
                         per_adult: int, min_adults: int) -> None:
    with user_errors():
        route = services.create_route(get_school(urn), name=name, days=days, start_date=_date(start, "start"),
                                      end_date=_date(end, "end"), arrival_time=_time(arrival, "arrival"),
                                      max_children=max_children, children_per_adult=per_adult, min_adults=min_adults,
                                      created_by="cli")
        click.echo(f"route {route.id} created: {route.name}")


@walking_bus_cli.command("add-stop")
@school_option
@click.option("--route", "route_id", required=True, type=int)
@click.option("--name", required=True)
@click.option("--minutes", required=True, type=int, help="Walking minutes to the next stop (last stop: to school).")
@click.option("--description", default=None)
@click.option("--position", default=None, type=int, help="1 = first; default last.")
def add_stop_command(urn: str, route_id: int, name: str, minutes: int, description: str | None, position: int | None) -> None:
    with user_errors():
        school = get_school(urn)
        stop = services.add_stop(school, route_id, name=name, minutes_to_next=minutes, description=description,
                                 position=position)
        times = {s.id: s.pickup for s in queries.stop_times(services.get_route(school.id, route_id))}
        click.echo(f"stop {stop.id} added: {stop.name}, pickup {times[stop.id]:%H:%M}")


@walking_bus_cli.command("enrol")
@school_option
@click.option("--route", "route_id", required=True, type=int)
@click.option("--pupil", "upn", required=True, help="UPN")
@click.option("--stop", "stop_id", required=True, type=int)
@click.option("--start", required=True, help="First day, YYYY-MM-DD")
@click.option("--consent-by", required=True, help="The parent or carer who consented.")
@click.option("--consent-method", required=True, type=click.Choice(CONSENT_METHODS))
@click.option("--notify-arrival/--no-notify-arrival", default=False, help="Text the parent when the child arrives.")
def enrol_command(urn: str, route_id: int, upn: str, stop_id: int, start: str, consent_by: str, consent_method: str,
                  notify_arrival: bool) -> None:
    with user_errors():
        school = get_school(urn)
        pupil = db.session.scalar(select(Pupil).where(Pupil.school_id == school.id, Pupil.upn == upn.strip().upper()))
        if pupil is None:
            raise NotFound(f"no pupil with UPN {upn} at this school")
        row = services.enrol(school, route_id, pupil_id=pupil.id, stop_id=stop_id, start_date=_date(start, "start"),
                             consent_by=consent_by, consent_method=consent_method, notify_arrival=notify_arrival,
                             created_by="cli")
        click.echo(f"place {row.id} from {row.start_date:%d %b %Y}")


@walking_bus_cli.command("add-ambassador")
@school_option
@click.option("--phone", required=True, help="The contact's phone number, as held by the school.")
@click.option("--days", required=True, help="Usual days, e.g. mon,wed,fri")
@click.option("--prefer", "preferred", multiple=True, type=int, help="Preferred route id; repeat.")
def add_ambassador_command(urn: str, phone: str, days: str, preferred: tuple[int, ...]) -> None:
    with user_errors():
        school = get_school(urn)
        contact = db.session.scalar(select(Contact).where(Contact.school_id == school.id, Contact.phone == phone.strip())
                                    .order_by(Contact.id))
        if contact is None:
            raise NotFound("no contact with that phone number at this school")
        amb = services.add_ambassador(school, contact_id=contact.id, days=days, preferred_route_ids=preferred)
        click.echo(f"ambassador {amb.id}: {days_label(parse_days(amb.days))}")


@rota_cli.command("generate")
@school_option
@click.option("--week", default=None, help="Any date in the week (default: next week).")
@click.option("--replace", is_flag=True, help="Start again, keeping only hand-made assignments.")
def rota_generate_command(urn: str, week: str | None, replace: bool) -> None:
    with user_errors():
        school = get_school(urn)
        chosen = _date(week, "week")
        monday = week_start(chosen) if chosen else week_start(london_today()) + timedelta(days=7)
        result = services.generate_rota(school, monday, by="cli", replace=replace)
        click.echo(f"rota for the week of {monday:%d %b %Y}: version {result.week.version}, "
                   f"{'changed' if result.changed else 'unchanged'}")
        for gap in result.gaps:
            click.echo(f"GAP route {gap.route_id} {gap.day:%a %d %b}: short by {gap.short} ({gap.assigned} of {gap.needed})")


@rota_cli.command("show")
@school_option
@click.option("--week", default=None, help="Any date in the week (default: this week).")
def rota_show_command(urn: str, week: str | None) -> None:
    with user_errors():
        school = get_school(urn)
        cal = queries.week_calendar(school.id, week_start(_date(week, "week") or london_today()))
        click.echo(f"week of {cal.monday:%d %b %Y}" + ("" if cal.version is not None else " (not generated)"))
        for route, cells in cal.rows:
            click.echo(route.name)
            for c in cells:
                if not c.runs:
                    continue
                people = ", ".join(p["name"] for p in c.people) or "nobody"
                flag = f"  SHORT BY {c.short}" if c.short else ""
                click.echo(f"  {c.day:%a %d %b}: {people} ({len(c.people)} of {c.needed}; {c.children} children){flag}")


@walking_bus_cli.command("send-schedules")
@click.option("--now", default=None, help="Pretend it is this time (ISO, with zone).")
def send_schedules_command(now: str | None) -> None:
    """Enqueue any weekly schedules that are due (what the clock does)."""
    with user_errors():
        click.echo(f"{jobs.send_weekly_schedules(_now(now))} schedule texts enqueued")


@walking_bus_cli.command("send-reminders")
@click.option("--now", default=None, help="Pretend it is this time (ISO, with zone).")
def send_reminders_command(now: str | None) -> None:
    """Enqueue any evening-before reminders that are due (what the clock does)."""
    with user_errors():
        click.echo(f"{jobs.send_reminders(_now(now))} reminder texts enqueued")
