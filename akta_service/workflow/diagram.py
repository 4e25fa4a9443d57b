"""A Mermaid state diagram generated from the workflow definition."""

from __future__ import annotations

from akta_service.workflow.definition import WorkflowDefinition


def mermaid(workflow: WorkflowDefinition) -> str:
    """Mermaid `stateDiagram-v2` text: every trigger as an edge labelled with who fires it."""
    lines = ["stateDiagram-v2", f"    [*] --> {workflow.initial}"]
    for trigger in workflow.triggers.values():
        roles = ", ".join(sorted(trigger.roles))
        for source in trigger.sources:
            lines.append(f"    {source} --> {trigger.dest}: {trigger.name} ({roles})")
    lines.extend(f"    {state} --> [*]" for state in workflow.states if state in workflow.final)
    return "\n".join(lines) + "\n"
