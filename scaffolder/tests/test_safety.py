"""Path traversal through targetPath, skeleton names and fs:* inputs fails the step and writes nothing outside
the workspace; skeletons with links are refused; a plugin's action is validated like a built-in."""

import os

import pytest

from plugins.api import ScaffolderAction, register_scaffolder_action, registry
from scaffolder import engine, service
from scaffolder.models import Task, TaskStep
from scaffolder.tests.helpers import register_file_template, template_yaml, write_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def outside(scaffold_dirs):
    """A directory beside the workspaces, with a file that must survive, and a plugin action linking to it."""
    folder = scaffold_dirs / "outside"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")

    def make_link(ctx):
        os.symlink(folder, ctx.workspace / "link")
        ctx.output("made", True)

    schema = {"type": "object", "properties": {"made": {"type": "boolean"}}}
    action = ScaffolderAction(id="test:symlink", handler=make_link, output_schema=schema)
    register_scaffolder_action(action)
    yield folder
    registry["scaffolder_actions"].pop("test:symlink", None)


def run_steps(runner, folder, steps, values=None, files=None, name="unsafe"):
    register_file_template(write_template(folder / name, template_yaml(name, steps), files or {"skeleton/a.txt": "a"}))
    task = engine.run_task(service.create_task(runner, name, values or {}, dispatch=False).pk)
    return task, {s.step_id: s for s in TaskStep.objects.filter(task=task)}


def assert_nothing_outside(scaffold_dirs, outside):
    assert sorted(os.listdir(outside)) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "keep"
    assert os.listdir(engine.workspaces_dir()) == [] or all(
        not name.startswith("escape") for name in os.listdir(engine.workspaces_dir())
    )
    assert not (engine.workspaces_dir() / "escape").exists()
    assert not (engine.workspaces_dir().parent / "escape").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [("../escape", "leaves the workspace"), ("../../escape", "leaves the workspace"),
     ("/tmp/escape", "is absolute"), ("a/../../escape", "leaves the workspace")],
)  # fmt: skip
def test_target_path_cannot_leave_the_workspace(runner, scaffold_dirs, outside, target, message):
    steps = f"    - {{id: f, action: fetch:template, input: {{url: ./skeleton, targetPath: '{target}'}}}}\n"
    task, steps_by_id = run_steps(runner, scaffold_dirs, steps)
    assert task.status == Task.Status.FAILED
    assert message in steps_by_id["f"].error
    assert not os.path.exists("/tmp/escape")
    assert_nothing_outside(scaffold_dirs, outside)


def test_templated_file_names_cannot_leave_the_workspace(runner, scaffold_dirs, outside):
    steps = "    - {id: f, action: fetch:template, input: {url: ./skeleton, values: {name: '../../escape'}}}\n"
    files = {"skeleton/${{ values.name }}.txt": "x"}
    task, steps_by_id = run_steps(runner, scaffold_dirs, steps, files=files)
    assert task.status == Task.Status.FAILED
    assert "leaves the workspace" in steps_by_id["f"].error
    assert_nothing_outside(scaffold_dirs, outside)


def test_a_skeleton_with_a_symbolic_link_is_refused(runner, scaffold_dirs, outside):
    folder = scaffold_dirs / "linked"
    write_template(folder, template_yaml("linked", "    - {id: f, action: fetch:template, input: {url: ./skeleton}}\n"),
                   {"skeleton/a.txt": "a"})  # fmt: skip
    os.symlink(outside / "keep.txt", folder / "skeleton" / "secret.txt")
    register_file_template(folder / "template.yaml")
    task = engine.run_task(service.create_task(runner, "linked", {}, dispatch=False).pk)
    assert task.status == Task.Status.FAILED
    assert "secret.txt" in task.error["message"] and "symbolic link" in task.error["message"]


@pytest.mark.parametrize(
    "step",
    [
        "{id: s, action: fs:rename, input: {files: [{from: a.txt, to: ../escape}]}}",
        "{id: s, action: fs:rename, input: {files: [{from: /etc/hostname, to: b}]}}",
        "{id: s, action: fs:rename, input: {files: [{from: a.txt, to: link/escape}]}}",
        "{id: s, action: fs:rename, input: {files: [{from: link/keep.txt, to: stolen.txt}]}}",
        "{id: s, action: fs:delete, input: {files: ['../*']}}",
        "{id: s, action: fs:delete, input: {files: ['/tmp/*']}}",
        "{id: s, action: fetch:template, input: {url: ./skeleton, targetPath: link}}",
        "{id: s, action: fetch:plain, input: {url: ./skeleton, targetPath: link/sub}}",
        "{id: s, action: 'fetch:plain:file', input: {url: ./skeleton/a.txt, targetPath: ../escape}}",
        "{id: s, action: 'fetch:template:file', input: {url: ./skeleton/a.txt, targetPath: link/escape}}",
        "{id: s, action: 'fetch:plain:file', input: {url: ../../../../etc/hostname, targetPath: x}}",
        "{id: s, action: 'catalog:write', input: {entity: {kind: X}, filePath: /tmp/escape}}",
    ],
)
def test_fs_actions_cannot_leave_the_workspace(runner, scaffold_dirs, outside, step):
    steps = ("    - {id: f, action: fetch:template, input: {url: ./skeleton}}\n"
             "    - {id: l, action: 'test:symlink'}\n"
             f"    - {step}\n")  # fmt: skip
    task, steps_by_id = run_steps(runner, scaffold_dirs, steps)
    assert steps_by_id["l"].status == "completed"
    assert task.status == Task.Status.FAILED, steps_by_id["s"].status
    assert steps_by_id["s"].status == "failed"
    assert_nothing_outside(scaffold_dirs, outside)


def test_fs_delete_does_not_follow_links(runner, scaffold_dirs, outside):
    steps = ("    - {id: f, action: fetch:template, input: {url: ./skeleton}}\n"
             "    - {id: l, action: 'test:symlink'}\n"
             "    - {id: s, action: fs:delete, input: {files: ['link/*', '**/keep.txt', 'a.txt']}}\n"
             "    - {id: d, action: debug:log, input: {listWorkspace: true}}\n")  # fmt: skip
    task, _ = run_steps(runner, scaffold_dirs, steps)
    assert task.status == Task.Status.COMPLETED, task.error
    assert_nothing_outside(scaffold_dirs, outside)


def test_fs_rename_and_delete_inside_the_workspace(runner, scaffold_dirs):
    steps = ("    - {id: f, action: fetch:template, input: {url: ./skeleton}}\n"
             "    - {id: r, action: fs:rename, input: {files: [{from: a.txt, to: sub/b.txt}]}}\n"
             "    - {id: x, action: fs:delete, input: {files: ['.hidden']}}\n"
             "    - {id: d, action: debug:log, input: {listWorkspace: with-contents}}\n")  # fmt: skip
    task, _ = run_steps(runner, scaffold_dirs, steps, files={"skeleton/a.txt": "A", "skeleton/.hidden": "h"})
    assert task.status == Task.Status.COMPLETED, task.error
    messages = [e.body.get("message", "") for e in task.events.all()]
    assert "sub/b.txt:\nA" in messages and not any(".hidden" in m and ":\n" in m for m in messages)
