"""Write live dashboards as normalized JSON, one `<uid>.json` per uid, to port a UI edit back to Jsonnet.

Every dashboard is read before anything is written: a missing uid writes nothing. Files are written
atomically (provision.write_atomically); other files in the directory are left alone.
"""

from __future__ import annotations

from pathlib import Path

from bo1dash.deliver.client import Grafana
from bo1dash.deliver.errors import DeliverError
from bo1dash.deliver.normalize import normalize_dashboard
from bo1dash.provision import ProvisionError, write_atomically


def pull(grafana: Grafana, uids: list[str], out_dir: Path) -> list[Path]:
    """Write `out_dir/<uid>.json` for each uid (unchanged files are not rewritten); returns the files."""
    files: dict[Path, str] = {}
    missing: list[str] = []
    for uid in uids:
        live = grafana.dashboard(uid)
        if live is None:
            missing.append(uid)
        else:
            files[out_dir / f"{uid}.json"] = normalize_dashboard(live["dashboard"])
    if missing:
        raise DeliverError(
            f"Grafana at {grafana.url} has no dashboard of uid {', '.join(missing)}: nothing written; "
            "check the uid (apply creates the mixin's dashboards)"
        )
    try:
        write_atomically(files, out_dir, prune=False)
    except (ProvisionError, OSError) as exc:
        raise DeliverError(f"cannot write {out_dir}: {exc}") from None
    return sorted(files)
