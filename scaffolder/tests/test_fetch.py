"""fetch:template's modes, read through the published result."""

import pytest
import yaml

from plugins.api import ScaffolderAction, register_scaffolder_action, registry
from scaffolder import engine, service
from scaffolder.models import Task
from scaffolder.tests.helpers import register_file_template, repo_files, template_yaml, write_template

pytestmark = pytest.mark.django_db
SKELETON = {
    "skeleton/README.md": "# ${{ values.name }}\n",
    "skeleton/{% if values.docs %}docs{% endif %}/index.md": "docs of ${{ values.name }}\n",
    "skeleton/{% if values.ci %}ci.yml{% endif %}": "ci\n",
    "skeleton/raw/keep.txt": "keep ${{ values.name }}\n",
    "skeleton/raw/{{ cookiecutter.name }}.txt": "{{ cookiecutter.name }}\n",
    "skeleton/${{ values.name }}/raw.txt": "${{ values.name }}\n",
    "skeleton/page.html.njk": "<h1>${{ values.name }}</h1>\n{% if values.docs %}\ndocs\n{% endif %}\n",
    "skeleton/plain.html": "<h1>${{ values.name }}</h1>\n",
    "skeleton/cc.txt": "{{ cookiecutter.name }} {{ cookiecutter.tags | jsonify }}\n",
    "skeleton/logo.png": b"\x89PNG\r\n\x1a\n\x00\x00${{ values.name }}",
}


def run(runner, folder, name, fetch_input, values=None):
    steps = (f"    - {{id: f, action: fetch:template, input: {fetch_input}}}\n"
             f"    - {{id: p, action: publish:git, input: {{repoName: {name}}}}}\n")  # fmt: skip
    register_file_template(write_template(folder / name, template_yaml(name, steps), SKELETON))
    task = engine.run_task(service.create_task(runner, name, values or {}, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    return repo_files(folder / "repos" / "scaffolder" / f"{name}.git")


def test_default_mode(runner, scaffold_dirs):
    fetch = "{url: ./skeleton, values: {name: ana, docs: true, tags: [a]}, copyWithoutTemplating: ['raw/**']}"
    files = run(runner, scaffold_dirs, "plain", fetch)
    assert files["README.md"] == b"# ana\n"
    assert files["docs/index.md"] == b"docs of ana\n"
    assert "ci.yml" not in files  # a path rendering empty is skipped
    assert files["raw/keep.txt"] == b"keep ${{ values.name }}\n"  # copied as is
    assert files["ana/raw.txt"] == b"ana\n"
    assert files["page.html.njk"] == b"<h1>ana</h1>\n\ndocs\n\n"
    assert files["logo.png"] == SKELETON["skeleton/logo.png"]  # binary: byte for byte


def test_template_file_extension_and_trim_blocks(runner, scaffold_dirs):
    fetch = "{url: ./skeleton, values: {name: ana, docs: true}, templateFileExtension: true, trimBlocks: true}"
    files = run(runner, scaffold_dirs, "njk", fetch)
    assert files["page.html"] == b"<h1>ana</h1>\ndocs\n"
    assert files["plain.html"] == b"<h1>${{ values.name }}</h1>\n"  # not .njk: content not rendered
    assert "docs/index.md" in files and files["docs/index.md"] == b"docs of ${{ values.name }}\n"


def test_copy_without_render_and_cookiecutter(runner, scaffold_dirs):
    files = run(runner, scaffold_dirs, "legacy",
                "{url: ./skeleton, values: {name: ana, tags: [a, b]}, cookiecutterCompat: true, "
                "copyWithoutRender: ['raw/**']}")  # fmt: skip
    assert files["cc.txt"] == b'ana ["a","b"]\n'
    assert files["raw/{{ cookiecutter.name }}.txt"] == b"{{ cookiecutter.name }}\n"  # neither name nor content
    assert files["$/raw.txt"] == b"$\n"  # {{ }} is the delimiter: the '$' stays, `values` is undefined


def test_existing_files_are_kept_unless_replace(runner, scaffold_dirs):
    steps = ("    - {id: a, action: fetch:template, input: {url: ./one}}\n"
             "    - {id: b, action: fetch:template, input: {url: ./two}}\n"
             "    - {id: c, action: fetch:template, input: {url: ./three, replace: true}}\n"
             "    - {id: p, action: publish:git, input: {repoName: rep}}\n")  # fmt: skip
    files = {"one/a.txt": "1", "one/b.txt": "1", "two/a.txt": "2", "three/b.txt": "3"}
    register_file_template(write_template(scaffold_dirs / "rep", template_yaml("rep", steps), files))
    task = engine.run_task(service.create_task(runner, "rep", {}, dispatch=False).pk)
    assert task.status == Task.Status.COMPLETED, task.error
    assert repo_files(scaffold_dirs / "repos" / "scaffolder" / "rep.git") == {"a.txt": b"1", "b.txt": b"3"}


def test_a_broken_skeleton_file_names_itself(runner, scaffold_dirs):
    steps = "    - {id: f, action: fetch:template, input: {url: ./skeleton}}\n"
    files = {"skeleton/ok.txt": "x", "skeleton/bad.txt": "${{ values.x | nope }}"}
    register_file_template(write_template(scaffold_dirs / "broken", template_yaml("broken", steps), files))
    task = engine.run_task(service.create_task(runner, "broken", {}, dispatch=False).pk)
    assert task.status == Task.Status.FAILED
    assert task.error["message"].startswith("bad.txt: Cannot render '${{ values.x | nope }}'")


def test_plugin_actions_are_registered_once_and_validated(runner, scaffold_dirs):
    action = ScaffolderAction(
        id="test:echo",
        handler=lambda ctx: ctx.output("n", ctx.input["n"] * 2),
        input_schema={"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}},
        output_schema={"type": "object", "properties": {"n": {"type": "string"}}},
    )
    register_scaffolder_action(action)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_scaffolder_action(ScaffolderAction(id="test:echo", handler=print))
        steps = "    - {id: e, action: 'test:echo', input: {n: 2}}\n"
        register_file_template(write_template(scaffold_dirs / "echo", template_yaml("echo", steps)))
        task = engine.run_task(service.create_task(runner, "echo", {}, dispatch=False).pk)
        assert task.status == Task.Status.FAILED
        assert task.error["message"] == "Action test:echo produced invalid output: n: 4 is not of type 'string'"
    finally:
        registry["scaffolder_actions"].pop("test:echo", None)


def test_secrets_are_masked_in_errors_and_validated(runner, scaffold_dirs):
    steps = "    - {id: r, action: fs:rename, input: {files: [{from: '${{ secrets.token }}', to: x}]}}\n"
    text = (
        template_yaml("sec", steps)
        + "  secrets:\n    schema: {required: [token], properties: {token: {minLength: 8}}}\n"
    )
    register_file_template(write_template(scaffold_dirs / "sec", text))
    with pytest.raises(service.InvalidRequest, match="secrets: 'token' is a required property"):
        service.create_task(runner, "sec", {}, {}, dispatch=False)
    with pytest.raises(service.InvalidRequest, match=r"secrets: token: '\*\*\*' is too short"):
        service.create_task(runner, "sec", {}, {"token": "tiny-s"}, dispatch=False)
    task = engine.run_task(service.create_task(runner, "sec", {}, {"token": "tok-very-s3cret"}, dispatch=False).pk)
    assert task.status == Task.Status.FAILED
    assert task.error["message"] == "*** does not exist in the workspace"
    assert "tok-very-s3cret" not in str([e.body for e in task.events.all()]) + str(task.steps.get().error)


def test_file_actions_catalog_write_and_wait(runner, scaffold_dirs):
    steps = """\
    - {id: a, action: 'fetch:plain:file', input: {url: ./files/raw.txt, targetPath: docs/raw.txt}}
    - id: b
      action: 'fetch:template:file'
      input: {url: ./files/hello.txt, targetPath: hello.txt, values: {name: '${{ parameters.name }}'}}
    - id: c
      action: 'catalog:write'
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: '${{ parameters.name }}'}
          spec: {type: service, lifecycle: experimental, owner: team-a}
    - {id: d, action: 'debug:wait', input: {milliseconds: 20}}
    - {id: p, action: publish:git, input: {repoName: files}}
    - {id: e, action: 'debug:wait', input: {minutes: 11}}
"""
    files = {"files/raw.txt": "${{ values.name }}", "files/hello.txt": "hi ${{ values.name }}"}
    register_file_template(write_template(scaffold_dirs / "files", template_yaml("files", steps), files))
    task = engine.run_task(service.create_task(runner, "files", {"name": "ana"}, dispatch=False).pk)
    assert task.status == Task.Status.FAILED and task.error["message"] == "debug:wait waits at most 600 seconds"
    published = repo_files(scaffold_dirs / "repos" / "scaffolder" / "files.git")
    assert published["docs/raw.txt"] == b"${{ values.name }}" and published["hello.txt"] == b"hi ana"
    descriptor = yaml.safe_load(published["catalog-info.yaml"])
    annotations = {"backstage.io/source-template": "template:default/files",
                   "callboard.dev/template-version": task.template_version}  # fmt: skip
    assert task.template_version  # a file location's fingerprint
    assert descriptor["metadata"] == {"name": "ana", "annotations": annotations}
