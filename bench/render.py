"""`python -m bench.render`: rendering the three PDFs of the issue step, in process, without a
database: the akta (whose QR encodes a new seal each time, as on the issue path), then the KIA
card and the KK print carrying the same code. Each figure leaves out the first rendering (fonts
loading); `--profile` adds a cProfile of the renderings after it.

The renderings are part of issue 19's "p95 <= 80 ms per akta from signature to issued"
(`bench.issuing` measures the whole step); this bench shows what each PDF costs on its own.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from akta_service.akta.document import AktaContent, render_akta_pdf
from akta_service.akta.kia import KiaContent, render_kia_pdf
from akta_service.akta.kk import KkContent, render_kk_pdf
from akta_service.verification.dukcapil import FamilyCard, FamilyMember, Relation
from bench import seal as seal_bench
from bench.common import percentiles

RENDERINGS = 101
_BASE45: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _seal(index: int) -> str:
    """A sealed text as long as a real one (470 base45 characters: a version-13 code), new
    each time."""
    state, chars = index * 7919 + 17, []
    for _ in range(470):
        state = (state * 1103515245 + 12345) % 2**31
        chars.append(_BASE45[state % len(_BASE45)])
    return "AK1:" + "".join(chars)


_GIVEN_NAMES: tuple[str, ...] = (
    "Rizky",
    "Putri",
    "Aditya",
    "Nabila",
    "Fajar",
    "Aisyah",
    "Bima",
    "Citra",
    "Dimas",
    "Intan",
)


def _child_name(index: int) -> str:
    """A name of a child of this bench, another for each of the first hundred reports."""
    first, second = _GIVEN_NAMES[index % 10], _GIVEN_NAMES[index // 10 % 10]
    return f"Muhammad {first} {second} Adiwijaya"


def _akta(seal: str) -> AktaContent:
    """The seal bench's akta (the same printed facts), with this bench's own seal."""
    return replace(seal_bench.akta_content(1), child_nik="3274054112260001", seal=seal)


def _kia(seal: str) -> KiaContent:
    return KiaContent(
        child_nik="3274054112260001",
        child_name="Muhammad Rizky Pratama Adiwijaya",
        child_sex="male",
        birth_place="Cirebon",
        birth_date=date(2026, 11, 21),
        kk_number="3274051503150007",
        head_of_family="Bambang Sutrisno Hadiningrat",
        registration_number="3274-LU-01122026-0001",
        region_name="Kota Cirebon",
        issue_place="Cirebon",
        issue_date=date(2026, 12, 1),
        valid_until=date(2031, 11, 21),
        officer_name="Drs. Budi Santoso, M.Si.",
        qr_text=seal,
    )


def _member(nik: str, name: str, sex: str, born: date, relation: Relation) -> FamilyMember:
    child = relation is Relation.CHILD
    return FamilyMember(
        nik=nik,
        name=name,
        sex=sex,
        birth_place="Cirebon",
        birth_date=born,
        relation=relation,
        father_name="Bambang Sutrisno Hadiningrat" if child else "Sutrisno",
        mother_name="Siti Nurhaliza Kartika Dewi" if child else "Kartini",
    )


def _kk(seal: str) -> KkContent:
    members = (
        _member(
            "3274051201880003",
            "Bambang Sutrisno Hadiningrat",
            "male",
            date(1988, 1, 12),
            Relation.HEAD,
        ),
        _member(
            "3274054503900002",
            "Siti Nurhaliza Kartika Dewi",
            "female",
            date(1990, 3, 5),
            Relation.WIFE,
        ),
        _member(
            "3274050707200001", "Aisyah Putri Ramadhani", "female", date(2020, 7, 7), Relation.CHILD
        ),
        _member(
            "3274054112260001",
            "Muhammad Rizky Pratama Adiwijaya",
            "male",
            date(2026, 11, 21),
            Relation.CHILD,
        ),
    )
    card = FamilyCard(
        kk_number="3274051503150007",
        head_name=members[0].name,
        head_nik=members[0].nik,
        address="Jl. Kesambi Raya No. 12",
        rt="003",
        rw="005",
        village="Kesambi",
        district="Kesambi",
        regency="Kota Cirebon",
        province="Jawa Barat",
        members=members,
    )
    return KkContent(
        card=card,
        new_child_nik=members[-1].nik,
        registration_number="3274-LU-01122026-0001",
        office_name="Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon",
        issue_place="Cirebon",
        issue_date=date(2026, 12, 1),
        officer_name="Drs. Budi Santoso, M.Si.",
        qr_text=seal,
    )


def _timed(
    samples: tuple[list[float], list[float]], render: Callable[[Any], bytes], content: Any
) -> None:
    """Append the rendering's wall time and this process's CPU time in it, in ms."""
    started, cpu = time.perf_counter(), time.process_time()
    render(content)
    samples[0].append((time.perf_counter() - started) * 1000)
    samples[1].append((time.process_time() - cpu) * 1000)


def main(argv: list[str] | None = None) -> None:
    options = sys.argv[1:] if argv is None else argv
    profiler = cProfile.Profile() if "--profile" in options else None
    akta_ms: tuple[list[float], list[float]] = ([], [])
    kia_ms: tuple[list[float], list[float]] = ([], [])
    kk_ms: tuple[list[float], list[float]] = ([], [])
    akta, kia, kk = _akta(""), _kia(""), _kk("")
    for index in range(RENDERINGS):
        # Each report its own seal, number and name, as on the issue path.
        seal, number, name = _seal(index), f"3274-LU-01122026-{index:04d}", _child_name(index)
        if profiler is not None and index == 1:
            profiler.enable()
        report_akta = replace(akta, seal=seal, registration_number=number, child_name=name)
        _timed(akta_ms, render_akta_pdf, report_akta)
        report_kia = replace(kia, qr_text=seal, registration_number=number, child_name=name)
        _timed(kia_ms, render_kia_pdf, report_kia)
        _timed(kk_ms, render_kk_pdf, replace(kk, qr_text=seal, registration_number=number))
    if profiler is not None:
        profiler.disable()
    load = os.getloadavg()[0]
    # Wall time moves with a busy machine; the CPU time of this process moves less.
    for kind, index in (("wall", 0), ("cpu", 1)):
        print(f"render[{kind}]: akta (QR encoded anew): {percentiles(akta_ms[index][1:])}")
        print(f"render[{kind}]: KIA (the same QR): {percentiles(kia_ms[index][1:])}")
        print(f"render[{kind}]: KK print (the same QR): {percentiles(kk_ms[index][1:])}")
        total = [
            a + b + c for a, b, c in zip(akta_ms[index], kia_ms[index], kk_ms[index], strict=True)
        ]
        print(f"render[{kind}]: the three per report: {percentiles(total[1:])}")
    print(f"render: load average {load:.1f} on {os.cpu_count()} cores")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(40)
        print(out.getvalue())


if __name__ == "__main__":
    main()
