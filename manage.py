#!/usr/bin/env python
import os
import sys

from hub.local_setup import local_environment


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    # The data directory and key `make run` uses, so README's commands work in any shell.
    local_environment(record=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
