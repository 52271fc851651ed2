"""Per-GPU scores as files a scheduler can consume (the `gpu_scheduler_hints` asset writes them).

The scores and what each scheduler is told are defined in SQL (fct_gpu_scores_daily,
fct_gpu_node_scores_daily: Slurm Weight = base + (100 - score), Kubernetes labels `atlas.gpu/score`
and `atlas.gpu/health`); this module only formats the newest day of them:

    <folder>/<YYYY-MM-DD>/slurm/<cluster>.sh           `scontrol update NodeName=<hostlist> Weight=<w>`
    <folder>/<YYYY-MM-DD>/kubernetes/<cluster>.sh      `kubectl label node <n> --overwrite atlas.gpu/...`
    <folder>/<YYYY-MM-DD>/kubernetes/<cluster>.json    the same as merge patches, for controllers
    <folder>/<YYYY-MM-DD>/gpu_scores.csv               every GPU's score and why
    <folder>/latest                                    a symlink to the newest day, swapped by rename

Nodes with the same weight share one `scontrol` line (python-hostlist folds their names, as Slurm
prints them). A node without telemetry on the newest day gets no line: the scheduler keeps what
it was told before.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shlex
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import hostlist

from atlas_pipeline.lib.warehouse.connections import ReaderConnection

SCORE_LABEL = "atlas.gpu/score"
HEALTH_LABEL = "atlas.gpu/health"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(text: str) -> str:
    """Data inside a shell comment: a newline in it would end the comment and start a command."""
    return _CONTROL.sub("?", text)


@dataclass(frozen=True)
class NodeHint:
    """What the schedulers are told about one node (a row of fct_gpu_node_scores_daily)."""

    cluster: str
    hostname: str
    score: int
    health: str
    slurm_weight: int
    scheduler: str  # slurm | kubernetes | both | unknown
    worst_gpu_index: int | None
    gpus_below_100: int

    @property
    def for_slurm(self) -> bool:
        return self.scheduler in ("slurm", "both", "unknown")

    @property
    def for_kubernetes(self) -> bool:
        return self.scheduler in ("kubernetes", "both", "unknown")


@dataclass(frozen=True)
class SchedulerHints:
    """The newest scored day: its node hints and every GPU's score row (as CSV columns)."""

    usage_date: date
    nodes: tuple[NodeHint, ...]
    gpu_columns: tuple[str, ...]
    gpu_rows: tuple[tuple, ...]


def newest_hints(con: duckdb.DuckDBPyConnection | ReaderConnection) -> SchedulerHints | None:
    """The newest day of fct_gpu_node_scores_daily (None when nothing is scored yet); queries only."""
    [(newest,)] = con.execute("select max(usage_date) from main.fct_gpu_node_scores_daily").fetchall()
    if newest is None:
        return None
    nodes = tuple(
        NodeHint(*row)
        for row in con.execute(
            """select cluster, hostname, score, health, slurm_weight, scheduler, worst_gpu_index, gpus_below_100
               from main.fct_gpu_node_scores_daily where usage_date = ? order by cluster, hostname""",
            [newest],
        ).fetchall()
    )
    cursor = con.execute(
        """select cluster, hostname, gpu_index, gpu_uuid, gpu_model, score, scheduler_health, clock_points,
                  straggler_points, throttle_points, xid_points, fatal_xids, ecc_errors, drill_injections
           from main.fct_gpu_scores_daily where usage_date = ? order by cluster, hostname, gpu_index""",
        [newest],
    )
    columns = tuple(d[0] for d in cursor.description)
    return SchedulerHints(newest, nodes, columns, tuple(cursor.fetchall()))


def slurm_script(cluster: str, usage_date: date, nodes: list[NodeHint]) -> str:
    """`scontrol update` lines for one cluster: nodes of equal weight folded into one hostlist."""
    by_weight: dict[int, list[NodeHint]] = defaultdict(list)
    for node in nodes:
        by_weight[node.slurm_weight].append(node)
    lines = [
        "#!/bin/sh",
        f"# Atlas GPU node scores for {usage_date}, cluster {_one_line(cluster)} (fct_gpu_node_scores_daily).",
        "# Slurm gives a job the lowest-weight nodes that fit first: a healthy node keeps the base weight,",
        "# each point below a score of 100 adds one, so worse nodes are used last.",
        "# Apply as a Slurm administrator on the cluster's controller host:  sh <this file>",
        "# (`scontrol update` weights last until slurmctld restarts or reconfigures from slurm.conf;",
        "# re-apply after each Atlas run, e.g. from cron.)",
        "set -e",
    ]
    for weight in sorted(by_weight):
        group = by_weight[weight]
        names = hostlist.collect_hostlist([n.hostname for n in group])
        scores = sorted({n.score for n in group})
        healths = sorted({n.health for n in group})
        # quoted: a hostlist's brackets are a shell glob, and hostnames come from the data
        lines.append(f"scontrol update {shlex.quote(f'NodeName={names}')} Weight={weight}"
                     f"  # score {'/'.join(map(str, scores))}, {'/'.join(healths)}")
    return "\n".join(lines) + "\n"


def kubernetes_labels(node: NodeHint) -> dict[str, str]:
    """The node's labels; values are strings, as Kubernetes requires."""
    return {SCORE_LABEL: str(node.score), HEALTH_LABEL: node.health}


def kubernetes_script(cluster: str, usage_date: date, nodes: list[NodeHint]) -> str:
    """`kubectl label --overwrite` lines for one cluster."""
    lines = [
        "#!/bin/sh",
        f"# Atlas GPU node scores for {usage_date}, cluster {_one_line(cluster)} (fct_gpu_node_scores_daily).",
        f"# Labels {SCORE_LABEL} (0-100, 100 = nothing wrong) and {HEALTH_LABEL} (healthy / degraded / failed),",
        "# for node affinity, e.g. prefer nodes with atlas.gpu/health=healthy or avoid atlas.gpu/health=failed.",
        "# Apply with a kubeconfig whose current context is this cluster:  sh <this file>",
        "set -e",
    ]
    for node in nodes:
        labels = " ".join(f"{k}={v}" for k, v in kubernetes_labels(node).items())
        lines.append(f"kubectl label node {shlex.quote(node.hostname)} --overwrite {labels}")
    return "\n".join(lines) + "\n"


def kubernetes_patches(nodes: list[NodeHint]) -> str:
    """The same labels as strategic-merge patches (`kubectl patch node <n> --type merge -p <patch>`)."""
    return json.dumps(
        [{"node": n.hostname, "patch": {"metadata": {"labels": kubernetes_labels(n)}}} for n in nodes], indent=2
    ) + "\n"


def gpu_scores_csv(hints: SchedulerHints) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(hints.gpu_columns)
    writer.writerows(hints.gpu_rows)
    return buffer.getvalue()


def render(hints: SchedulerHints) -> dict[str, str]:
    """Every file of the day, relative path -> text."""
    by_cluster: dict[str, list[NodeHint]] = defaultdict(list)
    for node in hints.nodes:
        by_cluster[node.cluster].append(node)
    files = {"gpu_scores.csv": gpu_scores_csv(hints)}
    for cluster, nodes in sorted(by_cluster.items()):
        name = _SAFE_NAME.sub("_", cluster)
        slurm = [n for n in nodes if n.for_slurm]
        kubernetes = [n for n in nodes if n.for_kubernetes]
        if slurm:
            files[f"slurm/{name}.sh"] = slurm_script(cluster, hints.usage_date, slurm)
        if kubernetes:
            files[f"kubernetes/{name}.sh"] = kubernetes_script(cluster, hints.usage_date, kubernetes)
            files[f"kubernetes/{name}.json"] = kubernetes_patches(kubernetes)
    return files


def write_hints(hints: SchedulerHints, folder: Path) -> Path:
    """Write the day's files into `folder/<date>/` (a re-run replaces that day whole) and point the
    symlink `folder/latest` at it; both swaps are renames, so a reader sees the old day or the new
    one, never half of one. Returns the day's folder."""
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".hints-", dir=folder))
    staging.chmod(0o755)
    for relative, text in render(hints).items():
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if path.suffix == ".sh":
            path.chmod(0o755)
    day = folder / hints.usage_date.isoformat()
    replaced = folder / f".replaced-{hints.usage_date.isoformat()}"
    shutil.rmtree(replaced, ignore_errors=True)
    if day.exists():
        os.replace(day, replaced)
    os.replace(staging, day)
    shutil.rmtree(replaced, ignore_errors=True)
    link = folder / ".latest-new"
    link.unlink(missing_ok=True)
    link.symlink_to(day.name, target_is_directory=True)
    os.replace(link, folder / "latest")
    return day
