"""`recengine hash-password`: make a password hash for the dashboard's sign-in settings."""

from __future__ import annotations

import argparse
import getpass
import sys

from recengine.access import hash_password


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "hash-password",
        help="Print a PBKDF2 hash of a password for RECENGINE_EDITOR_PASSWORD_HASH or Streamlit secrets.",
    )
    parser.add_argument("--stdin", action="store_true", help="Read the password from stdin, not a prompt.")
    parser.set_defaults(handler=run)


def run(arguments: argparse.Namespace) -> int:
    password = sys.stdin.readline().rstrip("\n") if arguments.stdin else getpass.getpass("Password: ")
    print(hash_password(password))
    return 0
