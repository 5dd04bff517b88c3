"""Where the VPP tests look for API definitions, and the one-line reason when none exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.vppemu import apidir


def definitions_in(path: Path) -> Path:
    (path / "core").mkdir(parents=True)
    (path / "core" / "memclnt.api.json").write_text("{}")
    return path


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose ../shared and /usr/share/vpp/api hold nothing."""
    monkeypatch.setattr(apidir, "REPO_ROOT", tmp_path / "clone")
    monkeypatch.setattr(apidir, "SYSTEM_DIR", tmp_path / "usr-share-vpp-api")
    monkeypatch.delenv("VPP_API_DIR", raising=False)
    return tmp_path


def test_without_definitions_the_reason_names_every_place_searched(nowhere: Path) -> None:
    reason = apidir.missing_reason()
    assert reason is not None and "\n" not in reason
    for place in ("$VPP_API_DIR", "../shared/vpp-api", "/usr/share/vpp/api"):
        assert place in reason


def test_vpp_api_dir_comes_first_then_shared_then_the_system(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = definitions_in(nowhere / "usr-share-vpp-api")
    assert apidir.find_api_dir() == system
    shared = definitions_in(nowhere / "shared" / "vpp-api")
    assert apidir.find_api_dir() == shared
    own = definitions_in(nowhere / "own")
    monkeypatch.setenv("VPP_API_DIR", str(own))
    assert apidir.find_api_dir() == own
    assert apidir.missing_reason() is None


def test_an_empty_vpp_api_dir_does_not_hide_the_others(
    nowhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (nowhere / "empty").mkdir()
    monkeypatch.setenv("VPP_API_DIR", str(nowhere / "empty"))
    system = definitions_in(nowhere / "usr-share-vpp-api")
    assert apidir.find_api_dir() == system
