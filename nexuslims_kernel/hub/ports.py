"""The hub's ports: which it needs, and whether each is free to bind (before starting, and in doctor)."""

from __future__ import annotations

from nexuslims_kernel.cli.ports import bind_problem
from nexuslims_kernel.config import Settings


def hub_ports(settings: Settings) -> dict[str, tuple[str, int, str]]:
    """name -> (address, port, setting that moves it)."""
    hub = settings.hub
    return {
        "public (proxy)": (hub.ip, hub.port, "--port or NXHUB_HUB_PORT"),
        "hub API": ("127.0.0.1", hub.api_port, "NXHUB_HUB_API_PORT"),
        "proxy API": ("127.0.0.1", hub.proxy_api_port, "NXHUB_HUB_PROXY_API_PORT"),
        "nxhub-api service": ("127.0.0.1", hub.service_port, "NXHUB_HUB_SERVICE_PORT"),
    }


def port_problem(host: str, port: int) -> str | None:
    """None when ``host:port`` can be bound now, else why not (the same probe as ``nxhub api serve``'s)."""
    return bind_problem(host, port)


def busy_ports(settings: Settings) -> list[str]:
    """One line per port the hub needs that cannot be bound, with the setting that moves it."""
    out = []
    for name, (host, port, knob) in hub_ports(settings).items():
        problem = port_problem(host, port)
        if problem:
            out.append(f"{name} port {host}:{port} is {problem}; choose another with {knob}")
    return out
