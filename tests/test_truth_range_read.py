"""How verify's history truth reads a recording rule selected directly (no range function): the panel's point
is the last evaluation at or before it, one of two cells; it is sure only where both are."""

from __future__ import annotations

import math
from types import SimpleNamespace

from bo1dash.verify.truth_range import Bound, Evaluator

STEP = 15.0
GROUP = (("node_name", "select_personas"),)


def _evaluator() -> Evaluator:
    ev = Evaluator.__new__(Evaluator)  # only the time grid is read here
    ev.t = SimpleNamespace(step=STEP, index=lambda moment: math.floor(moment / STEP + 1e-9))
    ev.lookback = 20
    return ev


def _read(cells: dict[int, dict[tuple[tuple[str, str], ...], Bound]], cell: int) -> Bound:
    """The truth at the start of `cell` (away from a 2 h block boundary)."""
    got = _evaluator()._read(lambda j: cells.get(j, {}), "rule_instant", cell * STEP, 60.0)
    return got[GROUP]


def test_a_point_is_sure_only_where_both_evaluations_it_may_read_are() -> None:
    base = int((3 * 3600 + 60) / STEP)  # 03:01:00, not at a block boundary
    # The last evaluation before the point held a run in every window (yes); the one before it may have held
    # none (its p95 NaN: not drawn). Which of the two the panel reads depends on the rule group's offset.
    cells = {base - 1: {GROUP: Bound(1.0, 2.0, "maybe")}, base: {GROUP: Bound(2.0, 4.0, "yes")}}
    assert _read(cells, base).presence == "maybe"
    cells[base - 1] = {GROUP: Bound(1.0, 2.0, "yes")}
    sure = _read(cells, base)
    assert sure.presence == "yes" and (sure.low, sure.high) == (1.0, 4.0)
