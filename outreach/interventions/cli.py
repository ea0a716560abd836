"""``outreach interventions ...`` and ``outreach referrals ...``: enough for an attendance officer
to work from a terminal until the pages exist. Thin: parse, call a service, print."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import select

from outreach.core.cli_util import date_option, user_errors
from outreach.core.errors import NotFound, UserError
from outreach.core.timeutil import LONDON, moment_for_day, to_london
from outreach.extensions import db
from outreach.interventions import jobs, letters, packs, queries, referrals, services
from outreach.interventions.vocabulary import (CONSENT_METHODS, INTERVENTION_TYPES, REFERRAL_OUTCOMES, RULES,
                                               TASK_STATUSES)
from outreach.schools.models import Pupil, School, Trust
from outreach.schools.services import get_school

interventions_cli = AppGroup("interventions", help="Log interventions, letters, rules and tasks, case timelines, impact.")
rules_cli = AppGroup("rules", help="Rules that prompt staff to act (support first).")
referrals_cli = AppGroup("referrals", help="Early-help referrals: draft, consent, submit, decision, reviews, close.")
interventions_cli.add_command(rules_cli)

school_option = click.option("--school", "urn", required=True, help="School URN.")


def _pupil(school: School, upn: str) -> Pupil:
    pupil = db.session.scalar(select(Pupil).where(Pupil.school_id == school.id, Pupil.upn == upn.strip().upper()))
    if pupil is None:
        raise NotFound(f"no pupil with UPN {upn} at this school")
    return pupil


_date = date_option


def _when(value: str | None) -> datetime | None:
    """'2024-11-12 09:30' or '2024-11-12' (midday, or now for this morning), UK time."""
    if not value:
        return None
    try:
        if len(value.strip()) == 10:
            return moment_for_day(date.fromisoformat(value.strip()))
        return datetime.fromisoformat(value.strip()).replace(tzinfo=LONDON)
    except ValueError:
        raise UserError(f"--when must be 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM' (UK time), got {value!r}") from None


def _pairs(values: tuple[str, ...], name: str) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"{name} must be key=value, got {item!r}")
        out[key.strip()] = value.strip()
    return out


def _day(moment: datetime | None) -> str:
    return "" if moment is None else to_london(moment).strftime("%Y-%m-%d %H:%M")


# --- interventions ----------------------------------------------------------------------------

@interventions_cli.command("types")
def types_command() -> None:
    """List intervention types with their rung on the statutory ladder."""
    for key, t in INTERVENTION_TYPES.items():
        click.echo(f"{key:30} stage {t.stage}  {t.label}{'  (recorded only: a legal step)' if t.legal else ''}")


@interventions_cli.command("log")
@school_option
@click.option("--type", "kind", required=True, type=click.Choice(list(INTERVENTION_TYPES)))
@click.option("--pupil", "upns", multiple=True, required=True, help="UPN; repeat for siblings.")
@click.option("--by", "recorded_by", required=True, help="Who did it / recorded it.")
@click.option("--when", default=None, help="'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD' (UK time); default now.")
@click.option("--outcome", default=None)
@click.option("--notes", default=None)
@click.option("--next-step", default=None)
@click.option("--next-step-date", default=None, help="YYYY-MM-DD")
@click.option("--detail", "details", multiple=True, help="key=value, e.g. improvement_weeks=4, decided_by='LA team'.")
def log_command(urn: str, kind: str, upns: tuple[str, ...], recorded_by: str, when: str | None, outcome: str | None,
                notes: str | None, next_step: str | None, next_step_date: str | None, details: tuple[str, ...]) -> None:
    """Record an intervention for one or more pupils."""
    with user_errors():
        school = get_school(urn)
        row = services.log_intervention(school, type=kind, pupil_ids=[_pupil(school, u).id for u in upns],
                                        recorded_by=recorded_by, occurred_at=_when(when), outcome=outcome, notes=notes,
                                        next_step=next_step, next_step_date=_date(next_step_date, "--next-step-date"),
                                        details=_pairs(details, "--detail"))
    click.echo(f"logged intervention {row.id}: {INTERVENTION_TYPES[kind].label} for {len(upns)} pupil(s)")


@interventions_cli.command("list")
@school_option
@click.option("--pupil", "upn", default=None)
@click.option("--type", "kind", default=None, type=click.Choice(list(INTERVENTION_TYPES)))
@click.option("--limit", default=50, show_default=True)
def list_command(urn: str, upn: str | None, kind: str | None, limit: int) -> None:
    """Recent interventions, newest first."""
    with user_errors():
        school = get_school(urn)
        pupil_id = _pupil(school, upn).id if upn else None
        rows = queries.list_interventions(school.id, pupil_id=pupil_id, type=kind, limit=limit)
    for r in rows:
        click.echo(f"{r.id:6}  {_day(r.occurred_at)}  {INTERVENTION_TYPES[r.type].label:28} pupils {len(r.pupil_ids)}  "
                   f"by {r.recorded_by}{'  outcome: ' + r.outcome if r.outcome else ''}"
                   f"{'  next: ' + str(r.next_step_date) if r.next_step_date else ''}")


@interventions_cli.command("outcome")
@click.argument("intervention_id", type=int)
@school_option
@click.option("--outcome", default=None)
@click.option("--next-step", default=None)
@click.option("--next-step-date", default=None)
@click.option("--notes", default=None, help="Appended to the notes.")
def outcome_command(intervention_id: int, urn: str, outcome: str | None, next_step: str | None,
                    next_step_date: str | None, notes: str | None) -> None:
    """Add an outcome, next step or notes to an intervention."""
    with user_errors():
        school = get_school(urn)
        services.record_outcome(school.id, intervention_id, outcome=outcome, next_step=next_step,
                                next_step_date=_date(next_step_date, "--next-step-date"), notes=notes)
    click.echo(f"updated intervention {intervention_id}")


@interventions_cli.command("letter")
@school_option
@click.option("--kind", required=True, type=click.Choice(list(letters.LETTERS)))
@click.option("--pupil", "upns", multiple=True, required=True, help="UPN; repeat for siblings (one letter).")
@click.option("--sender", required=True)
@click.option("--role", default=None, help="The sender's role, e.g. 'Attendance lead'.")
@click.option("--contact-id", type=int, default=None, help="Addressee (default: the first contact).")
@click.option("--value", "values", multiple=True, help="key=value: meeting_at, place, improvement_weeks, review_date, family_actions")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.html or FILE.pdf")
@click.option("--record/--preview", default=True, show_default=True, help="Log it as sent, or only write the file.")
def letter_command(urn: str, kind: str, upns: tuple[str, ...], sender: str, role: str | None, contact_id: int | None,
                   values: tuple[str, ...], out: Path, record: bool) -> None:
    """Write a letter to a family (HTML or PDF) and, unless --preview, log it."""
    with user_errors():
        if out.suffix.lower() not in (".html", ".pdf"):
            raise UserError("--out must end in .html or .pdf")
        school = get_school(urn)
        ids = [_pupil(school, u).id for u in upns]
        args: dict[str, Any] = dict(sender=sender, sender_role=role, contact_id=contact_id, values=_pairs(values, "--value"))
        if record:
            row, letter = letters.send_letter(school, kind, ids, **args)
            logged = f" and logged as intervention {row.id}"
        else:
            letter, logged = letters.render_letter(school, kind, ids, **args), ""
        out.write_bytes(letter.pdf() if out.suffix.lower() == ".pdf" else letter.html.encode("utf-8"))
    click.echo(f"wrote {out}{logged}")


@interventions_cli.command("tasks")
@school_option
@click.option("--status", default="open", type=click.Choice([*TASK_STATUSES, "all"]), show_default=True)
@click.option("--pupil", "upn", default=None)
@click.option("--rule", default=None, type=click.Choice(list(RULES)))
def tasks_command(urn: str, status: str, upn: str | None, rule: str | None) -> None:
    """Tasks the rules made, newest first (ids, UPNs and the suggested next step)."""
    with user_errors():
        school = get_school(urn)
        pupil_id = _pupil(school, upn).id if upn else None
        tasks = queries.list_tasks(school.id, status=None if status == "all" else status, pupil_id=pupil_id, rule=rule)
        upns = dict(db.session.execute(select(Pupil.id, Pupil.upn).where(Pupil.id.in_({t.pupil_id for t in tasks}))).all())
    for t in tasks:
        click.echo(f"{t.id:6}  {t.status:9} {RULES[t.rule].label:36} {upns.get(t.pupil_id, '?')}  {t.summary}")
        click.echo(f"        next step: {t.next_step}")
    click.echo(f"{len(tasks)} task(s)")


@interventions_cli.command("close-task")
@click.argument("task_id", type=int)
@school_option
@click.option("--status", required=True, type=click.Choice(["done", "dismissed"]))
@click.option("--by", required=True)
@click.option("--note", default=None, help="Required when dismissing.")
def close_task_command(task_id: int, urn: str, status: str, by: str, note: str | None) -> None:
    """Mark a task done or dismissed."""
    with user_errors():
        services.close_task(get_school(urn).id, task_id, status=status, by=by, note=note)
    click.echo(f"task {task_id} {status}")


@interventions_cli.command("reopen-task")
@click.argument("task_id", type=int)
@school_option
def reopen_task_command(task_id: int, urn: str) -> None:
    with user_errors():
        services.reopen_task(get_school(urn).id, task_id)
    click.echo(f"task {task_id} reopened")


@interventions_cli.command("timeline")
@school_option
@click.option("--pupil", "upn", required=True)
@click.option("--export", "out", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write a pack: FILE.html, .pdf, .csv or .zip (audited).")
@click.option("--by", default=None, help="Who is exporting (required with --export).")
@click.option("--purpose", default=None, help="e.g. 'early-help referral', 'targeting meeting'.")
def timeline_command(urn: str, upn: str, out: Path | None, by: str | None, purpose: str | None) -> None:
    """A pupil's case timeline; with --export, a pack for a referral or targeting meeting."""
    with user_errors():
        school = get_school(urn)
        pupil = _pupil(school, upn)
        if out is not None:
            file = packs.case_pack(school, pupil.id, out.suffix.lower().lstrip("."), requested_by=by or "",
                                   purpose=purpose, audit=packs.log_only_audit)
            out.write_bytes(file.content)
            click.echo(f"wrote {out}")
            return
        events = queries.case_timeline(school.id, pupil.id)
    for e in events:
        click.echo(f"{_day(e.at)}  {e.kind:12} {e.title}{'  by ' + e.by if e.by else ''}")
        if e.detail:
            click.echo(f"{'':30}{e.detail}")
    click.echo(f"{len(events)} event(s)")


@interventions_cli.command("impact")
@click.option("--school", "urns", multiple=True, help="School URN (repeat); or --trust.")
@click.option("--trust", default=None, help="Every school of this trust, with a pooled row.")
@click.option("--type", "kinds", multiple=True, type=click.Choice(list(INTERVENTION_TYPES)))
@click.option("--weeks", default=6, show_default=True, help="School weeks before and since each pupil's first intervention.")
def impact_command(urns: tuple[str, ...], trust: str | None, kinds: tuple[str, ...], weeks: int) -> None:
    """What works here: attendance before vs since each type of intervention, against similar pupils."""
    with user_errors():
        if trust:
            row = db.session.scalar(select(Trust).where(Trust.name == trust))
            if row is None:
                raise NotFound(f"no trust called {trust!r}")
            ids = list(db.session.scalars(select(School.id).where(School.trust_id == row.id).order_by(School.id)))
        elif urns:
            ids = [get_school(u).id for u in urns]
        else:
            raise UserError("give --school URN (one or more) or --trust NAME")
        rows = queries.intervention_impact(ids, weeks=weeks, types=list(kinds) or None)
    for r in rows:
        click.echo(f"{r.school_name:30} {r.label:28} {r.result.summary}")
        for note in r.result.notes:
            click.echo(f"{'':60}{note}")
    if not rows:
        click.echo("no interventions of these types recorded")


@rules_cli.command("evaluate")
@click.option("--school", "urn", default=None, help="School URN; every school when omitted.")
@click.option("--as-of", default=None, help="YYYY-MM-DD (default today, UK).")
def evaluate_command(urn: str | None, as_of: str | None) -> None:
    """Run the rules now and print the tasks made."""
    with user_errors():
        if urn is None:
            if as_of:
                raise UserError("--as-of needs --school")
            created = jobs.evaluate_all()
            click.echo(f"{sum(created.values())} task(s) created across {len(created)} school(s)")
            return
        school = get_school(urn)
        result = services.evaluate_rules(school, _date(as_of, "--as-of"))
    counts = result.counts_by_rule()
    click.echo(f"{result.as_of}: {result.pupils} pupils on roll, {result.findings} finding(s), "
               f"{len(result.created)} new task(s), {len(result.messages)} parent text(s) proposed")
    for rule, n in sorted(counts.items()):
        click.echo(f"  {RULES[rule].label}: {n}")


@rules_cli.command("settings")
@school_option
@click.argument("changes", nargs=-1)
@click.option("--by", default="cli", show_default=True)
def settings_command(urn: str, changes: tuple[str, ...], by: str) -> None:
    """Show the school's rule settings, or change them: ... settings --school URN penalty_sessions=10 monday_friday=off"""
    with user_errors():
        school = get_school(urn)
        row = services.update_rule_settings(school, _pairs(changes, "a setting"), by) if changes else services.rule_settings(school.id)
        config = services.RuleConfig.from_object(row)
    for name in config.__dataclass_fields__:
        click.echo(f"{name:28} {getattr(config, name)}")


# --- referrals --------------------------------------------------------------------------------

def _show(referral: Any) -> None:
    click.echo(f"referral {referral.id}: {referral.status}  (pupil id {referral.pupil_id}, by {referral.created_by})")
    if referral.consent_given is not None:
        click.echo(f"  consent {'given' if referral.consent_given else 'refused'} by {referral.consent_by} "
                   f"({referral.consent_method}) {_day(referral.consent_at)}")
    if referral.lead_practitioner:
        click.echo(f"  lead practitioner: {referral.lead_practitioner}")
    for r in referral.reviews:
        click.echo(f"  review {r.id}: {r.due_date} {r.status}")
    for e in referral.events:
        click.echo(f"  {_day(e.at)}  {e.action}{' - ' + e.note if e.note else ''}  ({e.by})")


@referrals_cli.command("draft")
@school_option
@click.option("--pupil", "upn", required=True)
@click.option("--by", required=True)
@click.option("--reason", required=True)
@click.option("--officer", default=None, help="Who review reminders go to (default --by).")
def draft_command(urn: str, upn: str, by: str, reason: str, officer: str | None) -> None:
    """Draft a referral, pre-filled with attendance, interventions and contacts."""
    with user_errors():
        school = get_school(urn)
        referral = referrals.draft_referral(school, _pupil(school, upn).id, reason=reason, created_by=by, officer=officer)
    a = referral.prefill["attendance"]
    click.echo(f"drafted referral {referral.id}: {a['days_missed']} missed this year, "
               f"{len(referral.prefill['interventions'])} intervention(s), {len(referral.prefill['contacts'])} contact(s)")


@referrals_cli.command("consent")
@click.argument("referral_id", type=int)
@school_option
@click.option("--given/--refused", required=True)
@click.option("--by-whom", required=True, help="Who gave or refused consent.")
@click.option("--method", required=True, type=click.Choice(list(CONSENT_METHODS)))
@click.option("--recorded-by", required=True)
@click.option("--at", "when", default=None, help="When (UK time); default now.")
def consent_command(referral_id: int, urn: str, given: bool, by_whom: str, method: str, recorded_by: str,
                    when: str | None) -> None:
    with user_errors():
        referrals.record_consent(get_school(urn).id, referral_id, given=given, by_whom=by_whom, method=method,
                                 recorded_by=recorded_by, at=_when(when))
    click.echo(f"consent {'given' if given else 'refused'} recorded on referral {referral_id}")


@referrals_cli.command("submit")
@click.argument("referral_id", type=int)
@school_option
@click.option("--by", required=True)
@click.option("--to", "to", required=True, help="The service, e.g. 'County early help hub'.")
def submit_command(referral_id: int, urn: str, by: str, to: str) -> None:
    with user_errors():
        referrals.submit(get_school(urn).id, referral_id, by=by, to=to)
    click.echo(f"referral {referral_id} submitted to {to}")


@referrals_cli.command("decide")
@click.argument("referral_id", type=int)
@school_option
@click.option("--accepted/--declined", required=True)
@click.option("--by", required=True)
@click.option("--note", default=None)
@click.option("--lead", default=None, help="Lead practitioner (required when accepted).")
@click.option("--lead-contact", default=None)
@click.option("--first-review", default=None, help="YYYY-MM-DD (default six weeks on).")
def decide_command(referral_id: int, urn: str, accepted: bool, by: str, note: str | None, lead: str | None,
                   lead_contact: str | None, first_review: str | None) -> None:
    with user_errors():
        referral = referrals.decide(get_school(urn).id, referral_id, accepted=accepted, by=by, note=note,
                                    lead_practitioner=lead, lead_practitioner_contact=lead_contact,
                                    first_review=_date(first_review, "--first-review"))
    click.echo(f"referral {referral_id} {referral.status}"
               + (f"; first review {referral.reviews[0].due_date}" if referral.reviews else ""))


@referrals_cli.command("review")
@click.argument("referral_id", type=int)
@school_option
@click.option("--date", "due", required=True, help="YYYY-MM-DD")
@click.option("--by", required=True)
def review_command(referral_id: int, urn: str, due: str, by: str) -> None:
    """Schedule a review date."""
    with user_errors():
        review = referrals.schedule_review(get_school(urn).id, referral_id, _date(due, "--date"), by=by)  # type: ignore[arg-type]
    click.echo(f"review {review.id} scheduled for {review.due_date}")


@referrals_cli.command("review-done")
@click.argument("review_id", type=int)
@school_option
@click.option("--by", required=True)
@click.option("--notes", default=None)
@click.option("--next", "next_review", default=None, help="Next review date, YYYY-MM-DD.")
def review_done_command(review_id: int, urn: str, by: str, notes: str | None, next_review: str | None) -> None:
    with user_errors():
        referrals.complete_review(get_school(urn).id, review_id, by=by, notes=notes,
                                  next_review=_date(next_review, "--next"))
    click.echo(f"review {review_id} recorded")


@referrals_cli.command("close")
@click.argument("referral_id", type=int)
@school_option
@click.option("--by", required=True)
@click.option("--outcome", required=True, type=click.Choice(list(REFERRAL_OUTCOMES)))
@click.option("--notes", default=None)
def close_command(referral_id: int, urn: str, by: str, outcome: str, notes: str | None) -> None:
    with user_errors():
        referrals.close(get_school(urn).id, referral_id, by=by, outcome=outcome, notes=notes)
    click.echo(f"referral {referral_id} closed: {outcome}")


@referrals_cli.command("withdraw")
@click.argument("referral_id", type=int)
@school_option
@click.option("--by", required=True)
@click.option("--reason", required=True)
def withdraw_command(referral_id: int, urn: str, by: str, reason: str) -> None:
    with user_errors():
        referrals.withdraw(get_school(urn).id, referral_id, by=by, reason=reason)
    click.echo(f"referral {referral_id} withdrawn")


@referrals_cli.command("list")
@school_option
@click.option("--status", default=None)
def referrals_list_command(urn: str, status: str | None) -> None:
    with user_errors():
        rows = referrals.list_referrals(get_school(urn).id, status=status)
    for r in rows:
        click.echo(f"{r.id:6}  {r.status:10} pupil {r.pupil_id:<6} {_day(r.created_at)}  by {r.created_by}")
    click.echo(f"{len(rows)} referral(s)")


@referrals_cli.command("show")
@click.argument("referral_id", type=int)
@school_option
def show_command(referral_id: int, urn: str) -> None:
    with user_errors():
        referral = referrals.get_referral(get_school(urn).id, referral_id)
        _show(referral)


@referrals_cli.command("export")
@click.argument("referral_id", type=int)
@school_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.html or FILE.pdf")
@click.option("--by", required=True)
def export_command(referral_id: int, urn: str, out: Path, by: str) -> None:
    """Write the referral pack (audited)."""
    with user_errors():
        file = packs.referral_pack(get_school(urn), referral_id, out.suffix.lower().lstrip("."), requested_by=by,
                                   audit=packs.log_only_audit)
        out.write_bytes(file.content)
    click.echo(f"wrote {out}")


@referrals_cli.command("reminders")
def reminders_command() -> None:
    """Create reminder tasks for reviews coming due (what the clock runs each morning)."""
    click.echo(f"{jobs.due_referral_reviews()} reminder task(s) created")
