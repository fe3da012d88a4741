"""The plugin author's commands: `harvester new` (a plugin package to start from) and
`harvester check` (the conformance checks against an installed plugin).

They are the core's, not a plugin's: they must work whichever plugins are installed or allowed
(a plugin's CI may set `HARVESTER_PLUGINS` to its own name alone). Their work is imported when
they run, so that the command line starts as fast with them as without.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .errors import EXIT_FATAL, EXIT_OK


@click.command()
@click.argument("plugins", nargs=-1, required=True)
@click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An option for every plugin checked, over its declared ones (e.g. a database URL).",
)
@click.option(
    "--update-expected",
    is_flag=True,
    help="Rewrite the expected records from what the plugin does now, showing each change.",
)
@click.option("--only", multiple=True, metavar="CHECK", help="Run only this check (repeatable).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=300,
    show_default=True,
    help="Seconds a check may take; past them it fails (a plugin that never returns).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON.")
@click.pass_context
def check(
    ctx: click.Context,
    plugins: tuple[str, ...],
    options: tuple[str, ...],
    update_expected: bool,
    only: tuple[str, ...],
    timeout: float,
    as_json: bool,
) -> None:
    """Run the conformance checks against installed PLUGINS: an entry-point name (every source
    and sink the plugin registers) or a source or sink name. Prints, per check, what was expected
    and what happened.

    Exit status: 0 every check passed (or does not apply); 1 a check failed; 2 a usage error (no
    such plugin, a bad declaration, a missing --option).
    """
    import json
    import logging

    from .checks.runner import check_class, find_classes
    from .config import apply_override

    raw: dict = {}
    for item in options:
        apply_override(raw, item, file="--option")
    classes: list[tuple[type, str | None]] = []
    for name in plugins:
        classes += [c for c in find_classes(name) if c not in classes]
    verbose = (ctx.find_root().params.get("verbose") or 0) > 0
    if not verbose:  # the checks fail targets on purpose: their log lines are noise
        logging.getLogger("harvester").setLevel(logging.CRITICAL + 1)
    reports = []
    for cls, plugin in classes:
        reports.append(
            check_class(
                cls, options=raw, update_expected=update_expected, plugin=plugin,
                only=list(only), timeout=timeout,
            )
        )  # fmt: skip
        if reports[-1].stuck:
            break  # its thread still runs: check nothing more in this process
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        click.echo("\n\n".join(r.text() for r in reports))
        failed = [f"{r.kind} {r.name!r}: {', '.join(r.failed)}" for r in reports if not r.ok]
        click.echo("\nharvester check: " + ("; ".join(failed) + " FAILED" if failed else "ok"))
    status = EXIT_OK if all(r.ok for r in reports) else EXIT_FATAL
    if any(r.stuck for r in reports):  # a check's thread never returned: do not wait for it
        sys.stdout.flush()
        os._exit(status)
    sys.exit(status)


@click.command()
@click.argument("kind", type=click.Choice(["source", "sink"]))
@click.argument("name")
@click.option(
    "--dir",
    "where",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to make the package folder (default: ./NAME).",
)
def new(kind: str, name: str, where: Path | None) -> None:
    """Make a plugin package for a new source or sink called NAME: pyproject.toml with its entry
    point, the plugin module with typed options, a fixture and its expected records, a test
    file using the kit, a README. It installs (`pip install -e NAME`) and passes `harvester
    check NAME` as it is."""
    from .scaffold import make_plugin

    folder = make_plugin(kind, name, where or Path(name))
    click.echo(f"{folder}: a {kind} plugin {name!r}; next:")
    click.echo(f"  pip install -e {folder}")
    click.echo(f"  harvester check {name}")
