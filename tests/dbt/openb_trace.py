"""Alibaba's openb GPU trace (cluster-trace-gpu-v2023: the 1,213 GPU nodes of a production
cluster and 8,152 pod requests, 4,166 of them sharing a GPU by `gpu_milli`), turned into what
Atlas's stranded-capacity definition (macro stranded_gpu_capacity) reads.

Source: alibaba/clusterdata, cluster-trace-gpu-v2023/csv/openb_node_list_gpu_node.csv and
openb_pod_list_default.csv, as copied to ../shared/data/telemetry/alibaba_misc (the shared
README records the commit). Paper: Weng et al., "Beware of Fragmentation: Scheduling GPU-Sharing
Workloads with Fragmentation Gradient Descent", USENIX ATC 2023. That folder of the repository
carries no licence of its own (only cluster-trace-gpu-v2020 ships CC-BY-4.0), so the files are read
where they are, never copied into the repository.

The trace says what each pod asked for and its phase, not where it ran. The pods `Running` at the
snapshot are placed here by a stated policy — best fit (pack: the node, or for a shared pod the
GPU, with the least room that fits) or worst fit (spread: the most room) — and the `Pending` pods
are the queue whose shapes the free capacity is judged against.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FOLDER = Path(os.environ.get("ATLAS_SHARED_DATA", "/work/shared/data")) / "telemetry" / "alibaba_misc"
NODES_FILE = "openb_2023_node_list_gpu_node.csv"
PODS_FILE = "openb_2023_pod_list_default.csv"
MILLI = 1000


@dataclass(frozen=True)
class Pod:
    name: str
    num_gpu: int
    gpu_milli: int  # per GPU; < 1000 only for single-GPU sharing pods
    phase: str
    creation_time: int

    @property
    def shares_a_gpu(self) -> bool:
        return self.num_gpu == 1 and self.gpu_milli < MILLI


def available() -> bool:
    return (FOLDER / NODES_FILE).exists() and (FOLDER / PODS_FILE).exists()


def load_nodes() -> list[tuple[str, str, int]]:
    """(node, GPU model, GPUs) in name order."""
    with open(FOLDER / NODES_FILE, newline="") as f:
        return sorted((r["sn"], r["model"], int(r["gpu"])) for r in csv.DictReader(f))


def load_pods() -> list[Pod]:
    """Pods that ask for GPUs, in creation order."""
    with open(FOLDER / PODS_FILE, newline="") as f:
        pods = [Pod(r["name"], int(r["num_gpu"]), int(r["gpu_milli"]), r["pod_phase"], int(r["creation_time"]))
                for r in csv.DictReader(f) if int(r["num_gpu"]) > 0]
    return sorted(pods, key=lambda p: (p.creation_time, p.name))


def place(nodes: list[tuple[str, str, int]], pods: list[Pod], policy: str) -> tuple[np.ndarray, int]:
    """Each node's GPUs' free milli-GPUs after placing `pods` in order (-1 marks a GPU slot the node
    does not have), and how many pods did not fit. `policy`: `best_fit` or `worst_fit`."""
    slots = max(n for _, _, n in nodes)
    free = np.full((len(nodes), slots), -1, dtype=np.int64)
    for i, (_, _, gpus) in enumerate(nodes):
        free[i, :gpus] = MILLI
    sign = 1 if policy == "best_fit" else -1
    unplaced = 0
    for pod in pods:
        if pod.shares_a_gpu:
            room = np.where(free >= pod.gpu_milli, free, np.iinfo(np.int64).max if sign > 0 else -1)
            flat = int(np.argmin(room) if sign > 0 else np.argmax(room))
            node, gpu = divmod(flat, slots)
            if free[node, gpu] < pod.gpu_milli:
                unplaced += 1
                continue
            free[node, gpu] -= pod.gpu_milli
        else:
            whole = (free == MILLI).sum(axis=1)
            room = np.where(whole >= pod.num_gpu, whole, np.iinfo(np.int64).max if sign > 0 else -1)
            node = int(np.argmin(room) if sign > 0 else np.argmax(room))
            if whole[node] < pod.num_gpu:
                unplaced += 1
                continue
            taken = np.flatnonzero(free[node] == MILLI)[: pod.num_gpu]
            free[node, taken] = 0
    return free, unplaced


# The snapshot, held for one hour: stranded GPU-seconds / 3600 are then GPUs stranded.
SNAPSHOT = ("2023-01-01 00:00:00", "2023-01-01 01:00:00")


def node_interval_rows(nodes: list[tuple[str, str, int]], free: np.ndarray, cluster: str = "openb") -> list[tuple]:
    """One row per node, in the columns stranded_gpu_capacity reads (GPUs, fractional)."""
    rows = []
    for (name, model, gpus), room in zip(nodes, free, strict=True):
        room = room[:gpus] / MILLI
        rows.append((cluster, name, model, *SNAPSHOT, float(gpus), float(room.sum()), float((room == 1).sum()),
                     float(room.max()) if gpus else 0.0))
    return rows


def pending_rows(pods: list[Pod], cluster: str = "openb") -> list[tuple]:
    """The `Pending` pods, waiting through the snapshot: whole GPUs per node, or the share of one GPU
    a sharing pod needs."""
    return [(cluster, p.name, *SNAPSHOT, p.num_gpu if not p.shares_a_gpu else 1,
             p.gpu_milli / MILLI if p.shares_a_gpu else 1.0, None)
            for p in pods if p.phase == "Pending"]


def stranded_by_hand(nodes: list[tuple[str, str, int]], free: np.ndarray, pods: list[Pod]) -> float:
    """The same definition, computed directly in Python (an independent check of the SQL)."""
    pending = [p for p in pods if p.phase == "Pending"]
    whole_needs = {p.num_gpu for p in pending if not p.shares_a_gpu}
    smallest_share = min((p.gpu_milli for p in pending if p.shares_a_gpu), default=None)
    total = 0
    for (_, _, gpus), room in zip(nodes, free, strict=True):
        room = room[:gpus]
        free_milli, whole = int(room.sum()), int((room == MILLI).sum())
        if not pending or free_milli == 0 or free_milli == gpus * MILLI:
            continue
        fits = any(whole >= k for k in whole_needs) or (smallest_share is not None and room.max() >= smallest_share)
        if not fits:
            total += free_milli
    return total / MILLI
