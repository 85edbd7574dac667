"""The task pages with Django's client: who sees what, filters, the step list, the log fragment with after=,
output links to entity pages, the error, cancel and retry buttons."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.testing.access import grant
from scaffolder import engine, service
from scaffolder.models import Task, TaskEvent
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db

STEPS = """\
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: say, name: Say hello, action: debug:log, input: {message: 'hello ${{ parameters.name }}'}}
    - id: rename
      action: fs:rename
      if: ${{ parameters.name == 'broken' }}
      input: {files: [{from: nothing-here, to: x}]}
"""
OUTPUT = """\
    links:
      - {title: Catalog entry, entityRef: 'component:default/${{ parameters.name }}'}
      - {title: Docs, url: 'https://docs.example.com/${{ parameters.name }}'}
      - {title: Sneaky, url: 'javascript:alert(1)'}
    text: [{title: Next steps, content: 'Clone ${{ parameters.name }}'}]
"""


@pytest.fixture
def template(scaffold_dirs):
    path = write_template(scaffold_dirs / "tpl", template_yaml("pages", STEPS, output=OUTPUT),
                          {"skeleton/README.md": "# ${{ values.name }}\n"})  # fmt: skip
    return register_file_template(path)


def run(user, name):
    task = service.create_task(user, "pages", {"name": name}, dispatch=False)
    return engine.run_task(task.pk)


@pytest.fixture
def browser_client(client, runner):
    client.force_login(runner)
    return client


def test_the_list_shows_my_runs_with_filters(template, runner, browser_client, django_user_model):
    done, failed = run(runner, "ledger"), run(runner, "broken")
    other = django_user_model.objects.create_user("other", password="x")
    grant("contributor", user=other)
    theirs = run(other, "theirs")
    page = browser_client.get(reverse("scaffolder:tasks")).content.decode()
    assert str(done.pk) in page and str(failed.pk) in page and str(theirs.pk) not in page
    assert "2 runs" in page
    page = browser_client.get(reverse("scaffolder:tasks"), {"status": "failed"}).content.decode()
    assert str(failed.pk) in page and str(done.pk) not in page
    page = browser_client.get(reverse("scaffolder:tasks"), {"template": "template:default/nope"}).content.decode()
    assert "No runs match." in page
    assert browser_client.get(reverse("scaffolder:task", args=[theirs.pk])).status_code == 404


def test_admins_see_every_run(template, runner, client, admin_user):
    task = run(runner, "ledger")
    client.force_login(admin_user)
    page = client.get(reverse("scaffolder:tasks")).content.decode()
    assert str(task.pk) in page and "Every run" in page
    assert client.get(reverse("scaffolder:task", args=[task.pk])).status_code == 200


def test_a_completed_run_shows_steps_log_and_output(template, runner, browser_client):
    task = run(runner, "ledger")
    page = browser_client.get(reverse("scaffolder:task", args=[task.pk])).content.decode()
    assert "Say hello" in page and "Beginning step Say hello" in page and "hello ledger" in page
    assert 'href="/catalog/default/component/ledger/"' in page  # entityRef → the entity page
    assert 'href="https://docs.example.com/ledger"' in page
    assert "javascript:" not in page.split("task-output")[1].split("</section>")[0].replace("Sneaky", "")
    assert "Clone ledger" in page
    assert "hx-get" not in page.split('id="task-poller"')[1].split(">")[0]  # finished: no polling
    assert "Retry from failed step" not in page and ">Cancel<" not in page


def test_a_failed_run_offers_retry_and_retrying_reopens_it(template, runner, browser_client):
    task = run(runner, "broken")
    page = browser_client.get(reverse("scaffolder:task", args=[task.pk])).content.decode()
    assert "Retry from failed step" in page and "task-error" in page
    response = browser_client.post(reverse("scaffolder:task_retry", args=[task.pk]))
    assert response.status_code == 302
    assert Task.objects.get(pk=task.pk).status in (Task.Status.OPEN, Task.Status.FAILED)  # eager worker ran it
    assert TaskEvent.objects.filter(task=task, type="recovered").exists()


def test_an_open_run_polls_and_can_be_cancelled(template, runner, browser_client):
    task = service.create_task(runner, "pages", {"name": "ledger"}, dispatch=False)
    page = browser_client.get(reverse("scaffolder:task", args=[task.pk])).content.decode()
    poller = page.split('id="task-poller"')[1].split(">")[0]
    assert f"/create/tasks/{task.pk}/events/?after=0" in poller and "every 1s" in poller
    assert ">Cancel<" in page
    browser_client.post(reverse("scaffolder:task_cancel", args=[task.pk]))
    assert Task.objects.get(pk=task.pk).status == Task.Status.CANCELLED


def test_the_events_fragment_sends_only_new_lines(template, runner, browser_client):
    task = service.create_task(runner, "pages", {"name": "ledger"}, dispatch=False)
    url = reverse("scaffolder:task_events", args=[task.pk])
    first = browser_client.get(url, {"after": 0}).content.decode()
    assert "log-line" not in first and 'hx-get="' in first  # nothing yet; keeps polling
    engine.run_task(task.pk)
    last = TaskEvent.objects.filter(task=task).order_by("id")
    middle = last[2].id
    with CaptureQueriesContext(connection) as queries:
        fragment = browser_client.get(url, {"after": middle}).content.decode()
    ids = [int(i) for i in re.findall(r'data-event="(\d+)"', fragment)]
    assert ids == [e.id for e in last if e.id > middle]
    assert 'hx-swap-oob="beforeend:#task-log"' in fragment
    assert 'id="task-steps" class="card task-steps" hx-swap-oob="true"' in fragment
    assert 'hx-get="' not in fragment.split('id="task-poller"')[1].split(">")[0]  # completed: polling stops
    # the task, its new events, its steps (the session and user come from the cache)
    assert len(queries) == 3, [q["sql"] for q in queries]


def test_output_texts_are_markdown_cleaned_of_anything_active():
    from scaffolder.templatetags.scaffolder_tasks import output_markdown

    text = "Your service **ledger** is made. Run `make dev`.\n\n<script>alert(1)</script>"
    html = output_markdown(text + " [docs](https://x.example/d) [bad](javascript:alert(1))")
    assert "<strong>ledger</strong>" in html and "<code>make dev</code>" in html
    assert "<script" not in html and "javascript:" not in html
    assert '<a href="https://x.example/d" rel="noopener noreferrer">docs</a>' in html
