"""The local stack's process-exporter groups are the ones the dashboards select."""

from __future__ import annotations

import re
from pathlib import Path

from bo1dash.compile import compile_mixin
from bo1dash.stack.exporters import PROCESS_GROUPS, stack_process_groups

ROOT = Path(__file__).resolve().parent.parent


def test_stack_groups_its_processes_as_the_config_selects_them(tmp_path: Path) -> None:
    config = compile_mixin(ROOT / "jsonnet" / "mixin.libsonnet", root=ROOT).config
    selected = re.fullmatch(r'groupname=~"(.*)"', config["processGroupSelector"])
    assert selected is not None
    groups = stack_process_groups(postgres_data_dir=tmp_path, redis_port=6379, api_port=8000)
    assert {g.name for g in groups} == set(PROCESS_GROUPS.values()) == set(selected.group(1).split("|"))
