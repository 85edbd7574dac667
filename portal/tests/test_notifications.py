"""Notifications: the inbox, mutes, the admin's targets (secret, checked URLs) and external delivery through
apprise to a real local HTTP server (json:// and form://) and a real local SMTP server."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from aiosmtpd.controller import Controller
from celery.exceptions import Retry
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from portal.models import AuditEvent, Notification, NotificationDelivery, NotificationMute, NotificationTarget
from portal.notifications import notify, register_category, unread_count
from portal.notifications.delivery import UnsafeUrl, check_url
from portal.tasks import deliver_notification
from portal.testing.celery import wait_until, worker_process
from portal.testing.httpserver import serve_http

pytestmark = pytest.mark.django_db

CATEGORY = "tests.something-happened"
register_category(CATEGORY, "Something happened (tests)")


def person(name: str, **fields):
    return get_user_model().objects.create_user(name, f"{name}@example.com", "pw-12345-long", **fields)


@pytest.fixture
def local_hosts(settings):
    settings.NOTIFICATIONS_PRIVATE_HOSTS = ["127.0.0.1"]
    return settings


class Hook(BaseHTTPRequestHandler):
    """A webhook receiver: records each POST (content type and body); answers ``status`` (500 to refuse)."""

    received: list[tuple[str, bytes]] = []
    status = 200
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            type(self).received.append((self.headers.get("Content-Type", ""), body))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    Hook.received, Hook.status = [], 200
    with serve_http(Hook) as url:
        yield url


def test_notify_fills_inboxes_respects_mutes_and_counts(django_assert_max_num_queries):
    pat, sam, gone = person("pat"), person("sam"), person("gone", is_active=False)
    NotificationMute.objects.create(user=sam, category=CATEGORY)
    with django_assert_max_num_queries(4):
        created = notify([pat, sam, gone, pat], category=CATEGORY, title="Checkout dropped", body="Why", url="/x/")
    assert created == 1
    row = Notification.objects.get()
    assert (row.user, row.title, row.body, row.url, row.read_at) == (pat, "Checkout dropped", "Why", "/x/", None)
    assert unread_count(pat) == 1 and unread_count(sam) == 0


def test_an_unregistered_category_is_refused():
    with pytest.raises(ValueError, match="Unknown notification category 'nope'"):
        notify([person("pat")], category="nope", title="x")


def test_the_inbox_marks_read_one_and_all_and_shows_only_your_own(client):
    pat, sam = person("pat"), person("sam")
    for title in ("First", "Second"):
        notify([pat], category=CATEGORY, title=title)
    notify([sam], category=CATEGORY, title="Sam's")
    client.force_login(pat)
    page = client.get("/notifications/").content.decode()
    assert "First" in page and "Second" in page and "Sam's" not in page
    assert client.get("/notifications/badge/").content.decode().count(">2<") == 1
    first = Notification.objects.get(title="First")
    response = client.post(f"/notifications/{first.pk}/read/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'hx-swap-oob="true"' in response.content.decode()
    assert unread_count(pat) == 1
    theirs = Notification.objects.get(title="Sam's")
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post("/notifications/read-all/").status_code == 302
    assert unread_count(pat) == 0 and unread_count(sam) == 1
    assert "Nothing unread." in client.get("/notifications/?show=unread").content.decode()


def test_the_settings_page_mutes_and_unmutes_categories(client):
    pat = person("pat")
    client.force_login(pat)
    assert "Something happened (tests)" in client.get("/notifications/settings/").content.decode()
    client.post("/notifications/settings/", {"muted": [CATEGORY, "not-a-category"]})
    assert list(NotificationMute.objects.values_list("category", flat=True)) == [CATEGORY]
    assert notify([pat], category=CATEGORY, title="x") == 0
    client.post("/notifications/settings/", {})
    assert not NotificationMute.objects.exists() and notify([pat], category=CATEGORY, title="x") == 1


def test_urls_are_checked_scheme_and_host(settings):
    with pytest.raises(UnsafeUrl, match="the scheme file:// is not allowed"):
        check_url("file:///etc/passwd")
    with pytest.raises(UnsafeUrl, match="not a URL"):
        check_url("hooks.example.com")
    with pytest.raises(UnsafeUrl, match=r"resolves to a non-public address \(127.0.0.1\)"):
        check_url("json://127.0.0.1:9/hook")
    with pytest.raises(UnsafeUrl, match="non-public address"):
        check_url("form://169.254.169.254/latest/meta-data")  # the cloud metadata service
    settings.NOTIFICATIONS_PRIVATE_HOSTS = ["127.0.0.1"]
    assert check_url("json://127.0.0.1:9/hook") == "json://127.0.0.1:9/hook"
    settings.NOTIFICATIONS_ALLOWED_SCHEMES = ["mailtos"]
    with pytest.raises(UnsafeUrl, match="the scheme json:// is not allowed"):
        check_url("json://127.0.0.1:9/hook")


def test_the_admin_keeps_the_url_secret(client, admin_user, local_hosts):
    client.force_login(admin_user)
    refused = client.post("/admin/portal/notificationtarget/add/",
                          {"name": "meta", "url": "json://169.254.169.254/x", "enabled": "on"})  # fmt: skip
    assert refused.status_code == 200 and "non-public address" in refused.content.decode()
    secret = "json://127.0.0.1:9/hook?token=s3cr3t"
    response = client.post("/admin/portal/notificationtarget/add/", {"name": "chat", "url": secret, "enabled": "on"})
    assert response.status_code == 302
    target = NotificationTarget.objects.get()
    assert target.url == secret
    listing = client.get("/admin/portal/notificationtarget/").content.decode()
    change = client.get(f"/admin/portal/notificationtarget/{target.pk}/change/").content.decode()
    assert "s3cr3t" not in listing and "json://••••••" in listing and "s3cr3t" not in change
    client.post(f"/admin/portal/notificationtarget/{target.pk}/change/", {"name": "chat2", "url": "", "enabled": "on"})
    target.refresh_from_db()
    assert (target.name, target.url) == ("chat2", secret)  # blank keeps the stored secret
    events = AuditEvent.objects.filter(action__startswith="notifications.target")
    assert events.exists() and not any("s3cr3t" in json.dumps(e.changes) for e in events)


def test_a_target_model_refuses_other_schemes():
    with pytest.raises(ValidationError, match="not allowed"):
        NotificationTarget(name="x", url="file:///etc/passwd").full_clean()


def test_targets_receive_notifications_through_apprise_after_commit(hook, local_hosts,
                                                                   django_capture_on_commit_callbacks):  # fmt: skip
    port = hook.rsplit(":", 1)[1]
    NotificationTarget.objects.create(name="chat", url=f"json://127.0.0.1:{port}/hook")
    NotificationTarget.objects.create(name="form", url=f"form://127.0.0.1:{port}/form", categories=[CATEGORY])
    NotificationTarget.objects.create(name="elsewhere", url=f"json://127.0.0.1:{port}/x", categories=["other"])
    NotificationTarget.objects.create(name="off", url=f"json://127.0.0.1:{port}/off", enabled=False)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([person("pat")], category=CATEGORY, title="Checkout dropped", body="To Bronze", url="/catalog/x/")
    assert Hook.received == []  # nothing is sent before the transaction commits
    for callback in callbacks:
        callback()
    kinds = sorted(content_type.split(";")[0] for content_type, _ in Hook.received)
    assert kinds == ["application/json", "multipart/form-data"] or kinds == [
        "application/json", "application/x-www-form-urlencoded"]  # fmt: skip
    posted = next(json.loads(body) for content_type, body in Hook.received if "json" in content_type)
    assert posted["title"] == "Checkout dropped"
    assert posted["message"] == "To Bronze\n\nhttp://127.0.0.1:8000/catalog/x/"
    assert set(NotificationDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_a_refusing_service_is_recorded_and_retried(hook, local_hosts, django_capture_on_commit_callbacks):
    Hook.status = 500
    port = hook.rsplit(":", 1)[1]
    NotificationTarget.objects.create(name="chat", url=f"json://127.0.0.1:{port}/hook")
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):  # eager: the retry is raised
        notify([person("pat")], category=CATEGORY, title="x")
    row = NotificationDelivery.objects.get()
    assert row.status == "pending" and row.attempts == 1 and "apprise reported a failure" in row.last_error
    Hook.status = 200
    assert deliver_notification.delay(row.pk).get() == "sent"  # the retry, run now
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert deliver_notification.delay(row.pk).get() == "skipped"  # a repeat delivery never sends twice


class Flaky(Hook):
    """Refuses the first two posts, accepts the rest."""

    def do_POST(self):
        type(self).status = 500 if len(type(self).received) < 2 else 200
        super().do_POST()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_until_the_service_accepts_then_gives_up_on_another():
    Flaky.received, Flaky.status = [], 500
    with serve_http(Flaky) as url:
        port = url.rsplit(":", 1)[1]
        NotificationTarget.objects.create(name="flaky", url=f"json://127.0.0.1:{port}/hook")
        env = {"NOTIFICATIONS_PRIVATE_HOSTS": "127.0.0.1", "NOTIFICATIONS_RETRY_DELAY": "0",
               "NOTIFICATIONS_MAX_RETRIES": "3", "CALLBOARD_TEST_EAGER": "0"}  # fmt: skip
        with worker_process(env, pool="solo", quiet=True) as worker:
            notify([person("pat")], category=CATEGORY, title="Checkout dropped")
            done = NotificationDelivery.objects.exclude(status="pending")
            try:
                row = wait_until(done.first, 60, "a delivery")
            except AssertionError:
                raise AssertionError(worker.log()[-3000:]) from None
            NotificationTarget.objects.update(url="json://127.0.0.1:9/closed")  # nothing listens on port 9
            notify([person("sam")], category=CATEGORY, title="Another")
            failed = wait_until(lambda: NotificationDelivery.objects.filter(status="failed").first(), 60, "a give-up")
    assert (row.status, row.attempts) == ("sent", 3) and len(Flaky.received) == 3
    assert failed.attempts == 4 and failed.last_error  # the first try and three retries


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 OK"


def test_each_person_gets_an_email_through_a_real_smtp_server(local_hosts, django_capture_on_commit_callbacks):
    mailbox = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks that it started by connecting to it)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        local_hosts.NOTIFICATIONS_EMAIL_URL = f"mailto://127.0.0.1:{port}?from=callboard@example.com&smtp=127.0.0.1"
        pat, sam = person("pat"), person("sam")
        NotificationMute.objects.create(user=sam, category=CATEGORY)
        with django_capture_on_commit_callbacks(execute=True):
            notify([pat, sam], category=CATEGORY, title="Checkout dropped", body="To Bronze")
    finally:
        controller.stop()
    assert [to for to, _ in mailbox.messages] == [["pat@example.com"]]
    assert "Checkout dropped" in mailbox.messages[0][1] and "To Bronze" in mailbox.messages[0][1]
    assert NotificationDelivery.objects.get().status == "sent"
