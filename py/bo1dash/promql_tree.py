"""The PromQL tree walker (`walk`), and what an expression reads: its selectors, and any `or <constant>` fallback
that would hide an empty query."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import promql_parser as pp


@dataclass(frozen=True)
class Selector:
    """A vector selector: metric name and matchers as (label, op, value), op one of = != =~ !~."""

    text: str
    name: str
    matchers: tuple[tuple[str, str, str], ...]


_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def _op(match_op: object) -> str:
    name = str(match_op).rsplit(".", 1)[-1]
    return _OPS.get(name, name)


def children(node: Any) -> list[Any]:
    """The direct sub-expressions of a parsed PromQL node, in source order."""
    if isinstance(node, pp.BinaryExpr):
        return [node.lhs, node.rhs]
    if isinstance(node, pp.AggregateExpr):
        return [c for c in (node.param, node.expr) if c is not None]
    if isinstance(node, pp.Call):
        return list(node.args)
    if isinstance(node, (pp.ParenExpr, pp.UnaryExpr, pp.SubqueryExpr)):
        return [node.expr]
    if isinstance(node, pp.MatrixSelector):
        return [node.vector_selector]
    return []


def walk(node: Any, parents: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    """Every node of the tree below `node` (itself first), depth first in source order, with its ancestors."""
    yield node, parents
    for child in children(node):
        yield from walk(child, (*parents, node))


def selectors(expr: str) -> list[Selector]:
    """Every vector selector of `expr`, in order, deduplicated by text."""
    found: dict[str, Selector] = {}
    for node, _ in walk(pp.parse(expr)):
        if isinstance(node, pp.VectorSelector):
            matchers = tuple((m.name, _op(m.op), m.value) for m in node.matchers.matchers)
            name = node.name or next((v for n, o, v in matchers if n == "__name__" and o == "="), "")
            text = _selector_text(name, matchers)
            found.setdefault(
                text, Selector(text=text, name=name, matchers=tuple(m for m in matchers if m[0] != "__name__"))
            )
    return list(found.values())


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _selector_text(name: str, matchers: tuple[tuple[str, str, str], ...]) -> str:
    body = ",".join(f'{n}{o}"{_escape(v)}"' for n, o, v in matchers if n != "__name__")
    return f"{name}{{{body}}}" if name else f"{{{body}}}"


def selector_text(name: str, matchers: tuple[tuple[str, str, str], ...]) -> str:
    return _selector_text(name, matchers)


def _unparen(node: object) -> object:
    while isinstance(node, pp.ParenExpr):
        node = node.expr
    return node


def _is_constant(node: object) -> bool:
    """True when the expression reads no series: a number, `vector(<number>)`, arithmetic of those."""
    for current, _ in walk(node):
        if isinstance(current, (pp.VectorSelector, pp.MatrixSelector)):
            return False
        if isinstance(current, pp.Call) and current.func.name in ("absent", "absent_over_time", "time"):
            # absent() is a deliberate "no data" alarm, not a zero; time() is data-independent but not a
            # masked zero either: both count as non-constant so they are not treated as fallbacks.
            return False
    return True


def unmasked_parts(expr: str) -> list[str]:
    """The parts of `expr` that an `or <constant>` fallback would hide when they are empty.

    `sum(rate(x[5m])) or vector(0)` -> ["sum(rate(x[5m]))"]; nested fallbacks are all found. An expression
    with no such fallback gives [].
    """
    parts: list[str] = []
    for node, _ in walk(pp.parse(expr)):
        if isinstance(node, pp.BinaryExpr) and str(node.op).lower().endswith("or") and _is_constant(_unparen(node.rhs)):
            parts.append(str(node.lhs))
    return parts
