"""Write docs/cli.md from the commands' own --help, so the manual cannot drift from the code.

Run ``make docs`` (``.venv/bin/python docs/cli_reference.py``); ``tests/test_docs.py`` fails
when docs/cli.md differs from what this prints.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from iqtibas.cli import cli

OUTPUT = Path(__file__).with_name("cli.md")
# Help text is wrapped to the terminal's width; a fixed one keeps the file the same everywhere.
WIDTH = 100


def commands(group: click.Group, path: tuple[str, ...] = ()):
    """Every command's path, the group first, in the order `--help` lists them."""
    yield path
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


def cli_markdown() -> str:
    runner = CliRunner()
    parts = ["# The `iqtibas` command", "", "Generated from each command's `--help` by `make docs`.", ""]
    for path in commands(cli):
        result = runner.invoke(cli, [*path, "--help"], prog_name="iqtibas", terminal_width=WIDTH,
                               env={"COLUMNS": str(WIDTH)})
        parts += [f"## iqtibas {' '.join(path)}".rstrip(), "", "```", result.output.rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    OUTPUT.write_text(cli_markdown(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
