"""Errors are one line on stderr with exit code 1; config contexts and environment overrides;
shell completion."""

from __future__ import annotations

from pathlib import Path

from tests.api.support import ADMIN_TOKEN, LiveServer

from .conftest import Cli, assert_one_line_error


def test_a_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    assert_one_line_error(cli("apply", "-f", str(tmp_path / "nope.yaml")), "nope.yaml", "No such")


def test_bad_yaml_names_the_file_and_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: Namespace\nmetadata: {name: [unclosed\n")
    assert_one_line_error(cli("apply", "-f", str(path)), "bad.yaml", "line")


def test_an_invalid_object_shows_the_problem_title_and_each_field(cli: Cli) -> None:
    cli.ok("apply", "-f", "-", stdin="kind: Namespace\nmetadata: {name: default}\nspec: {}\n")
    bad = "kind: Service\nmetadata: {name: web}\nspec: {clusterIPs: [not-an-ip], ports: []}\n"
    done = cli("apply", "-f", "-", stdin=bad)
    assert_one_line_error(done, "service/web", "(422)", "spec.clusterIPs")


def test_usage_mistakes_and_unknown_kinds(cli: Cli) -> None:
    assert_one_line_error(cli("get", "gizmos"), "unknown kind 'gizmos'")
    assert_one_line_error(cli("get", "--output", "xml", "nodes"), "xml")
    assert_one_line_error(cli("describe", "nodes"), "describe needs KIND NAME")
    assert_one_line_error(cli("apply"), "-f")


def test_a_bad_token_and_an_unreachable_api(cli: Cli) -> None:
    assert_one_line_error(cli("get", "nodes", "--token", "wrong"), "(401)")
    gone = cli("get", "nodes", SWITCHYARD_API="http://127.0.0.1:9")
    assert_one_line_error(gone, "cannot reach the API at http://127.0.0.1:9")


def test_contexts_from_the_config_file_and_environment_overrides(
    server: LiveServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "admin.token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    config = tmp_path / "config.yaml"
    cli = Cli({"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, tmp_path)
    cli.env.update(SWITCHYARD_CONFIG=str(config))
    cli.ok("config", "set-context", "lab", "--server", server.url, "--token-path", str(token_file))
    cli.ok("config", "set-context", "off", "--server", "http://127.0.0.1:9")
    assert cli.ok("config", "get-contexts").splitlines() == [
        f"* lab  {server.url}",
        "  off  http://127.0.0.1:9",
    ]
    assert cli.ok("get", "nodes") == ""
    view = cli.ok("config", "view")
    assert "token: <set>" in view and ADMIN_TOKEN not in view
    assert_one_line_error(cli("get", "nodes", "--context", "off"), "cannot reach")
    assert cli("get", "nodes", SWITCHYARD_CONTEXT="off").returncode == 1
    cli.ok("config", "use-context", "off")
    assert_one_line_error(cli("get", "nodes"), "cannot reach")
    assert cli("get", "nodes", SWITCHYARD_API=server.url).returncode == 1  # no token in "off"
    assert cli.ok("get", "nodes", SWITCHYARD_API=server.url, SWITCHYARD_TOKEN=ADMIN_TOKEN) == ""
    assert_one_line_error(cli("get", "nodes", "--context", "missing"), "no context 'missing'")


def test_shell_completion_script_and_kind_completion(cli: Cli) -> None:
    script = cli.ok("completion", "bash")
    assert "_SWITCHYARD_COMPLETE" in script and "complete " in script
    done = cli(_SWITCHYARD_COMPLETE="bash_complete", COMP_WORDS="switchyard get na", COMP_CWORD="2")
    assert done.returncode == 0
    assert "plain,namespaces" in done.stdout.splitlines()
