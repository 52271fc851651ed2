"""The scheduler files are shell scripts an administrator runs: run them with stand-in `scontrol`
and `kubectl` that record their arguments, in a folder holding a file a hostlist's brackets would
glob to, with node and cluster names the data could carry."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import date
from pathlib import Path

from atlas_pipeline.lib.report.gpu_scheduler_hints import NodeHint, SchedulerHints, write_hints

RECORDER = '#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done >> "$ARGS_LOG"\nprintf "\\n" >> "$ARGS_LOG"\n'


def run_script(script: Path, cwd: Path, tools: Path) -> list[list[str]]:
    log = cwd / "args.log"
    log.unlink(missing_ok=True)
    subprocess.run(["sh", str(script)], cwd=cwd, check=True, timeout=30,
                   env={**os.environ, "PATH": f"{tools}:{os.environ['PATH']}", "ARGS_LOG": str(log)})
    return [line.rstrip("\0").split("\0") for line in log.read_text().splitlines()]


def test_scripts_pass_each_name_to_the_scheduler_exactly(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("scontrol", "kubectl"):
        (tools / tool).write_text(RECORDER)
        (tools / tool).chmod(0o755)
    evil_cluster = "c1\ntouch pwned-by-cluster"

    def node(name: str, score: int) -> NodeHint:
        return NodeHint(evil_cluster, name, score, "healthy" if score == 100 else "degraded", 1 + 100 - score,
                        "both", None, int(score < 100))

    hints = SchedulerHints(date(2026, 11, 3), (node("gpu-00", 100), node("gpu-01", 100), node("gpu-03", 100),
                                               node("gpu-09;touch pwned", 60)), ("cluster",), ())
    day = write_hints(hints, tmp_path / "scheduler")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    # unquoted, `NodeName=gpu-[00-01,03]` would glob to this file's name
    (cwd / "NodeName=gpu-0").write_text("")
    slurm = run_script(day / "slurm" / "c1_touch_pwned-by-cluster.sh", cwd, tools)
    assert slurm == [["update", "NodeName=gpu-[00-01,03]", "Weight=1"],
                     ["update", "NodeName=gpu-09;touch pwned", "Weight=41"]]
    kubernetes = run_script(day / "kubernetes" / "c1_touch_pwned-by-cluster.sh", cwd, tools)
    assert kubernetes[-1] == ["label", "node", "gpu-09;touch pwned", "--overwrite", "atlas.gpu/score=60",
                              "atlas.gpu/health=degraded"]
    assert len(kubernetes) == 4
    assert not list(cwd.glob("pwned*"))
    patches = json.loads((day / "kubernetes" / "c1_touch_pwned-by-cluster.json").read_text())
    assert patches[-1]["node"] == "gpu-09;touch pwned"
