"""Loading the workflow file: a wrong file stops the service with a message that says where."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from akta_service.core.resources import resource_dir
from akta_service.workflow.definition import (
    WorkflowDefinitionError,
    birth_registration,
    load_workflow_file,
    parse_workflow,
)
from akta_service.workflow.diagram import mermaid
from akta_service.workflow.rules import EFFECTS, GUARDS

WORKFLOW_FILE = resource_dir("workflows") / "birth_registration.yaml"
README = Path(__file__).resolve().parents[2] / "README.md"


def _document() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(WORKFLOW_FILE.read_text()))


def _load(document: dict[str, Any]) -> Any:
    return parse_workflow(document, GUARDS, EFFECTS)


def test_the_shipped_workflow_loads() -> None:
    workflow = load_workflow_file(WORKFLOW_FILE)
    assert workflow.initial == "submitted"
    assert workflow.final == {"annulled", "rejected", "cancelled"}
    assert set(workflow.flags) == {"late", "potential_duplicate", "dukcapil_unavailable"}


def test_unknown_guard_is_refused() -> None:
    document = _document()
    document["triggers"]["approve"]["guards"].append("moon_is_full")
    with pytest.raises(WorkflowDefinitionError, match=r"'approve': unknown guard 'moon_is_full'"):
        _load(document)


def test_unknown_effect_is_refused() -> None:
    document = _document()
    document["triggers"]["issue"]["effects"] = ["print_money"]
    with pytest.raises(WorkflowDefinitionError, match=r"'issue': unknown effect 'print_money'"):
        _load(document)


def test_unknown_role_is_refused() -> None:
    document = _document()
    document["triggers"]["sign"]["roles"] = ["pejabat", "lurah"]
    with pytest.raises(WorkflowDefinitionError, match=r"'sign': unknown role 'lurah'"):
        _load(document)


def test_unreachable_state_is_refused() -> None:
    document = _document()
    del document["triggers"]["issue"]
    with pytest.raises(WorkflowDefinitionError, match=r"no trigger can reach .*: issued"):
        _load(document)


def test_unknown_state_in_a_trigger_is_refused() -> None:
    document = _document()
    document["triggers"]["approve"]["to"] = "approved"
    with pytest.raises(WorkflowDefinitionError, match=r"'approve': unknown state 'approved'"):
        _load(document)


def test_a_trigger_leaving_a_final_state_is_refused() -> None:
    document = _document()
    document["triggers"]["cancel"]["from"].append("annulled")
    with pytest.raises(WorkflowDefinitionError, match=r"'cancel' leaves final states"):
        _load(document)


def test_a_broken_file_names_itself(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("states: [unclosed\n")
    with pytest.raises(WorkflowDefinitionError, match=r"broken.yaml: not valid YAML"):
        load_workflow_file(broken)


def test_diagram_has_every_transition() -> None:
    workflow = birth_registration()
    text = mermaid(workflow)
    assert text.startswith("stateDiagram-v2\n    [*] --> submitted\n")
    edges = re.findall(r"^    (\w+) --> (\w+): (\w+) ", text, flags=re.M)
    expected = {(s, t.dest, t.name) for t in workflow.triggers.values() for s in t.sources}
    assert set(edges) == expected


def test_readme_diagram_is_current() -> None:
    """The README shows the diagram generated from the YAML; regenerate it when this fails:
    `akta workflow diagram`."""
    readme = README.read_text()
    match = re.search(r"```mermaid\n(.*?)```", readme, flags=re.S)
    assert match, "README has no ```mermaid block"
    assert match.group(1) == mermaid(birth_registration()), (
        "README's workflow diagram is stale: paste the output of `akta workflow diagram`"
    )


def test_a_flag_naming_an_unknown_setting_is_refused() -> None:
    document = _document()
    document["flags"]["late"] = "Lebih dari {grace_days} hari"
    with pytest.raises(WorkflowDefinitionError, match=r"flag 'late' names unknown settings"):
        _load(document)


def test_a_flag_text_is_filled_from_the_settings() -> None:
    text = birth_registration().flag_text("late", on_time_days=45)
    assert text.startswith("Dilaporkan lebih dari 45 hari setelah kelahiran")
