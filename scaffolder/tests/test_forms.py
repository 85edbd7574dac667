"""spec.parameters → form fields, POST → values, and the checks at each field (scaffolder/forms.py, pickers.py)."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from django.http import QueryDict
from django.template.loader import render_to_string

from scaffolder import forms, pickers, service
from scaffolder.tests.helpers import DEMO_TEMPLATES
from scaffolder.wizard import WizardStep


def page_of(properties: dict, **extra) -> dict:
    return {"title": "One", "properties": properties, **extra}


def fields_of(spec: dict, values: dict | None = None, user=None) -> dict[str, forms.Field]:
    pages = forms.build_pages(spec, user, values if values is not None else {}, set())
    return {f.name: f for page in pages for f in [*page.fields, *page.flat()]}


def post(**data) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    return query


@pytest.mark.parametrize(
    ("schema", "widget"),
    [
        ({"type": "string"}, "text"),
        ({"type": "string", "ui:widget": "textarea"}, "textarea"),
        ({"type": "string", "ui:widget": "password"}, "password"),
        ({"type": "string", "ui:field": "Secret"}, "password"),
        ({"type": "string", "enum": ["a", "b"]}, "select"),
        ({"type": "string", "enum": ["a", "b"], "ui:widget": "radio"}, "radio"),
        ({"type": "string", "oneOf": [{"const": "a", "title": "A"}]}, "select"),
        ({"type": "integer"}, "number"),
        ({"type": "number"}, "number"),
        ({"type": "boolean"}, "checkbox"),
        ({"type": "boolean", "ui:widget": "radio"}, "radio"),
        ({"type": "array", "items": {"type": "string"}}, "lines"),
        ({"type": "array", "items": {"type": "string", "enum": ["x", "y"]}, "ui:widget": "checkboxes"}, "checkboxes"),
        ({"type": "array", "items": {"type": "string", "enum": ["x", "y"]}, "ui:widget": "select"}, "multi_select"),
        ({"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}}, "json"),
        ({"type": "object", "properties": {"a": {"type": "string"}}}, "object"),
        ({"type": "object"}, "json"),
        ({"type": "string", "ui:field": "OwnerPicker"}, "owner"),
        ({"type": "string", "ui:field": "EntityPicker"}, "entity"),
        ({"type": "array", "ui:field": "MultiEntityPicker"}, "multi_entity"),
        ({"type": "string", "ui:field": "RepoUrlPicker"}, "repo_url"),
        ({"type": "string", "ui:field": "EntityNamePicker"}, "text"),
        ({"type": "array", "ui:field": "EntityTagsPicker"}, "tags"),
        ({"type": "string", "ui:field": "RepoBranchPicker"}, "text"),  # not built: a plain text input
    ],
)
@pytest.mark.django_db
def test_widget_for_each_schema(schema, widget, user):
    assert fields_of({"parameters": page_of({"x": schema})}, user=user)["x"].widget == widget


def test_browser_checks_from_the_schema():
    spec = {
        "parameters": page_of(
            {
                "name": {
                    "type": "string",
                    "pattern": "^[a-z]+$",
                    "minLength": 2,
                    "maxLength": 9,
                    "ui:autofocus": True,
                    "ui:placeholder": "e.g. ana",
                },
                "loose": {"type": "string", "pattern": "[a-z]"},
                "port": {"type": "integer", "minimum": 1024, "maximum": 65535},
                "ratio": {"type": "number"},
                "notes": {"type": "string", "ui:widget": "textarea", "ui:options": {"rows": 7}},
                "id": {"type": "string", "ui:field": "EntityNamePicker"},
            },
            required=["name", "port"],
        )
    }
    fields = fields_of(spec)
    assert fields["name"].attrs == {
        "required": True,
        "pattern": "(?:^[a-z]+$)",
        "minlength": 2,
        "maxlength": 9,
        "placeholder": "e.g. ana",
        "autofocus": True,
    }
    assert fields["loose"].attrs["pattern"] == ".*(?:[a-z]).*"  # JSON Schema patterns search
    assert fields["port"].attrs == {"required": True, "min": 1024, "max": 65535, "step": "1"}
    assert fields["ratio"].attrs == {"step": "any"}
    assert fields["notes"].attrs == {"rows": 7}
    assert fields["id"].attrs == {"pattern": forms.ENTITY_NAME_HINT, "maxlength": 63}
    html = render_field(fields["name"])
    assert 'required autofocus pattern="(?:^[a-z]+$)" minlength="2" maxlength="9" placeholder="e.g. ana"' in html


def render_field(field: forms.Field) -> str:
    return render_to_string("scaffolder/_field.html", {"f": field, "run_url": "/run/"})


def test_defaults_fill_in_once_and_enum_names_label_choices():
    spec = {
        "parameters": page_of(
            {
                "mode": {
                    "type": "string",
                    "enum": ["light", "dark"],
                    "enumNames": ["Light", "Dark"],
                    "default": "dark",
                },
                "port": {"type": "integer", "default": 8080},
            }
        )
    }
    values, seen = {}, set()
    fields = {f.name: f for f in forms.build_pages(spec, None, values, seen)[0].fields}
    assert values == {"mode": "dark", "port": 8080}
    assert [(c.value, c.label) for c in fields["mode"].choices] == [("light", "Light"), ("dark", "Dark")]
    del values["port"]  # cleared by the person: not filled in again
    forms.build_pages(spec, None, values, seen)
    assert values == {"mode": "dark"}


def test_post_values_keep_their_types():
    spec = {
        "parameters": page_of(
            {
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "flag": {"type": "boolean"},
                "level": {"type": "integer", "enum": [1, 2, 3]},
                "topics": {
                    "type": "array",
                    "items": {"type": "string", "enum": ["a", "b", "c"]},
                    "ui:widget": "checkboxes",
                },
                "lines": {"type": "array", "items": {"type": "string"}},
                "tags": {"type": "array", "ui:field": "EntityTagsPicker"},
                "extra": {"type": "object"},
                "nested": {"type": "object", "properties": {"on": {"type": "boolean"}, "name": {"type": "string"}}},
                "empty": {"type": "string"},
            }
        )
    }
    page = forms.build_pages(spec, None, {}, set())[0]
    values: dict = {}
    problems = forms.read_page(
        page,
        post(
            count="3",
            ratio="0.5",
            level="2",
            topics=["a", "c"],
            lines="x\n\n y \n",
            tags="web, python  go",
            extra='{"k": [1]}',
            **{"nested.on": "on", "nested.name": "n"},
            empty="  ",
        ),
        values,
    )
    assert problems == {}
    assert values == {
        "count": 3,
        "ratio": 0.5,
        "flag": False,
        "level": 2,
        "topics": ["a", "c"],
        "lines": ["x", "y"],
        "tags": ["web", "python", "go"],
        "extra": {"k": [1]},
        "nested": {"on": True, "name": "n"},
    }
    problems = forms.read_page(page, post(count="3.5", extra="{nope"), values)
    assert problems["count"] == "Must be a whole number."
    assert problems["extra"].startswith("Not valid JSON")


def test_dependencies_one_of_shows_fields_when_their_condition_holds():
    spec = {
        "parameters": page_of(
            {"kind": {"type": "string", "enum": ["db", "queue"]}},
            dependencies={
                "kind": {
                    "oneOf": [
                        {
                            "properties": {"kind": {"enum": ["db"]}, "engine": {"type": "string"}},
                            "required": ["engine"],
                        },
                        {"properties": {"kind": {"enum": ["queue"]}, "topic": {"type": "string"}}},
                    ]
                }
            },
        )
    }
    assert set(fields_of(spec)) == {"kind"}
    assert fields_of(spec)["kind"].refreshes  # its change redraws the page
    db = fields_of(spec, {"kind": "db"})
    assert set(db) == {"kind", "engine"} and db["engine"].required
    assert set(fields_of(spec, {"kind": "queue"})) == {"kind", "topic"}


def test_property_and_schema_dependencies_and_if_then_else_and_all_of():
    spec = {
        "parameters": page_of(
            {"card": {"type": "string"}, "ci": {"type": "boolean"}},
            dependencies={"card": ["billing"], "ci": {"properties": {"runner": {"type": "string"}}}},
            allOf=[
                {
                    "if": {"properties": {"ci": {"const": True}}, "required": ["ci"]},
                    "then": {"properties": {"image": {"type": "string"}}, "required": ["image"]},
                    "else": {"properties": {"reason": {"type": "string"}}},
                }
            ],
        )
    }
    assert set(fields_of(spec)) == {"card", "ci", "reason"}
    on = fields_of(spec, {"ci": True, "card": "x"})
    assert set(on) == {"card", "ci", "runner", "image"}
    assert on["image"].required
    _, required, triggers = forms.resolve(spec["parameters"], {"card": "x"})
    assert "billing" in required and {"card", "ci"} <= triggers


def test_page_level_one_of_takes_the_branch_the_values_satisfy():
    spec = {
        "parameters": page_of(
            {},
            oneOf=[
                {"title": "Lambda", "properties": {"memory": {"type": "integer"}}, "required": ["memory"]},
                {"title": "Container", "properties": {"image": {"type": "string"}}, "required": ["image"]},
            ],
        )
    }
    assert set(fields_of(spec)) == {"memory"}
    assert set(fields_of(spec, {"image": "nginx"})) == {"image"}


def corpus_spec(shared_dir, name: str) -> dict:
    path = next((shared_dir / "backstage-corpus" / "templates").rglob(f"{name}/template.yaml"))
    return yaml.safe_load(path.read_text())["spec"]


def test_page_level_if_from_the_newest_samples(shared_dir):
    """conditional-parameters-demo: pages with a templated ``if`` appear when it holds; the server's
    validation skips the others (Backstage 4.2.0 would choke on the expression)."""
    spec = corpus_spec(shared_dir, "conditional-parameters-demo")
    titles = [p.title for p in forms.build_pages(spec, None, {"cloudProvider": "GCP"}, set())]
    assert titles == ["Choose Cloud Provider", "GCP Configuration", "Advanced Options"]
    values = {"cloudProvider": "AWS", "enableMonitoring": True}
    titles = [p.title for p in forms.build_pages(spec, None, values, set())]
    assert titles == ["Choose Cloud Provider", "AWS Configuration", "Advanced Options", "Monitoring Configuration"]
    service.validate_request(spec, {"name": "x", "cloudProvider": "GCP", "gcpProjectId": "p"}, {})
    with pytest.raises(service.InvalidRequest, match="awsRegion"):
        service.validate_request(spec, {"name": "x", "cloudProvider": "AWS"}, {})


def test_errors_land_at_their_fields():
    spec = {
        "parameters": page_of(
            {
                "name": {"type": "string", "ui:field": "EntityNamePicker", "maxLength": 70},
                "port": {"type": "integer", "minimum": 1024},
                "tags": {"type": "array", "ui:field": "EntityTagsPicker"},
                "nested": {
                    "type": "object",
                    "properties": {"inner": {"type": "string", "pattern": "^a"}},
                    "required": ["inner"],
                },
            },
            required=["name", "nested"],
        )
    }
    values = {"name": "-bad-", "port": 80, "tags": ["ok", "Not-OK"], "nested": {"inner": "b"}}
    page = forms.build_pages(spec, None, values, set())[0]
    assert not forms.check_page(page, values, {}, {})
    errors = {f.name: f.errors for f in page.flat()}
    assert errors["name"] == [forms.ENTITY_NAME_MESSAGE]
    assert errors["port"] == ["80 is less than the minimum of 1024."]
    assert errors["tags"][0].startswith(forms.TAG_MESSAGE) and "Not-OK" in errors["tags"][0]
    assert errors["nested.inner"] == ["Must match the pattern '^a'."]
    values = {"nested": {}}
    page = forms.build_pages(spec, None, values, set())[0]
    forms.check_page(page, values, {}, {})
    assert {f.name: f.errors for f in page.flat()}["nested.inner"] == ["Required."]
    assert {f.name: f.errors for f in page.flat()}["name"] == ["Required."]


def test_repo_url_picker_writes_backstages_string():
    assert pickers.serialize_repo_url("github.com", {"repo": "stop-finder", "owner": "northwind"}) == (
        "github.com?owner=northwind&repo=stop-finder"
    )
    # URLSearchParams: space as +, only * - . _ kept
    assert pickers.serialize_repo_url("gitlab.com", {"owner": "a b~c*d/e", "repo": "r"}) == (
        "gitlab.com?owner=a+b%7Ec*d%2Fe&repo=r"
    )
    assert pickers.serialize_repo_url("dev.azure.com", {"organization": "o", "project": "p", "repo": "r"}) == (
        "dev.azure.com?repo=r&organization=o&project=p"
    )
    assert pickers.serialize_repo_url("", {"repo": "r"}) == ""
    assert pickers.parse_repo_url("github.com?owner=a+b&repo=r") == ("github.com", {"owner": "a b", "repo": "r"})


def test_repo_url_picker_hosts_owners_and_checks(settings):
    settings.CATALOG_GITHUB_HOSTS = ["github.com", "ghe.example.com"]
    spec = {
        "parameters": page_of(
            {
                "anywhere": {"type": "string", "ui:field": "RepoUrlPicker"},
                "ours": {
                    "type": "string",
                    "ui:field": "RepoUrlPicker",
                    "ui:options": {
                        "allowedHosts": ["github.com"],
                        "allowedOwners": ["northwind", "southwind"],
                        "allowedRepos": ["one"],
                    },
                },
            },
            required=["ours"],
        )
    }
    fields = fields_of(spec)
    assert fields["anywhere"].hosts == ["github.com", "ghe.example.com", "gitlab.com"]
    assert fields["ours"].hosts == ["github.com"]
    asked = {part["key"]: part["choices"] for part in fields["ours"].repo["asked"]}
    assert asked == {"owner": ["northwind", "southwind"], "repo": ["one"]}
    page = forms.build_pages(spec, None, {}, set())[0]
    values: dict = {}
    forms.read_page(
        page,
        post(
            **{
                "ours.host": "github.com",
                "ours.owner": "westwind",
                "ours.repo": "",
                "anywhere.host": "ghe.example.com",
                "anywhere.repo": "r",
            }
        ),
        values,
    )
    assert values == {"ours": "github.com?owner=westwind", "anywhere": "ghe.example.com?repo=r"}
    forms.check_page(page, values, {}, {})
    errors = {f.name: f.errors for f in page.flat()}
    assert errors["ours"] == [
        "Incomplete repository location provided, repo not provided.",
        "westwind is not one of the allowed owners: northwind, southwind.",
    ]
    assert errors["anywhere"] == ["Incomplete repository location provided, owner not provided."]
    bitbucket = fields_of(
        {
            "parameters": page_of(
                {
                    "r": {
                        "type": "string",
                        "ui:field": "RepoUrlPicker",
                        "ui:options": {"allowedHosts": ["bitbucket.org"]},
                    }
                }
            )
        }
    )
    assert [p["key"] for p in bitbucket["r"].repo["asked"]] == ["workspace", "project", "repo"]


@pytest.mark.django_db
def test_entity_pickers_list_what_the_person_may_read_and_filter(user, demo_catalog):
    spec = {
        "parameters": page_of(
            {
                "owner": {"type": "string", "ui:field": "OwnerPicker"},
                "team": {
                    "type": "string",
                    "ui:field": "OwnerPicker",
                    "ui:options": {"catalogFilter": {"kind": "Group", "spec.type": "team"}},
                },
                "legacy": {"type": "string", "ui:field": "OwnerPicker", "ui:options": {"allowedKinds": ["User"]}},
                "system": {
                    "type": "string",
                    "ui:field": "EntityPicker",
                    "ui:options": {
                        "defaultKind": "System",
                        "catalogFilter": [{"kind": "System"}, {"kind": "Group", "metadata.name": "engineering"}],
                        "allowArbitraryValues": False,
                    },
                },
                "many": {
                    "type": "array",
                    "ui:field": "MultiEntityPicker",
                    "ui:options": {"catalogFilter": {"kind": "System"}},
                },
            }
        )
    }
    fields = fields_of(spec, user=user)
    assert [c.value for c in fields["owner"].choices] == [
        "group:default/engineering",
        "group:default/platform-team",
        "group:default/web-experience-team",
        "user:default/dev",
    ]
    assert [c.value for c in fields["team"].choices] == [
        "group:default/platform-team",
        "group:default/web-experience-team",
    ]
    assert [c.value for c in fields["legacy"].choices] == ["user:default/dev"]
    assert [c.value for c in fields["system"].choices] == ["group:default/engineering", "system:default/journeys"]
    assert fields["system"].choices[1].label == "Journey Planning (system:default/journeys)"
    assert not fields["system"].arbitrary and "<select" in render_field(fields["system"])
    assert 'list="f-owner-list"' in render_field(fields["owner"])  # arbitrary values: a text input with suggestions
    page = forms.build_pages(spec, user, {}, set())[0]
    values: dict = {}
    forms.read_page(
        page,
        post(
            owner="platform-team",
            system="nowhere",
            many=["system:default/journeys"],
            **{"many.other": "other-system, System:ops/x"},
        ),
        values,
    )
    assert values["owner"] == "group:default/platform-team"  # OwnerPicker's default kind: Group
    assert values["system"] == "system:default/nowhere"  # defaultKind applied
    assert values["many"] == ["system:default/journeys", "other-system", "system:ops/x"]
    assert not forms.check_page(page, values, {}, {})
    assert {f.name: f.errors for f in page.flat()}["system"] == [
        "Choose from the list: system:default/nowhere is not one of the choices."
    ]


def test_secrets_are_masked_and_never_in_the_state_or_html():
    spec = {
        "parameters": [
            page_of(
                {"name": {"type": "string"}, "token": {"type": "string", "ui:field": "Secret", "minLength": 20}},
                required=["token"],
            ),
            {"title": "Two", "properties": {"pin": {"type": "string", "ui:widget": "password"}}},
        ]
    }
    values: dict = {"name": "ana"}
    pages = forms.build_pages(spec, None, values, set())
    secrets = forms.read_secrets(pages, post(token="hunter2-hunter2", pin="4242"))
    assert secrets == {"token": "hunter2-hunter2", "pin": "4242"}
    assert not forms.check_page(pages[0], values, secrets, {})
    token = {f.name: f for f in pages[0].flat()}["token"]
    assert token.errors == ["'***' is too short."]  # jsonschema quotes the value: masked
    values.update(secrets)  # even if a secret slipped into the values, the state leaves it out
    state = forms.dump_state(values, set(), pages)
    assert "hunter2" not in state and "4242" not in state
    html = render_wizard(WizardStep(pages, 0, values, set()))
    assert "hunter2" not in html and "4242" not in html
    assert 'name="pin" hx-preserve="true"' in html  # the other step's secret stays in the browser
    review = render_wizard(WizardStep(pages, 2, values, set()))
    assert "hunter2" not in review and "4242" not in review and forms.SECRET_MASK in review


def render_wizard(step: WizardStep) -> str:
    entity = SimpleNamespace(namespace="default", name="t")
    return render_to_string("scaffolder/_wizard.html", {"entity": entity, "wizard": step, "labels": {}})


def all_templates(shared_dir) -> list[tuple[str, dict]]:
    found = []
    for path in [
        *sorted((shared_dir / "backstage-corpus" / "templates").rglob("template.yaml")),
        *sorted(Path(DEMO_TEMPLATES).rglob("template.yaml")),
    ]:
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") == "Template":
                found.append((doc["metadata"]["name"], doc["spec"]))
    return found


@pytest.mark.django_db
def test_every_corpus_and_demo_template_renders_every_step(shared_dir, user):
    templates = all_templates(shared_dir)
    assert len(templates) >= 16
    for name, spec in templates:
        for values in ({}, {"cloudProvider": "AWS", "enableMonitoring": True}, {"cloudProvider": "Azure"}):
            seen: set[str] = set()
            pages = forms.build_pages(spec, user, values, seen)
            for step in range(len(pages) + 1):
                html = render_wizard(WizardStep(pages, step, values, seen))
                assert 'id="wizard"' in html, name
                if step < len(pages):
                    for field in pages[step].flat():
                        assert f'id="{field.input_id}' in html or field.widget in ("radio", "checkboxes"), (
                            name,
                            field.name,
                        )
                else:
                    assert "Review" in html, name
