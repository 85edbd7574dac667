"""Entry point of the test IdP process: migrate, create the client and the people, serve until stopped."""

from __future__ import annotations

import django
from django.conf import settings


def setup() -> None:
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    config = settings.CONFIG
    Application.objects.update_or_create(
        client_id=config["client_id"],
        defaults={
            "name": "Callboard",
            "client_secret": config["client_secret"],
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "redirect_uris": " ".join(config["redirect_uris"]),
            "algorithm": Application.RS256_ALGORITHM,
            "skip_authorization": True,
        },
    )
    for spec in config["users"]:
        user, _ = User.objects.get_or_create(username=spec["username"])
        user.email, user.first_name = spec["email"], spec["first_name"]
        user.set_password(spec["password"])
        user.save()
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in spec["groups"]])


def serve(fd: int) -> None:
    """Django's development server (threaded) on the listening socket ``run_provider`` handed down."""
    import socket

    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler, get_internal_wsgi_application

    sock = socket.socket(fileno=fd)
    server = ThreadedWSGIServer(sock.getsockname(), WSGIRequestHandler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_name, server.server_port = settings.CONFIG["host"], sock.getsockname()[1]
    server.setup_environ()
    server.set_app(get_internal_wsgi_application())
    server.serve_forever()


def main() -> None:
    django.setup()
    setup()
    serve(settings.CONFIG["fd"])


if __name__ == "__main__":
    main()
