"""What the demo facility contains: fixed, so running the demo twice changes nothing.

Two instruments in different time zones, three users in two groups (bob is
in both) and an administrator (dana), two projects, and a week of sessions whose records end up public,
group-only or private so the API's access rules show differences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

#: Monday of the demo week (fixed: sessions are found again by their external id).
WEEK = dt.date(2025, 3, 3)
SOURCE = "logger"

INSTRUMENTS = [
    {
        "name": "Demo-TEM",
        "display_name": "Demo Titan TEM",
        "location": "Building 1, Room 101",
        "timezone": "Europe/Berlin",
        "kind": "TEM",
    },
    {
        "name": "Demo-SEM",
        "display_name": "Demo Quanta SEM",
        "location": "Building 2, Room 202",
        "timezone": "America/New_York",
        "kind": "SEM",
    },
]
USERS = [
    {"username": "alice", "display_name": "Alice Archer", "email": "alice@example.org"},
    {"username": "bob", "display_name": "Bob Brown", "email": "bob@example.org"},
    {"username": "carol", "display_name": "Carol Chen", "email": "carol@example.org"},
    # The facility manager: an administrator (sees every record, manages instruments and people).
    {"username": "dana", "display_name": "Dana Director", "email": "dana@example.org", "is_admin": True},
]
GROUPS = {
    "materials-lab": {"description": "Nanoparticle and thin-film materials", "members": ["alice", "bob"]},
    "catalysis-lab": {"description": "Electrocatalysts", "members": ["carol", "bob"]},
}
PROJECTS = [
    {"name": "fept-nanoparticles", "title": "Ordering in FePt nanoparticles", "group": "materials-lab"},
    {"name": "catalyst-ageing", "title": "Pt/C catalyst ageing", "group": "catalysis-lab"},
]


@dataclass(frozen=True)
class DemoSession:
    """One planned session; ``recipe`` names the files acquired (see :mod:`.datafiles`)."""

    key: str  # external id
    day: int  # days after WEEK
    instrument: str
    user: str
    project: str | None
    start_hour: int  # local time at the instrument
    hours: int
    recipe: str
    access: str  # public | group | private
    reservation: dict[str, Any] = field(default_factory=dict)


SESSIONS = [
    DemoSession(
        "demo-01",
        0,
        "Demo-TEM",
        "alice",
        "fept-nanoparticles",
        9,
        3,
        "tem_imaging",
        "public",
        {
            "title": "FePt nanoparticles: HAADF survey and EDS",
            "motivation": "Check the size distribution and composition of batch 7 after annealing.",
            "samples": [
                {"name": "FePt-NP-07", "description": "FePt nanoparticles on lacey carbon", "elements": ["Fe", "Pt", "C"]}
            ],
        },
    ),
    DemoSession(
        "demo-02",
        0,
        "Demo-SEM",
        "carol",
        "catalyst-ageing",
        13,
        2,
        "sem_eds",
        "group",
        {
            "title": "Pt/C catalyst after 1000 cycles",
            "motivation": "Look for Pt agglomeration after accelerated stress testing.",
            "samples": [{"name": "PtC-AST-1000", "elements": ["Pt", "C", "O"]}],
        },
    ),
    DemoSession(
        "demo-03",
        1,
        "Demo-TEM",
        "bob",
        "fept-nanoparticles",
        10,
        4,
        "tem_diffraction",
        "group",
        {
            "title": "Diffraction of L1\u2080-ordered FePt",
            "motivation": "Superlattice reflections as evidence of chemical ordering.",
            "samples": ["FePt-NP-07"],
        },
    ),
    DemoSession("demo-04", 2, "Demo-SEM", "alice", None, 9, 2, "sem_imaging", "private", {}),
    DemoSession(
        "demo-05",
        3,
        "Demo-TEM",
        "carol",
        "catalyst-ageing",
        14,
        3,
        "tem_eels",
        "public",
        {
            "title": "EELS of the carbon support",
            "motivation": "Graphitisation of the support after cycling (C K-edge fine structure).",
            "samples": [{"name": "PtC-AST-1000", "elements": ["C", "Pt"]}],
        },
    ),
    DemoSession(
        "demo-06",
        4,
        "Demo-SEM",
        "bob",
        "fept-nanoparticles",
        11,
        2,
        "sem_imaging",
        "group",
        {
            "title": 'FIB lamella <b>cross-section</b> & "quotes"',  # markup in data: pages must escape it
            "motivation": "Lamella thickness before TEM; note: <script>alert('demo')</script> is just text.",
            "samples": [{"name": "FePt-film-3", "elements": ["Fe", "Pt", "Si"]}],
        },
    ),
    DemoSession(
        "demo-07",
        5,
        "Demo-TEM",
        "alice",
        "fept-nanoparticles",
        9,
        2,
        "tem_stack",
        "group",
        {"title": "Tilt series for tomography", "motivation": "3D shape of faceted particles.", "samples": ["FePt-NP-07"]},
    ),
    DemoSession(
        "demo-08",
        6,
        "Demo-SEM",
        "carol",
        "catalyst-ageing",
        10,
        2,
        "sem_eds",
        "private",
        {
            "title": "Fresh catalyst reference",
            "motivation": "Reference before cycling.",
            "samples": [{"name": "PtC-fresh", "elements": ["Pt", "C"]}],
        },
    ),
]


def planned_sessions(n: int) -> list[DemoSession]:
    """The first ``n`` sessions; past the plan, the week repeats a week later each time."""
    out = []
    for i in range(n):
        base = SESSIONS[i % len(SESSIONS)]
        week = i // len(SESSIONS)
        if week == 0:
            out.append(base)
        else:
            out.append(
                DemoSession(
                    f"{base.key}-w{week}",
                    base.day + 7 * week,
                    base.instrument,
                    base.user,
                    base.project,
                    base.start_hour,
                    base.hours,
                    base.recipe,
                    base.access,
                    base.reservation,
                )
            )
    return out
