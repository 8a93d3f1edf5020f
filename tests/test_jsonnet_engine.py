"""The three Jsonnet engines: same output, same import-path order, same variables, errors at file:line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bo1dash import jsonnet_engine, paths
from bo1dash.compile import CompileError, compile_mixin
from bo1dash.jsonnet_engine import ENGINES, EngineUnavailable, JsonnetError, evaluate


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_all_three_engines_are_installed() -> None:
    """pyproject.toml pins all three, so CI tests each of them (none may silently drop out of the tests below)."""
    assert jsonnet_engine.available() == list(ENGINES)


def test_every_engine_builds_byte_identical_files(tmp_path: Path, repo_root: Path) -> None:
    built = {}
    for engine in ENGINES:
        out = tmp_path / engine
        result = subprocess.run(
            [sys.executable, "-m", "bo1dash", "build", "--engine", engine, "--out", str(out)],
            cwd=repo_root,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        built[engine] = _snapshot(out)
    assert len(built["jsonnet"]) >= 9
    for engine in ENGINES:
        assert built[engine] == built["jsonnet"], f"{engine} differs from the C++ jsonnet"


def test_the_environment_variable_chooses_the_engine(tmp_path: Path, repo_root: Path, monkeypatch) -> None:
    monkeypatch.setenv(jsonnet_engine.ENV_VAR, "gojsonnet")
    assert compile_mixin(paths.mixin_entry(repo_root), root=repo_root).engine == "gojsonnet"
    monkeypatch.setenv(jsonnet_engine.ENV_VAR, "nosuchengine")
    with pytest.raises(CompileError, match=jsonnet_engine.ENV_VAR):
        compile_mixin(paths.mixin_entry(repo_root), root=repo_root)
    with pytest.raises(EngineUnavailable):
        jsonnet_engine.resolve("nosuchengine")


def test_an_unknown_engine_on_the_command_line_is_one_clear_line(repo_root: Path) -> None:
    env = dict(os.environ, **{jsonnet_engine.ENV_VAR: "v8"})
    result = subprocess.run(
        [sys.executable, "-m", "bo1dash", "build", "--out", "/nonexistent/never-written"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "'v8'" in result.stderr


@pytest.mark.parametrize("engine", ENGINES)
def test_the_import_path_is_first_match_wins(tmp_path: Path, engine: str) -> None:
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "lib.libsonnet").write_text(f"'{name}'\n")
    out = evaluate(
        str(tmp_path / "main.jsonnet"),
        "import 'lib.libsonnet'",
        import_path=[tmp_path / "missing", tmp_path / "first", tmp_path / "second"],
        engine=engine,
    )
    assert json.loads(out) == "first"


@pytest.mark.parametrize("engine", ENGINES)
def test_ext_and_top_level_vars(tmp_path: Path, engine: str) -> None:
    out = evaluate(
        str(tmp_path / "main.jsonnet"),
        "function(who) { greeting: std.extVar('greeting') + ', ' + who }",
        engine=engine,
        ext_vars={"greeting": "hello"},
        tla_vars={"who": "grafana"},
    )
    assert json.loads(out) == {"greeting": "hello, grafana"}


# Each case: the file's text and the line the error must be located at.
_ERRORS = {
    "error statement": ("{\n  a: 1,\n  b: error 'boom',\n}\n", 3),
    "type error inside a std function": (
        "local budget = '5000';\n{\n  a: 1,\n  b: std.join(',', [budget, 1]),\n}\n",
        4,
    ),
    "type error of an operator": ("local budget = '5000';\n{\n  b: budget - 2,\n}\n", 3),
    "no such std function": ("{\n  a: 1,\n  b: std.thisFunctionDoesNotExist(1),\n}\n", 3),
    "syntax error": ("{\n  a: 1,\n  b: ),\n}\n", 3),
    "format of a string as a number": ("local budget = '5000';\n{\n  a: 'the budget is %g USD' % budget,\n}\n", 3),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(_ERRORS))
def test_an_error_names_the_user_file_and_line(tmp_path: Path, engine: str, case: str) -> None:
    text, line = _ERRORS[case]
    lib = tmp_path / "lib" / "broken.libsonnet"
    lib.parent.mkdir()
    lib.write_text(text)
    with pytest.raises(JsonnetError) as err:
        evaluate(
            str(tmp_path / "<wrapper>"),
            "local m = import 'broken.libsonnet'; { out: m }",
            import_path=[lib.parent],
            engine=engine,
        )
    assert (err.value.file, err.value.line) == (str(lib), line), str(err.value)
    assert err.value.message and "std.jsonnet" not in str(err.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_type_error_in_our_mixin_points_at_the_mixin_not_the_std_library(
    tmp_path: Path, repo_root: Path, engine: str
) -> None:
    consumer = tmp_path / "consumer.jsonnet"
    consumer.write_text("(import 'mixin.libsonnet') + { _config+:: { llmMonthlyBudgetUsd: '5000' } }\n")
    with pytest.raises(CompileError) as err:
        compile_mixin(consumer, root=repo_root, engine=engine)
    assert err.value.line, str(err.value)
    source = Path(err.value.file)
    assert source.is_file() and (repo_root / "jsonnet") in source.parents, str(err.value)
    # The error names the key, in its message or on the line of ours it points at (a use or a type assert).
    near = "\n".join(source.read_text().splitlines()[err.value.line - 3 : err.value.line + 2])
    assert "llmMonthlyBudgetUsd" in err.value.message + near, str(err.value)
    assert "std.jsonnet" not in str(err.value)
