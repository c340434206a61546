"""The Optuna journal of a real `ck explore`, read with stock Optuna: its trials carry the values that ran."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from ckrequest.explore.log import STUDY_FILE, read_log

BATCHES = {
    "programs": ["request-onnxruntime-classification"],
    "models": [["mobilenet-v1", "multiplier-0.25", "resolution-128", "synthetic"]],
    "env": {"CK_REQUEST_BATCH_SIZE": [1, 2, 4], "CK_REQUEST_MIN_DURATION_S": [0.1], "CK_REQUEST_MIN_QUERIES": [10],
            "CK_REQUEST_WARMUP": [1]},
    "objectives": ["latency_p50_s:min", "inference_throughput:max"],
}


def test_optuna_reads_the_batch_sizes_that_ran_from_the_journal_of_a_real_search(ck_world):
    (ck_world.root / "batches.json").write_text(json.dumps(BATCHES))
    ck_world.ck("explore", "request.asplos18", "--space=batches.json", "--record_uoa=journal-values", "--quiet")
    entry = Path(json.loads(ck_world.ck("load", "experiment:journal-values", "--out=json").stdout)["path"])
    study = optuna.load_study(study_name=None, storage=JournalStorage(JournalFileBackend(str(entry / STUDY_FILE))))
    trials = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert sorted(t.params["CK_REQUEST_BATCH_SIZE"] for t in trials) == [1, 2, 4]  # not the ranks 0, 1, 2
    ran = {t["number"]: t for t in read_log(entry)["trials"]}
    for trial in trials:
        logged = ran[trial.user_attrs["record"]["number"]]
        assert str(trial.params["CK_REQUEST_BATCH_SIZE"]) == logged["stack"]["env"]["CK_REQUEST_BATCH_SIZE"]
        assert trial.params["CK_REQUEST_WARMUP"] == 1 and trial.params["CK_REQUEST_MIN_DURATION_S"] == 0.1
        assert trial.values[0] == logged["values"]["latency_p50_s"]
