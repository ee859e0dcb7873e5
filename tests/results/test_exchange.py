"""Run documents: a stored run exported and imported into another database once, checked
on the way in, and stored whole or not at all."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from gymarena.errors import GymarenaError
from gymarena.results import ResultsStore
from gymarena.results.exchange import _legacy_import_hash, export_run, import_run
from gymarena.runner import EvalRequest, evaluate


@pytest.fixture
def document(tmp_path):
    with ResultsStore(f"sqlite:///{tmp_path / 'source.sqlite'}") as store:
        run = evaluate(EvalRequest(tasks=("classic/CartPole-v1",), seeds=(0, 1), episodes=2), store).run
        return export_run(store, run.id)


def test_a_document_is_imported_once_with_its_protocol_and_episodes(store, document):
    run_id, new = import_run(store, document, "elsewhere")
    assert new and import_run(store, copy.deepcopy(document), "elsewhere") == (run_id, False)
    run = store.get_run(run_id)
    assert run.kind == "imported" and run.status == "complete" and run.config["imported_from"] == "elsewhere"
    assert run.protocol.to_json() == document["tasks"] and run.episode_count == 4
    assert [r.to_dict() for r in store.episodes(run_id)] == document["episodes"]


def test_a_document_imported_by_an_older_gymarena_is_found_not_imported_again(store, document):
    run_id, _ = import_run(store, document, "elsewhere")
    with store.engine.begin() as connection:  # as gymarena 0.1.0 stored it, before the run recorder
        connection.execute(text("UPDATE runs SET config_hash = :h WHERE id = :id"),
                           {"h": _legacy_import_hash(document), "id": run_id})
    assert import_run(store, document, "elsewhere") == (run_id, False)
    assert len(store.list_runs()) == 1


def test_a_document_that_now_names_its_algorithm_labels_the_run_imported_before(store, document):
    """The published documents gained the algorithm each run is a training run of: a
    database that imported them before gets the label, not a second copy."""
    from gymarena.records import AlgorithmIdentity

    run_id, _ = import_run(store, document, "elsewhere")
    named = {**copy.deepcopy(document), "algorithm": {"name": "PPO", "version": "1", "code_hash": ""}}
    assert import_run(store, named, "elsewhere") == (run_id, False)
    assert store.get_run(run_id).algorithm == AlgorithmIdentity("PPO", "1", "")
    assert import_run(store, named, "elsewhere") == (run_id, False) and len(store.list_runs()) == 1
    assert export_run(store, run_id)["algorithm"] == named["algorithm"]  # and it travels on


def test_a_forged_protocol_or_a_broken_episode_stores_nothing(store, document):
    forged = copy.deepcopy(document)
    forged["tasks"][0]["seeds"] = [7, 8]
    with pytest.raises(GymarenaError, match="elsewhere: the protocol hash of classic/CartPole-v1 does not match"):
        import_run(store, forged, "elsewhere")
    broken = copy.deepcopy(document)
    broken["episodes"][3]["no_such_field"] = 1
    with pytest.raises(GymarenaError, match="elsewhere: not an exported run"):
        import_run(store, broken, "elsewhere")
    assert store.list_runs() == []
