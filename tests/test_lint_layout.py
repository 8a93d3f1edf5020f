"""Layout and hygiene rules: each broken once and kept once; style rules are warnings."""

from __future__ import annotations

from lintcases import rules, run, valid_dashboard


def test_ids_grid_overlap(env):
    dash = valid_dashboard()
    dash["panels"][2]["id"] = 2
    dash["panels"][3]["gridPos"] = {"x": 20, "y": 9, "w": 6, "h": 4}
    found = run(env, dash)
    assert "layout/duplicate-id" in rules(found)
    assert any(f.rule == "layout/grid" and f.panel == "Sessions started" for f in found)
    dash = valid_dashboard()
    dash["panels"][2]["gridPos"]["x"] = 6
    assert any(f.rule == "layout/overlap" and f.panel == "Latency p95" for f in run(env, dash))
    dash = valid_dashboard()
    dash["panels"][1]["gridPos"]["y"] = 0  # overlaps the row header
    assert "layout/overlap" in rules(run(env, dash))


def test_a_panel_without_id_is_fine(env):
    """Issue 11: Grafana assigns ids on load; only a duplicate id is a problem."""
    dash = valid_dashboard()
    del dash["panels"][1]["id"]
    del dash["panels"][2]["id"]
    assert run(env, dash) == []


def test_unit_description_titles(env):
    dash = valid_dashboard()
    del dash["panels"][1]["fieldConfig"]["defaults"]["unit"]
    dash["panels"][2]["description"] = ""
    dash["panels"][3]["title"] = "Latency p95"
    dash["panels"].append(
        {
            "type": "text",
            "id": 9,
            "title": "About",
            "description": "What this dashboard shows.",
            "gridPos": {"x": 0, "y": 20, "w": 24, "h": 3},
            "options": {"mode": "markdown", "content": "x"},
        }
    )
    found = run(env, dash)
    assert [(f.panel, f.severity) for f in found if f.rule == "layout/missing-unit"] == [
        ("Request rate by status", "warning")
    ]
    assert [(f.panel, f.severity) for f in found if f.rule == "layout/missing-description"] == [
        ("Latency p95", "warning")
    ]
    assert "layout/duplicate-title" in rules(found)


def test_no_unit_needed_when_value_mappings_show_text(env):
    """Issue 11: a stat mapping 0/1 to DOWN/UP shows words, not numbers."""
    dash = valid_dashboard()
    defaults = dash["panels"][3]["fieldConfig"]["defaults"]
    del defaults["unit"]
    assert "layout/missing-unit" in rules(run(env, dash))
    defaults["mappings"] = [
        {"type": "value", "options": {"0": {"text": "DOWN", "color": "red"}, "1": {"text": "UP", "color": "green"}}}
    ]
    assert run(env, dash) == []


def test_panel_without_queries(env):
    dash = valid_dashboard()
    dash["panels"][1]["targets"] = []
    found = [f for f in run(env, dash) if f.rule == "panel/no-targets"]
    assert [(f.panel, f.severity) for f in found] == [("Request rate by status", "error")]
    del dash["panels"][2]["targets"]
    assert len([f for f in run(env, dash) if f.rule == "panel/no-targets"]) == 2


def test_unique_uids_and_titles_across_files(env):
    found = run(env, valid_dashboard(), valid_dashboard())
    assert {"layout/duplicate-uid", "layout/duplicate-dashboard-title"} <= rules(found)
    assert run(env, valid_dashboard(), valid_dashboard("bo1-cost", "bo1 / Cost")) == []
