"""Declared Kubernetes namespace / pod -> team rules (`assets/kubernetes_teams.yaml`).

dcgm-exporter's pod mapping labels each GPU reading with the `namespace`, `pod` and `container`
holding the GPU. These rules turn them into the team (and project) that pays for the GPU time,
the way Slurm's Account does for jobs. Parsed once into typed rows and written to
`raw.kubernetes_teams`, which the GPU cost models read; first matching rule (by `rule_order`) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from atlas_pipeline.lib.ingest.sources import DeclarationError

_FIELDS = ("namespace", "pod", "container")


@dataclass(frozen=True)
class KubernetesTeamRule:
    rule_order: int
    namespace: str
    pod: str
    container: str
    team: str
    project: str | None = None

    @staticmethod
    def like(glob: str) -> str:
        """The glob as a SQL LIKE pattern (`\\` escapes a literal `%` or `_`)."""
        escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return escaped.replace("*", "%").replace("?", "_")


def load_kubernetes_teams(path: Path) -> list[KubernetesTeamRule]:
    """Parse the rules; a missing file means no rules. Errors name the file, the rule and the field."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("rules", []), list):
        raise DeclarationError(f"{path}: field 'rules' must be a list")
    rules = []
    for i, entry in enumerate(data.get("rules") or []):
        where = f"{path}: rules[{i}]"
        if not isinstance(entry, dict):
            raise DeclarationError(f"{where}: must be a mapping with namespace/pod/container and team")
        unknown = sorted(set(entry) - {*_FIELDS, "team", "project"})
        if unknown:
            raise DeclarationError(
                f"{where}: field '{unknown[0]}' is not known (expected namespace, pod, container, team, project)"
            )
        if not entry.get("team") or not isinstance(entry["team"], str):
            raise DeclarationError(f"{where}: field 'team' is required (text)")
        patterns = {}
        for name in _FIELDS:
            value = entry.get(name, "*")
            if not isinstance(value, str) or not value:
                raise DeclarationError(f"{where}: field '{name}' must be a non-empty glob, e.g. \"ml-*\"")
            patterns[name] = value
        if all(p == "*" for p in patterns.values()):
            raise DeclarationError(f"{where}: needs at least one of namespace, pod, container (a rule matching every pod)")
        project = entry.get("project")
        if project is not None and not isinstance(project, str):
            raise DeclarationError(f"{where}: field 'project' must be text")
        rules.append(KubernetesTeamRule(i + 1, patterns["namespace"], patterns["pod"], patterns["container"],
                                        entry["team"], project))
    return rules


def write_kubernetes_teams(con: duckdb.DuckDBPyConnection, rules: list[KubernetesTeamRule]) -> int:
    """Replace `raw.kubernetes_teams` with `rules` (globs as LIKE patterns); returns the row count."""
    con.execute("create schema if not exists raw")
    con.execute(
        "create or replace table raw.kubernetes_teams (rule_order integer, namespace_pattern varchar, "
        "pod_pattern varchar, container_pattern varchar, team varchar, project varchar)"
    )
    if rules:
        con.executemany(
            "insert into raw.kubernetes_teams values (?, ?, ?, ?, ?, ?)",
            [(r.rule_order, r.like(r.namespace), r.like(r.pod), r.like(r.container), r.team, r.project) for r in rules],
        )
    return len(rules)
