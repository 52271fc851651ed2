"""Declared Kubernetes namespace / pod -> team rules (`assets/kubernetes_teams.yaml`).

dcgm-exporter's pod mapping labels each GPU reading with the `namespace`, `pod` and `container`
holding the GPU. These rules turn them into the team (and project) that pays for the GPU time,
the way Slurm's Account does for jobs. Validated once by a pydantic model into typed rows and written to
`raw.kubernetes_teams`, which the GPU cost models read; first matching rule (by `rule_order`) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from pydantic import Field, model_validator

from atlas_pipeline.lib.declarations import Declaration, read_declaration, validate_declaration

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


class KubernetesTeamRuleDeclaration(Declaration):
    """One entry of `rules:` in `kubernetes_teams.yaml`: globs on the pod's place, and who pays."""

    namespace: str = Field(default="*", min_length=1)
    pod: str = Field(default="*", min_length=1)
    container: str = Field(default="*", min_length=1)
    team: str = Field(min_length=1)
    project: str | None = None

    @model_validator(mode="after")
    def _matches_something(self) -> KubernetesTeamRuleDeclaration:
        if all(getattr(self, name) == "*" for name in _FIELDS):
            raise ValueError("needs at least one of namespace, pod, container (a rule matching every pod)")
        return self


class KubernetesTeamsDeclaration(Declaration):
    """The shape of `kubernetes_teams.yaml`."""

    rules: list[KubernetesTeamRuleDeclaration] = []


def load_kubernetes_teams(path: Path) -> list[KubernetesTeamRule]:
    """Parse the rules; a missing (or empty) file means no rules. A DeclarationError lists every
    problem, naming the file, the rule and the field."""
    path = Path(path)
    if not path.exists():
        return []
    data = read_declaration(path)
    declared = validate_declaration(KubernetesTeamsDeclaration, {} if data is None else data, path)
    return [
        KubernetesTeamRule(i, rule.namespace, rule.pod, rule.container, rule.team, rule.project)
        for i, rule in enumerate(declared.rules, start=1)
    ]


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
