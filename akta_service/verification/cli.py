"""`akta sandbox`: the Dukcapil sandbox as a server, and example families to try the service with.

Plain click commands: they need neither the service's app nor its database.
"""

from __future__ import annotations

import json
from typing import Any

import click

from akta_service.regions.data import REGIONS
from akta_service.verification.sandbox import FamilyKind, SandboxPopulation


@click.group("sandbox")
def sandbox_group() -> None:
    """The Dukcapil sandbox: a synthetic registry to develop and demonstrate against."""


_seed_option = click.option(
    "--seed", default=2026, show_default=True, type=int, help="Same seed, same people."
)
_families_option = click.option(
    "--families",
    "families_per_region",
    default=60,
    show_default=True,
    type=click.IntRange(min=10),
    envvar="AKTA_SANDBOX_FAMILIES",
    help="Families per kab/kota (a bigger population for load tests).",
)


@sandbox_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5001, show_default=True, type=int)
@_seed_option
@_families_option
@click.option(
    "--api-key",
    envvar="AKTA_SANDBOX_API_KEY",
    default=None,
    help="Require 'Authorization: Bearer KEY' (or set AKTA_SANDBOX_API_KEY).",
)
@click.option("--latency-ms", default=0, show_default=True, type=click.IntRange(min=0))
@click.option(
    "--error-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of 503s.",
)
@click.option("--down", is_flag=True, help="Answer every call with 503.")
@click.option(
    "--malformed-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of answers that are not JSON.",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(min=1))
def serve_command(
    host: str,
    port: int,
    seed: int,
    families_per_region: int,
    api_key: str | None,
    latency_ms: int,
    error_rate: float,
    down: bool,
    malformed_rate: float,
    threads: int,
) -> None:
    """Serve the sandbox over HTTP with waitress; change its faults at /_faults."""
    import waitress

    from akta_service.verification.sandbox_server import Faults, create_sandbox_app

    population = SandboxPopulation.build(seed, families_per_region=families_per_region)
    faults = Faults(latency_ms, error_rate, down, malformed_rate, seed)
    app = create_sandbox_app(population, faults, api_key=api_key)
    click.echo(
        f"Sandbox Dukcapil berjalan di http://{host}:{port}/ "
        f"(seed {seed}, {len(population.families())} KK"
        f"{', kunci API wajib' if api_key else ''})"
    )
    waitress.serve(app, host=host, port=port, threads=threads, ident="akta-sandbox")


@sandbox_group.command("families")
@click.option("--count", default=5, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--format",
    "output",
    default="table",
    show_default=True,
    type=click.Choice(["table", "json"]),
    help="json includes a complete example report for each family.",
)
@click.option("--kind", type=click.Choice([kind.value for kind in FamilyKind]), default=None)
@click.option("--region", type=click.Choice([region["code"] for region in REGIONS]), default=None)
@_seed_option
@_families_option
def families_command(
    count: int,
    output: str,
    kind: str | None,
    region: str | None,
    seed: int,
    families_per_region: int,
) -> None:
    """Print sandbox families to report births for, with example reports."""
    population = SandboxPopulation.build(seed, families_per_region=families_per_region)
    samples = population.sample_families(count, kind, region=region)
    if len(samples) < count:
        click.echo(f"Hanya {len(samples)} keluarga yang cocok.", err=True)
    if output == "json":
        click.echo(json.dumps(samples, indent=2, ensure_ascii=False))
    else:
        click.echo(_table(samples))


def _table(samples: list[dict[str, Any]]) -> str:
    headers = ["jenis", "kab/kota", "nomor KK", "NIK ibu", "nama ibu", "NIK ayah", "nama ayah"]
    headers += ["perkawinan", "anak"]
    rows = [headers, ["-" * len(header) for header in headers]]
    for sample in samples:
        father = sample["father"] or {"nik": "-", "name": "-"}
        marriage = sample["marriage"]["certificate_number"] or (
            "belum tercatat" if sample["father"] else "-"
        )
        rows.append(
            [
                sample["kind"],
                sample["region"],
                sample["kk_number"],
                sample["mother"]["nik"],
                sample["mother"]["name"],
                father["nik"],
                father["name"],
                marriage,
                str(sample["existing_children"]),
            ]
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )
