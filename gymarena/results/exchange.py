"""Runs as portable documents: a stored run with every episode, and that document stored
again in any results database.

The document is what ``gymarena submit results`` uploads (suite, agent, config,
provenance, task protocols, episodes), so one format serves uploads, the shipped
baseline results (``gymarena baselines publish``) and copies between databases.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from gymarena.errors import GymarenaError
from gymarena.protocol import ProtocolError, RunProtocol, digest
from gymarena.records import AgentIdentity, AlgorithmIdentity, EpisodeRecord
from gymarena.results.recorder import RunStart
from gymarena.results.store import ResultsStore, RunInfo

DOCUMENT_KEYS = ("suite", "agent", "config", "provenance", "tasks", "episodes")


def stored_run(store: ResultsStore, run_id: int) -> RunInfo:
    """A run by id, or an error naming the database and how to list its runs."""
    run = store.get_run(run_id)
    if run is None:
        raise GymarenaError(f"there is no run {run_id} in {store.display_url}; `gymarena results` lists the runs")
    return run


def run_document(store: ResultsStore, run: RunInfo) -> dict[str, Any]:
    """A stored run and all its episodes as one JSON-ready document (with the algorithm it
    is one training run of, when it names one)."""
    document = {
        "suite": run.suite,
        "agent": run.agent.portable(),
        "config": run.config,
        "provenance": run.provenance,
        "tasks": run.protocol.to_json(),
        "episodes": [r.to_dict() for r in store.episodes(run.id)],
    }
    if run.algorithm is not None:
        document["algorithm"] = run.algorithm.portable()
    return document


def export_run(store: ResultsStore, run_id: int) -> dict[str, Any]:
    """The document of a stored run (:func:`run_document`)."""
    return run_document(store, stored_run(store, run_id))


def import_run(store: ResultsStore, document: dict[str, Any], origin: str) -> tuple[int, bool]:
    """Store an exported run as a complete run of kind ``imported`` (its config says from
    where); returns its id and whether it is new.

    Importing the same document again finds the first copy instead of adding a second. The
    import is one transaction: one cut short stores nothing, and is simply made again.
    """
    missing = [key for key in DOCUMENT_KEYS if key not in document]
    if missing:
        raise GymarenaError(f"{origin}: not an exported run (missing {', '.join(missing)})")
    try:
        agent = AgentIdentity(**{k: v for k, v in document["agent"].items() if k != "owner"})
        protocol = RunProtocol.from_json(document["tasks"])  # checked: each hash is its own fields'
        records = [EpisodeRecord(**episode) for episode in document["episodes"]]
        algorithm = AlgorithmIdentity(**document["algorithm"]) if document.get("algorithm") else None
    except ProtocolError as exc:
        raise GymarenaError(f"{origin}: {exc}") from None
    except TypeError as exc:
        raise GymarenaError(f"{origin}: not an exported run ({exc})") from None
    source = digest([document["agent"], protocol.hash, len(records), document["provenance"]])
    start = RunStart(agent, protocol, {**document["config"], "imported_from": origin}, document["provenance"],
                     kind="imported", suite=document["suite"], settings={"imported": source}, algorithm=algorithm)
    existing = store.find_complete_run(start.config_hash)
    if existing is not None:
        return existing, False
    unnamed = dataclasses.replace(start, algorithm=None).config_hash  # imported before documents named algorithms
    existing = store.find_complete_run(unnamed) or store.find_complete_run(_legacy_import_hash(document))
    if existing is not None:
        if algorithm is not None:
            store.set_algorithm(existing, algorithm, start.config_hash)
        return existing, False
    with store.recording(start, atomic=True) as run:
        run.add(records)
    return run.run_id, True


def _legacy_import_hash(document: dict[str, Any]) -> str:
    """The config hash gymarena 0.1.0 gave an imported run before the run recorder, so a
    document imported then is still found, not imported twice."""
    identity = json.dumps([document["agent"], [t["protocol_hash"] for t in document["tasks"]], len(document["episodes"]),
                           document["provenance"]], sort_keys=True)
    return hashlib.sha256(f"imported {identity}".encode()).hexdigest()

