"""Where the tests find VPP's API definitions (*.api.json): no heavy imports, so that
conftest can decide to skip before anything loads vpp_papi."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SYSTEM_DIR = Path("/usr/share/vpp/api")  # where a VPP package installs them
SEARCHED = "$VPP_API_DIR, ../shared/vpp-api, /usr/share/vpp/api"


def candidates() -> list[Path]:
    """In order: $VPP_API_DIR, <repo>/../shared/vpp-api, /usr/share/vpp/api."""
    found = [REPO_ROOT.parent / "shared" / "vpp-api", SYSTEM_DIR]
    env = os.environ.get("VPP_API_DIR")
    return [Path(env), *found] if env else found


def has_definitions(path: Path) -> bool:
    return path.is_dir() and next(path.rglob("*.api.json"), None) is not None


def find_api_dir() -> Path | None:
    return next((path for path in candidates() if has_definitions(path)), None)


def default_api_dir() -> Path:
    """The first place that holds definitions, else the first searched (errors name it)."""
    return find_api_dir() or candidates()[0]


def missing_reason() -> str | None:
    """Why the VPP tests cannot run here (one line), or None."""
    if find_api_dir() is not None:
        return None
    return f"no VPP API definitions (*.api.json) in {SEARCHED}"
