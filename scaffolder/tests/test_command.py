"""``manage.py scaffolder run``: inline, prints the step log, fails loudly; the permission applies."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from scaffolder.models import Task
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db
STEPS = """\
    - {id: fetch, action: fetch:template, input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}}
    - {id: fail, if: '${{ parameters.fail }}', action: fs:rename, input: {files: [{from: nope, to: x}]}}
    - {id: log, action: debug:log, input: {message: 'made ${{ parameters.name }}', listWorkspace: true}}
"""


@pytest.fixture
def values_file(scaffold_dirs):
    register_file_template(write_template(scaffold_dirs / "tpl", template_yaml("cli", STEPS),
                                          {"skeleton/${{ values.name }}.md": "x"}))  # fmt: skip

    def write(values):
        path = scaffold_dirs / "values.json"
        path.write_text(json.dumps(values))
        return str(path)

    return write


def test_runs_inline_and_prints_the_log(values_file, runner):
    out = io.StringIO()
    call_command("scaffolder", "run", "template:default/cli", "--values", values_file({"name": "ana"}),
                 "--user", "dev", stdout=out)  # fmt: skip
    text = out.getvalue()
    assert "[log] made ana" in text and "[log] ana.md" in text and "[fail] Skipping step fail" in text
    assert Task.objects.get().status == Task.Status.COMPLETED


def test_a_failure_exits_non_zero(values_file, runner):
    out = io.StringIO()
    with pytest.raises(CommandError, match="Task failed: nope does not exist in the workspace"):
        call_command("scaffolder", "run", "cli", "--values", values_file({"name": "ana", "fail": True}),
                     "--user", "dev", stdout=out)  # fmt: skip
    assert "[fail] Step fs:rename failed" in out.getvalue()


def test_the_permission_applies(values_file, user):
    with pytest.raises(CommandError, match="Permission denied"):
        call_command("scaffolder", "run", "cli", "--values", values_file({"name": "ana"}), "--user", "dev")
    assert not Task.objects.exists()
