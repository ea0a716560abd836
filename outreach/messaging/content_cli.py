"""``outreach templates ...``: message templates and quiet hours from the console."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from outreach.core.cli_util import user_errors
from outreach.core.errors import UserError
from outreach.messaging import templates as service
from outreach.messaging.placeholders import PLACEHOLDER_HELP, PURPOSES
from outreach.messaging.quiet_hours_settings import clear_quiet_hours, policy_for_school, set_quiet_hours
from outreach.messaging.segments import to_gsm
from outreach.schools.services import get_school

templates_cli = AppGroup("templates", help="SMS templates (per school, per language) and quiet hours.")
school_option = click.option("--school", "urn", required=True, help="School URN.")


def _echo_preview(result: service.Preview) -> None:
    click.echo(result.text)
    click.echo(f"-- {result.encoding}, {result.segments} segment(s), {result.sms.characters} characters")
    for warning in result.warnings:
        click.echo(f"!! {warning}")


@templates_cli.command("purposes")
def purposes_command() -> None:
    """What each purpose is for and the placeholders it may use."""
    for purpose in PURPOSES.values():
        click.echo(f"{purpose.key}: {purpose.description}")
        for name in purpose.placeholders:
            click.echo(f"  {{{name}}}  {PLACEHOLDER_HELP[name]}")


@templates_cli.command("defaults")
@school_option
def defaults_command(urn: str) -> None:
    """Create the default English template for each purpose the school lacks."""
    with user_errors():
        created = service.ensure_default_templates(get_school(urn))
    click.echo(f"created {len(created)} template(s): {', '.join(t.name for t in created) or 'none needed'}")


@templates_cli.command("list")
@school_option
def list_command(urn: str) -> None:
    """Templates and their languages."""
    with user_errors():
        school = get_school(urn)
        for template in service.list_templates(school.id):
            languages = ", ".join(v.language for v in template.variants)
            click.echo(f"{template.name}  ({template.purpose}; {languages})")


@templates_cli.command("show")
@school_option
@click.argument("name")
@click.option("--language", default="en", show_default=True, help="Shows the English fallback if there is none.")
def show_command(urn: str, name: str, language: str) -> None:
    """Preview a template with sample values: encoding, segments, advice."""
    with user_errors():
        result = service.preview_template(get_school(urn), name, language)
        if result.language != service.normalise_language(language):
            click.echo(f"-- no {language} version: contacts who prefer it receive the {result.language} text below")
        _echo_preview(result)


@templates_cli.command("save")
@school_option
@click.argument("name")
@click.option("--purpose", required=True, type=click.Choice(sorted(PURPOSES)))
@click.option("--language", default="en", show_default=True)
@click.option("--body", default=None, help="The text; or use --file.")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None)
@click.option("--plain", is_flag=True, help="Replace smart quotes, dashes and ellipses with plain characters first.")
def save_command(urn: str, name: str, purpose: str, language: str, body: str | None, path: Path | None, plain: bool) -> None:
    """Create or replace one language version of a template (checked before saving)."""
    with user_errors():
        if (body is None) == (path is None):
            raise UserError("give the text with --body or --file (one of them)")
        text = body if body is not None else path.read_text(encoding="utf-8-sig")  # type: ignore[union-attr]
        text = to_gsm(text) if plain else text
        school = get_school(urn)
        variant = service.save_template(school, name=name, purpose=purpose, language=language, body=text, updated_by="cli")
        click.echo(f"saved {name} ({variant.language})")
        _echo_preview(service.preview(school, purpose, variant.body, variant.language))


@templates_cli.command("delete")
@school_option
@click.argument("name")
@click.option("--language", default=None, help="Delete only this translation.")
def delete_command(urn: str, name: str, language: str | None) -> None:
    """Delete a template, or one of its translations."""
    with user_errors():
        school = get_school(urn)
        if language:
            service.delete_variant(school, name, language)
        else:
            service.delete_template(school, name)
    click.echo("deleted")


@templates_cli.command("quiet-hours")
@school_option
@click.option("--hours", default=None, help="e.g. 20:00-08:00, or 'none'.")
@click.option("--days", default=None, help="Closed days, e.g. sun or sat,sun ('' for none).")
@click.option("--default", "use_default", is_flag=True, help="Go back to the configured default.")
def quiet_hours_command(urn: str, hours: str | None, days: str | None, use_default: bool) -> None:
    """Show or set when the school's messages may go out."""
    with user_errors():
        school = get_school(urn)
        if use_default:
            clear_quiet_hours(school)
        elif hours is not None or days is not None:
            current = policy_for_school(school.id)
            set_quiet_hours(school, hours if hours is not None else current.hours_text(),
                            days if days is not None else current.days_text(), updated_by="cli")
        click.echo(policy_for_school(school.id).describe())
