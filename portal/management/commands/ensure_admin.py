"""Create the first platform admin once and print its credentials; later runs change nothing."""

from __future__ import annotations

import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an 'admin' superuser if none exists and print its credentials."

    def handle(self, *args, **options):
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("Admin account exists; sign in at http://127.0.0.1:8000/accounts/login/")
            return
        password = os.environ.get("CALLBOARD_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        users.create_superuser("admin", "admin@localhost", password)
        note = settings.DATA_DIR / "admin-credentials.txt"
        fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"username: admin\npassword: {password}\n")
        self.stdout.write(
            self.style.SUCCESS(
                "\nCreated the platform admin account:\n"
                f"    username: admin\n    password: {password}\n"
                f"(also saved in {note}; change it after signing in)\n"
            )
        )
