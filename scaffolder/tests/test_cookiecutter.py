"""fetch:cookiecutter, native and sandboxed: cookiecutter.json defaults and choices, names and contents rendered,
copyWithoutRender, hooks copied and never run; the result published with publish:git and read back."""

import json

import pytest

from scaffolder import engine, service
from scaffolder.actions.cookiecutter import cookiecutter_context
from scaffolder.models import Task, TaskStep
from scaffolder.templating import TemplateError
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db

COOKIECUTTER_JSON = json.dumps({
    "name": "My Service",
    "slug": "{{ cookiecutter.name | lower | replace(' ', '-') }}",
    "license": ["MIT", "Apache-2.0"],
    "_copy_without_render": ["static/*"],
    "db": {"engine": "postgres"},
})  # fmt: skip
SKELETON = {
    "skeleton/cookiecutter.json": COOKIECUTTER_JSON,
    "skeleton/{{cookiecutter.slug}}/README.md": "# {{ cookiecutter.name }} ({{ cookiecutter.license }})\n",
    "skeleton/{{cookiecutter.slug}}/db.txt": "{{ cookiecutter.db.engine }}\n",
    "skeleton/static/raw.html": "{{ not rendered }}\n",
    "skeleton/hooks/post_gen_project.py": "import os\nos.system('touch /tmp/pwned')  # {{ cookiecutter.slug }}\n",
    "skeleton/logo.png": b"\x89PNG\x00{{ cookiecutter.name }}",
}


def _run(folder, runner, inputs: str) -> Task:
    steps = f"""\
    - id: fetch
      action: fetch:cookiecutter
      input:
        url: ./skeleton
{inputs}    - id: publish
      action: publish:git
      input: {{repoName: out}}
"""
    write_template(folder, template_yaml("cc", steps), SKELETON)
    register_file_template(folder / "template.yaml")
    return engine.run_task(service.create_task(runner, "template:default/cc", {}, dispatch=False).pk)


def _error(task: Task) -> str:
    return TaskStep.objects.get(task=task, step_id="fetch").error


def test_defaults_values_choices_names_and_hooks(scaffold_dirs, runner):
    task = _run(scaffold_dirs / "t", runner, "        values: {name: Stop Finder, license: Apache-2.0}\n"
                                             "        targetPath: out\n        imageName: spotify/cc\n")  # fmt: skip
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "out.git")
    assert files["out/stop-finder/README.md"] == b"# Stop Finder (Apache-2.0)\n"
    assert files["out/stop-finder/db.txt"] == b"postgres\n"
    assert files["out/static/raw.html"] == b"{{ not rendered }}\n"  # cookiecutter.json's _copy_without_render
    assert files["out/logo.png"] == SKELETON["skeleton/logo.png"]  # binary: as it is
    assert b"# stop-finder" in files["out/hooks/post_gen_project.py"]  # copied (as Backstage does), never run
    assert "out/cookiecutter.json" in files
    log = "\n".join(e.body.get("message", "") for e in task.events.all())
    assert "hooks/ is copied as files and never run" in log and "imageName 'spotify/cc' ignored" in log


def test_copy_without_render_input_wins_and_defaults_apply(scaffold_dirs, runner):
    task = _run(scaffold_dirs / "t", runner, "        values: {}\n        copyWithoutRender: ['*/db.txt']\n")
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "out.git")
    assert files["my-service/README.md"] == b"# My Service (MIT)\n"  # the first choice is the default
    assert files["my-service/db.txt"] == b"{{ cookiecutter.db.engine }}\n"
    assert files["static/raw.html"] != b"{{ not rendered }}\n"  # the input replaced cookiecutter.json's list


@pytest.mark.parametrize(
    ("inputs", "error"),
    [
        ("        values: {license: GPL}\n", "values.license: 'GPL' is not one of cookiecutter.json's choices"),
        ("        values: {name: x}\n        targetPath: ../up\n", "targetPath"),
    ],
)
def test_bad_inputs(scaffold_dirs, runner, inputs, error):
    task = _run(scaffold_dirs / "t", runner, inputs)
    assert task.status == Task.Status.FAILED
    assert error in _error(task)


def test_values_are_data_never_rendered(scaffold_dirs, runner):
    task = _run(scaffold_dirs / "t", runner, "        values: {name: \"{{ ''.__class__ }}\"}\n")
    assert task.status == Task.Status.COMPLETED, task.error
    files = repo_files(scaffold_dirs / "repos" / "scaffolder" / "out.git")
    assert files["{{-''.__class__-}}/README.md"] == b"# {{ ''.__class__ }} (MIT)\n"  # the slug: spaces to -


def test_sandbox_refuses_internals_in_the_skeleton():
    with pytest.raises(TemplateError, match=r"cookiecutter.json x: .* is unsafe"):
        cookiecutter_context(json.dumps({"x": "{{ ''.__class__.__mro__ }}"}).encode(), {})


def test_context_helpers():
    assert cookiecutter_context(None, {"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="must hold a JSON object"):
        cookiecutter_context(b"[1]", {})
    with pytest.raises(ValueError, match="not valid JSON"):
        cookiecutter_context(b"{", {})
