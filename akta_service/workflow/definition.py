"""Loading `workflows/*.yaml` into a checked definition and a python-transitions machine."""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from transitions import EventData, Machine

from akta_service.core.actors import Role
from akta_service.core.resources import resource_dir


class WorkflowDefinitionError(ValueError):
    """The workflow file is wrong; the message says where."""


#: Settings a flag's text may name in braces, e.g. "{on_time_days}".
TEXT_SETTINGS = frozenset({"on_time_days"})


@dataclass(frozen=True)
class Trigger:
    """One trigger: from which states to which, who may fire it, and what it checks and does."""

    name: str
    sources: tuple[str, ...]
    dest: str
    roles: frozenset[Role]
    guards: tuple[str, ...]
    effects: tuple[str, ...]


@dataclass(frozen=True)
class WorkflowDefinition:
    """A loaded, checked workflow and the state machine built from it."""

    name: str
    initial: str
    states: Mapping[str, str]
    final: frozenset[str]
    flags: Mapping[str, str]
    triggers: Mapping[str, Trigger]
    machine: Machine

    def flag_text(self, flag: str, **settings: object) -> str:
        """The flag's text with the settings it names filled in (see TEXT_SETTINGS)."""
        return self.flags[flag].format_map(settings)

    def triggers_from(self, state: str, role: Role | None = None) -> list[str]:
        """Triggers that apply in `state` (for `role`, when given), in file order."""
        return [
            t.name
            for t in self.triggers.values()
            if state in t.sources and (role is None or role in t.roles)
        ]


Guard = Callable[[EventData], bool]
Effect = Callable[[EventData], None]


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _parse_trigger(name: str, spec: Mapping[str, Any], states: Mapping[str, str]) -> Trigger:
    where = f"trigger {name!r}"
    unknown_keys = set(spec) - {"from", "to", "roles", "guards", "effects"}
    if unknown_keys:
        raise WorkflowDefinitionError(f"{where}: unknown keys {sorted(unknown_keys)}")
    sources = _as_tuple(spec.get("from"))
    dest = str(spec.get("to", ""))
    for state in (*sources, dest):
        if state not in states:
            raise WorkflowDefinitionError(f"{where}: unknown state {state!r}")
    roles = _as_tuple(spec.get("roles"))
    if not roles:
        raise WorkflowDefinitionError(f"{where}: no roles may fire it")
    known_roles = {str(r) for r in Role}
    for role in roles:
        if role not in known_roles:
            raise WorkflowDefinitionError(
                f"{where}: unknown role {role!r} (known: {', '.join(sorted(known_roles))})"
            )
    return Trigger(
        name=name,
        sources=sources,
        dest=dest,
        roles=frozenset(Role(r) for r in roles),
        guards=_as_tuple(spec.get("guards")),
        effects=_as_tuple(spec.get("effects")),
    )


def _check_reachable(
    initial: str, states: Mapping[str, str], triggers: Mapping[str, Trigger]
) -> None:
    reached = {initial}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for trigger in triggers.values():
            if state in trigger.sources and trigger.dest not in reached:
                reached.add(trigger.dest)
                queue.append(trigger.dest)
    unreachable = [s for s in states if s not in reached]
    if unreachable:
        raise WorkflowDefinitionError(
            f"states no trigger can reach from {initial!r}: {', '.join(unreachable)}"
        )


def _build_machine(
    initial: str,
    states: Mapping[str, str],
    triggers: Mapping[str, Trigger],
    guards: Mapping[str, Guard],
    effects: Mapping[str, Effect],
) -> Machine:
    transitions = [
        {
            "trigger": t.name,
            "source": list(t.sources),
            "dest": t.dest,
            "conditions": [guards[g] for g in t.guards],
            "after": [effects[e] for e in t.effects],
        }
        for t in triggers.values()
    ]
    # model=None: reports are not attached to the machine; the engine fires each
    # event against a short-lived subject, so one machine serves every request.
    return Machine(
        model=None,
        states=list(states),
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        send_event=True,
        ignore_invalid_triggers=False,
        model_attribute="state",
    )


def parse_workflow(
    document: Mapping[str, Any], guards: Mapping[str, Guard], effects: Mapping[str, Effect]
) -> WorkflowDefinition:
    """Check a parsed workflow document against the known guards, effects and roles."""
    states = {str(k): str(v) for k, v in (document.get("states") or {}).items()}
    if not states:
        raise WorkflowDefinitionError("no states declared")
    initial = str(document.get("initial", ""))
    if initial not in states:
        raise WorkflowDefinitionError(f"initial state {initial!r} is not declared")
    final = frozenset(_as_tuple(document.get("final")))
    if final - set(states):
        raise WorkflowDefinitionError(f"unknown final states: {sorted(final - set(states))}")
    triggers = {
        str(name): _parse_trigger(str(name), spec or {}, states)
        for name, spec in (document.get("triggers") or {}).items()
    }
    for trigger in triggers.values():
        for guard in trigger.guards:
            if guard not in guards:
                raise WorkflowDefinitionError(
                    f"trigger {trigger.name!r}: unknown guard {guard!r} "
                    f"(known: {', '.join(sorted(guards))})"
                )
        for effect in trigger.effects:
            if effect not in effects:
                raise WorkflowDefinitionError(
                    f"trigger {trigger.name!r}: unknown effect {effect!r} "
                    f"(known: {', '.join(sorted(effects))})"
                )
        if trigger.sources and set(trigger.sources) & final:
            raise WorkflowDefinitionError(
                f"trigger {trigger.name!r} leaves final states "
                f"{sorted(set(trigger.sources) & final)}"
            )
    _check_reachable(initial, states, triggers)
    flags = {str(k): str(v) for k, v in (document.get("flags") or {}).items()}
    for flag, text in flags.items():
        named = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
        if named - TEXT_SETTINGS:
            raise WorkflowDefinitionError(
                f"flag {flag!r} names unknown settings {sorted(named - TEXT_SETTINGS)} "
                f"(known: {', '.join(sorted(TEXT_SETTINGS))})"
            )
    return WorkflowDefinition(
        name=str(document.get("name", "")),
        initial=initial,
        states=states,
        final=final,
        flags=flags,
        triggers=triggers,
        machine=_build_machine(initial, states, triggers, guards, effects),
    )


def load_workflow_file(path: Path) -> WorkflowDefinition:
    """Load and check one workflow file with the service's guards and effects."""
    from akta_service.workflow.rules import EFFECTS, GUARDS

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise WorkflowDefinitionError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise WorkflowDefinitionError(f"{path.name}: expected a mapping at the top")
    try:
        return parse_workflow(document, GUARDS, EFFECTS)
    except WorkflowDefinitionError as exc:
        raise WorkflowDefinitionError(f"{path.name}: {exc}") from exc


@cache
def birth_registration() -> WorkflowDefinition:
    """The birth-registration workflow, loaded once per process."""
    return load_workflow_file(resource_dir("workflows") / "birth_registration.yaml")


@cache
def birth_notification() -> WorkflowDefinition:
    """The workflow of a facility's birth notification, loaded once per process."""
    return load_workflow_file(resource_dir("workflows") / "birth_notification.yaml")
