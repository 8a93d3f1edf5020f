"""Backfill the history into a Prometheus TSDB with promtool, one block window per OpenMetrics file.

The generator (this process) writes window k+1 while promtool ingests window k: files live in a RAM-backed
temp dir and are deleted once ingested, so the text never lands on disk.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bo1dash.bench.openmetrics import write_window
from bo1dash.bench.scale import Scale
from bo1dash.bench.series import Family, iter_series

BLOCK_HOURS = 18  # bo1's prod retention (15d) lets Prometheus compact up to 18h blocks
PARALLEL_PROMTOOL = 2


class BackfillError(RuntimeError):
    """promtool refused the generated text; the message quotes promtool."""


@dataclass
class BackfillStats:
    series: int = 0
    samples: int = 0
    blocks: int = 0
    text_bytes: int = 0
    seconds: float = 0.0
    windows: list[tuple[int, int]] = field(default_factory=list)


def _scratch_dir() -> Path:
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="bo1bench-om-", dir=base))


def block_windows(start_epoch: int, minutes: int, step: int, block_hours: int = BLOCK_HOURS) -> list[tuple[int, int]]:
    """Minute ranges [a, b) aligned on promtool's block boundaries (multiples of the block length since epoch)."""
    block = block_hours * 3600
    out = []
    t = 0
    while t < minutes:
        epoch = start_epoch + t * step
        boundary = (epoch // block + 1) * block
        nxt = min(minutes, t + max(1, (boundary - epoch + step - 1) // step))
        out.append((t, nxt))
        t = nxt
    return out


def _finish(proc: subprocess.Popen[bytes], path: Path, log: Path) -> None:
    code = proc.wait()
    path.unlink(missing_ok=True)
    if code != 0:
        raise BackfillError(
            f"promtool tsdb create-blocks-from openmetrics failed ({code}): " + log.read_text(errors="replace")[-2000:]
        )


def backfill_openmetrics(
    families: list[Family], scale: Scale, start_epoch: int, data_dir: Path, promtool: str = "promtool"
) -> BackfillStats:
    """Write every block window as OpenMetrics and let promtool turn it into TSDB blocks in `data_dir`."""
    started = time.monotonic()
    stats = BackfillStats(windows=block_windows(start_epoch, scale.minutes, scale.step_seconds))
    data_dir.mkdir(parents=True, exist_ok=True)
    scratch = _scratch_dir()
    running: list[tuple[subprocess.Popen[bytes], Path, Path]] = []
    try:
        for k, (first, last) in enumerate(stats.windows):
            path = scratch / f"window-{k:04d}.om"
            with open(path, "w", buffering=1 << 20) as out:
                window = write_window(out, families, first, last, start_epoch, scale.step_seconds, scale.gaps)
            stats.samples += window.samples
            stats.text_bytes += path.stat().st_size
            while len(running) >= PARALLEL_PROMTOOL:
                _finish(*running.pop(0))
            log = scratch / f"window-{k:04d}.log"
            with open(log, "wb") as log_out:
                proc = subprocess.Popen(
                    [
                        promtool,
                        "tsdb",
                        "create-blocks-from",
                        "openmetrics",
                        "--quiet",
                        f"--max-block-duration={BLOCK_HOURS}h",
                        str(path),
                        str(data_dir),
                    ],
                    stdout=log_out,
                    stderr=subprocess.STDOUT,
                )
            running.append((proc, path, log))
        while running:
            _finish(*running.pop(0))
    finally:
        for proc, _, _ in running:
            proc.kill()
            proc.wait()
        shutil.rmtree(scratch, ignore_errors=True)
    stats.series = sum(1 for spec in iter_series(families) if any(w.start < w.end for w in spec.windows))
    stats.blocks = sum(1 for p in data_dir.iterdir() if (p / "meta.json").is_file())
    stats.seconds = time.monotonic() - started
    return stats


def backfill_rules(
    rule_file: Path, url: str, start_epoch: int, end_epoch: int, out_dir: Path, promtool: str = "promtool"
) -> float:
    """`promtool tsdb create-blocks-from rules` over the history; returns seconds taken."""
    started = time.monotonic()
    out_dir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [
            promtool,
            "tsdb",
            "create-blocks-from",
            "rules",
            "--quiet",
            f"--url={url}",
            f"--start={start_epoch}",
            f"--end={end_epoch}",
            f"--output-dir={out_dir}",
            str(rule_file),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise BackfillError(f"promtool tsdb create-blocks-from rules failed: {(proc.stderr or proc.stdout)[-2000:]}")
    return time.monotonic() - started


def move_blocks(src: Path, dst: Path) -> int:
    """Move the blocks promtool wrote into a TSDB directory (Prometheus must be stopped or reloaded after)."""
    moved = 0
    for block in src.iterdir():
        if (block / "meta.json").is_file():
            shutil.move(str(block), str(dst / block.name))
            moved += 1
    return moved
