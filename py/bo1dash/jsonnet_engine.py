"""Evaluate Jsonnet through any of three Python bindings, with one calling convention and one error shape.

| engine      | PyPI package | module       | implementation          |
|-------------|--------------|--------------|-------------------------|
| `rjsonnet`  | rjsonnet     | `rjsonnet`   | jrsonnet (Rust)         |
| `gojsonnet` | gojsonnet    | `_gojsonnet` | go-jsonnet (tanka's)    |
| `jsonnet`   | jsonnet      | `_jsonnet`   | the C++ reference       |

What differs between them and is hidden here:
- the import path: `_jsonnet` and `_gojsonnet` search `jpathdir` right-most first, `rjsonnet` left-most
  first; `evaluate` takes the path first-match-wins and orders it for each;
- the JSON text (indentation): callers parse it, so only the values count, and those are identical;
- the error text: each has its own traceback format; `evaluate` raises `JsonnetError` with the first frame
  that is not the standard library nor the caller's own wrapper snippet. jrsonnet leaves some errors without
  a location (a missing field of an object), or the place a lazy value was used instead of made (a std.format
  type error): then the error is located by evaluating again with another installed engine (only on failure,
  so it costs nothing on a good build).

The default is the fastest engine that gives byte-identical output on our mixin (`docs/benchmark.md`),
`$BO1DASH_JSONNET_ENGINE` or an explicit name overrides it.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ENV_VAR = "BO1DASH_JSONNET_ENGINE"
DEFAULT_ENGINE = "rjsonnet"


@dataclass(frozen=True)
class _Binding:
    module: str
    package: str
    rightmost_first: bool  # how the binding searches jpathdir


_BINDINGS = {
    "rjsonnet": _Binding(module="rjsonnet", package="rjsonnet", rightmost_first=False),
    "gojsonnet": _Binding(module="_gojsonnet", package="gojsonnet", rightmost_first=True),
    "jsonnet": _Binding(module="_jsonnet", package="jsonnet", rightmost_first=True),
}
ENGINES = tuple(_BINDINGS)

# Frames that are no place for a user to fix: the standard library (as each engine names it) and the
# wrapper snippet a caller evaluates around its entry (named `<...>`).
_NOT_USER_CODE = re.compile(r"^(std\.jsonnet|<std>|<builtin>|<extvar:.*>|<top-level-arg:.*>|.*<[^/>]*>)$")
# `file:line:col`, `file:line:col-col`, `file:(line:col)-(line:col)` as the three engines print them.
_FRAME = re.compile(r"(?P<file>(?:[A-Za-z]:)?[^\s:()]*[^\s:()\d][^\s:()]*):\(?(?P<line>\d+):\d+")
_ANY_FILE = re.compile(r"(?P<file>/[^\s:()]+\.(?:libsonnet|jsonnet|json))")
_PREFIX = re.compile(r"^(?:RUNTIME ERROR|STATIC ERROR|runtime error|syntax error|type error)\s*:\s*", re.I)


class EngineUnavailable(ValueError):
    """The engine named is unknown or its binding is not installed; the message says how to fix it."""


class JsonnetError(Exception):
    """Jsonnet evaluation failed at `file`:`line` (line None when no engine could say) with `message`."""

    def __init__(self, file: str | None, line: int | None, message: str, engine: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        self.engine = engine
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


def resolve(name: str | None = None) -> str:
    """The engine to use: `name`, else $BO1DASH_JSONNET_ENGINE, else the default; checked to be importable."""
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT_ENGINE
    if chosen not in _BINDINGS:
        source = "--engine" if name else ENV_VAR if os.environ.get(ENV_VAR) else "default"
        raise EngineUnavailable(f"unknown jsonnet engine {chosen!r} ({source}); use one of {', '.join(ENGINES)}")
    _module(chosen)
    return chosen


def available() -> list[str]:
    """The engines whose binding is installed, in ENGINES order."""
    out = []
    for name in ENGINES:
        try:
            _module(name)
        except EngineUnavailable:
            continue
        out.append(name)
    return out


def evaluate(
    filename: str,
    snippet: str,
    *,
    import_path: Sequence[Path | str] = (),
    engine: str | None = None,
    ext_vars: dict[str, str] | None = None,
    tla_vars: dict[str, str] | None = None,
) -> str:
    """Evaluate `snippet` (named `filename` in errors; relative imports resolve beside it) to JSON text.

    `import_path` is searched first match wins; directories that do not exist are left out. Raises
    JsonnetError (file, line, message) on any Jsonnet error, EngineUnavailable for an unknown engine.
    """
    name = resolve(engine)
    run = _runner(name, import_path, ext_vars or {}, tla_vars or {})
    try:
        return run(filename, snippet)
    except RuntimeError as exc:
        text = str(exc)
        error = parse_error(text, name)
    if error.line is None or (name == "rjsonnet" and _raised_in_unlocated_code(text)):
        error = _locate_elsewhere(error, filename, snippet, import_path, ext_vars or {}, tla_vars or {})
    raise error


def parse_error(text: str, engine: str) -> JsonnetError:
    """An engine's error text -> JsonnetError at the first frame in user code, with the first message line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    message = _PREFIX.sub("", lines[0]) if lines else "jsonnet evaluation failed"
    for ln in lines:
        for m in _FRAME.finditer(ln):
            file = m.group("file")
            if _NOT_USER_CODE.match(file):
                continue
            # A static error carries its location inside the message: keep only the words.
            if message.startswith(file):
                message = re.sub(r"^\S+:\(?\d+:\d+\S*\s*", "", message).lstrip(": ") or message
            return JsonnetError(file, int(m.group("line")), message, engine)
    files = [m.group("file") for m in _ANY_FILE.finditer(text) if not _NOT_USER_CODE.match(m.group("file"))]
    return JsonnetError(files[0] if files else None, None, message, engine)


def _raised_in_unlocated_code(text: str) -> bool:
    """jrsonnet names no place for an error raised inside some builtins (std.format of a lazy value): the frame
    under the message has no location, and the first located frame is where the value was used, not made."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return len(lines) > 1 and not _FRAME.search(lines[1]) and not lines[1].startswith(("field <", "Field "))


def _locate_elsewhere(
    error: JsonnetError,
    filename: str,
    snippet: str,
    import_path: Sequence[Path | str],
    ext_vars: dict[str, str],
    tla_vars: dict[str, str],
) -> JsonnetError:
    """Evaluate again with another installed engine that names the line; keep the first engine's message."""
    for other in ("gojsonnet", "jsonnet"):
        if other == error.engine or other not in available():
            continue
        try:
            _runner(other, import_path, ext_vars, tla_vars)(filename, snippet)
        except RuntimeError as exc:
            located = parse_error(str(exc), other)
            if located.line is not None:
                return JsonnetError(located.file, located.line, error.message, error.engine)
        return error  # the other engine evaluated it: nothing better to say
    return error


def _runner(
    name: str, import_path: Sequence[Path | str], ext_vars: dict[str, str], tla_vars: dict[str, str]
) -> Callable[[str, str], str]:
    binding = _BINDINGS[name]
    module = _module(name)
    jpath = [str(p) for p in import_path if Path(p).is_dir()]
    if binding.rightmost_first:
        jpath.reverse()

    def run(filename: str, snippet: str) -> str:
        return str(module.evaluate_snippet(filename, snippet, jpathdir=jpath, ext_vars=ext_vars, tla_vars=tla_vars))

    return run


def _module(name: str) -> ModuleType:
    binding = _BINDINGS[name]
    try:
        return importlib.import_module(binding.module)
    except ImportError as exc:
        raise EngineUnavailable(
            f"jsonnet engine {name!r} is not installed ({exc}); pip install {binding.package}, "
            f"or pick another with --engine or {ENV_VAR}"
        ) from None
