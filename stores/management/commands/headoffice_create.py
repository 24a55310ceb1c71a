"""`manage.py headoffice_create`: the first head-office account, with a password shown once.

What `make prod` runs instead of any demo data. Does nothing when a head-office account exists
already, so it is safe to repeat. The password is generated here and printed this once, never
stored in clear anywhere; or read from standard input with `--password-stdin`.
"""

from __future__ import annotations

import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from stores.models import StaffAssignment, StaffRole
from stores.services import staff_assign


class Command(BaseCommand):
    help = "Create the first head-office account (password generated and shown once)."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="headoffice")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of generating one.",
        )

    def handle(self, *args, **opts):
        if StaffAssignment.objects.filter(role=StaffRole.HEAD_OFFICE).exists():
            self.stdout.write("A head-office account exists already; nothing created.")
            return
        username = opts["username"].strip()
        User = get_user_model()
        if opts["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = secrets.token_urlsafe(18)
        user = User(username=username, is_staff=True, is_superuser=True)
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        with transaction.atomic():
            if User.objects.filter(username=username).exists():
                raise CommandError(f"A user named {username!r} exists already; pick another.")
            user.set_password(password)
            user.save()
            staff_assign(user=user, role=StaffRole.HEAD_OFFICE)
        self.stdout.write(f"Head-office account created: {username}")
        if not opts["password_stdin"]:
            self.stdout.write(
                f"Password (shown this once; sign in and change it): {password}", ending="\n"
            )
