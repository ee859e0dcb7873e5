"""Runs as portable documents: a stored run with every episode, and that document stored
again in any results database.

The document is what ``gymarena submit results`` uploads (suite, agent, config,
provenance, task protocols, episodes), so one format serves uploads, the shipped
baseline results (``gymarena baselines publish``) and copies between databases.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from gymarena.errors import GymarenaError
from gymarena.records import EpisodeRecord
from gymarena.results.store import AgentIdentity, ResultsStore, RunInfo, TaskProtocol
from gymarena.tasks import canonical_json

DOCUMENT_KEYS = ("suite", "agent", "config", "provenance", "tasks", "episodes")


def stored_run(store: ResultsStore, run_id: int) -> RunInfo:
    """A run by id, or an error naming the database and how to list its runs."""
    run = store.get_run(run_id)
    if run is None:
        raise GymarenaError(f"there is no run {run_id} in {store.display_url}; `gymarena results` lists the runs")
    return run


def run_document(store: ResultsStore, run: RunInfo) -> dict[str, Any]:
    """A stored run and all its episodes as one JSON-ready document."""
    return {
        "suite": run.suite,
        "agent": dict(run.agent.__dict__),
        "config": run.config,
        "provenance": run.provenance,
        "tasks": [dict(t.__dict__) for t in run.tasks],
        "episodes": [r.to_dict() for r in store.episodes(run.id)],
    }


def export_run(store: ResultsStore, run_id: int) -> dict[str, Any]:
    """The document of a stored run (:func:`run_document`)."""
    return run_document(store, stored_run(store, run_id))


def import_run(store: ResultsStore, document: dict[str, Any], origin: str) -> tuple[int, bool]:
    """Store an exported run as a complete run of kind ``imported`` (its config says from
    where); returns its id and whether it is new.

    Importing the same document again finds the first copy instead of adding a second; an
    import cut short is continued, never duplicated (episodes already stored are skipped).
    """
    missing = [key for key in DOCUMENT_KEYS if key not in document]
    if missing:
        raise GymarenaError(f"{origin}: not an exported run (missing {', '.join(missing)})")
    identity = json.dumps([document["agent"], [t["protocol_hash"] for t in document["tasks"]], len(document["episodes"]),
                           document["provenance"]], sort_keys=True)
    config_hash = hashlib.sha256(f"imported {identity}".encode()).hexdigest()
    existing = store.find_complete_run(config_hash)
    if existing is not None:
        return existing, False
    run_id = store.find_resumable_run(config_hash)
    if run_id is None:
        agent_id = store.ensure_agent(AgentIdentity(**document["agent"]))
        tasks = [TaskProtocol(**task) for task in document["tasks"]]
        protocol = hashlib.sha256(canonical_json([t.protocol_hash for t in tasks]).encode()).hexdigest()  # as runs hash it
        run_id = store.create_run(agent_id=agent_id, suite=document["suite"], protocol_hash=protocol,
                                  config_hash=config_hash, config={**document["config"], "imported_from": origin},
                                  provenance=document["provenance"], tasks=tasks, kind="imported")
    store.add_episodes(run_id, [EpisodeRecord(**episode) for episode in document["episodes"]])
    store.set_status(run_id, "complete")
    return run_id, True
