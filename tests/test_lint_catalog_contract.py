"""The catalog covers bo1's whole metric contract: checked against ../shared/bo1-contract.yaml when present.

The catalog is complete in the repository; `../shared` is only the independent record it is compared with."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bo1dash.catalog import load_catalog


def test_catalog_names_the_bo1_revision_it_describes():
    assert re.fullmatch(r"[0-9a-f]{40}", load_catalog().bo1_revision)


def _contract_entries(doc: dict[str, Any]) -> list[dict[str, Any]]:
    entries = list(doc["http_metrics"]["metrics"])
    for items in doc["custom_metrics"].values():
        if isinstance(items, list):
            entries += [m for m in items if isinstance(m, dict) and "name" in m]
    return entries


def _names(entry: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(exposed name, labels) of a contract entry; entries may list several names ("a / b", "a [x], b")."""
    raw = str(entry["name"])
    exposed = re.search(r"\(exposed (\w+)\)", raw)
    if exposed:
        return [(exposed.group(1), list(entry.get("labels") or []))]
    found = []
    for part in re.split(r"\s*/\s*|,\s*(?![^\[]*\])", raw):
        m = re.match(r"(\w+)(?:\s*\[([^\]]*)\])?", part.strip())
        if m:
            labels = [x.strip() for x in (m.group(2) or "").split(",") if x.strip()]
            found.append((m.group(1), labels or list(entry.get("labels") or [])))
    return found


@pytest.fixture()
def contract(shared_dir: Path) -> dict[str, Any]:
    return yaml.safe_load((shared_dir / "bo1-contract.yaml").read_text())


def test_every_contract_metric_is_catalogued_with_its_labels(contract):
    catalog = load_catalog()
    problems = []
    for entry in _contract_entries(contract):
        note = str(entry.get("note") or "")
        if entry.get("defined") == "nowhere" or "absent from API /metrics" in note:
            continue  # not on bo1's API /metrics at all
        for name, labels in _names(entry):
            family = catalog.families.get(name) or catalog.families.get(f"{name}_total")
            if family is None:
                problems.append(f"{name}: not in the catalog")
                continue
            if sorted(family.labels) != sorted(labels):
                problems.append(f"{name}: labels {sorted(family.labels)} in the catalog, {sorted(labels)} in bo1")
            if entry.get("type") and family.type != entry["type"]:
                problems.append(f"{name}: type {family.type} in the catalog, {entry['type']} in bo1")
            if entry.get("updated") is False and family.emitted:
                problems.append(f"{name}: bo1 never updates it, the catalog says emitted")
    assert problems == []


def test_catalog_revision_is_the_contracts(contract, shared_dir):
    header = (shared_dir / "bo1-contract.yaml").read_text().splitlines()[:5]
    revisions = [m.group(1) for line in header for m in [re.search(r"@ ([0-9a-f]{40})", line)] if m]
    assert revisions == [load_catalog().bo1_revision]
