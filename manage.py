#!/usr/bin/env python
"""Django's command-line utility, with Kratos's `--config FILE` and `--dev` flags."""
from __future__ import annotations

import os
import sys


def _take_kratos_flags(argv: list[str]) -> list[str]:
    """Move `--config FILE`/`-c FILE` and `--dev` into the environment before Django loads settings.

    Settings read the configuration once (kratos_project.config.get_config), so the flags must be
    known before `django.setup()`; every command (migrate, serve, import_identities) honours them.
    """
    rest: list[str] = []
    args = iter(argv)
    for arg in args:
        # `-c` is only Kratos's short flag before the subcommand: after it, it is the command's own
        # (e.g. `manage.py shell -c CODE`).
        before_subcommand = len(rest) < 2
        if arg == "--config" or (arg == "-c" and before_subcommand):
            os.environ["KRATOS_CONFIG"] = next(args, "")
        elif arg.startswith("--config="):
            os.environ["KRATOS_CONFIG"] = arg.split("=", 1)[1]
        elif arg == "--dev":
            os.environ["KRATOS_DEV"] = "true"
        else:
            rest.append(arg)
    return rest


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kratos_project.settings")
    argv = _take_kratos_flags(sys.argv)
    from kratos_project.config import ConfigError

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ConfigError as error:
        sys.stderr.write(f"error: invalid configuration: {error}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
