"""``python -m bench.ingest_stages`` on a real generated file: every stage and every field is timed."""

from bench import ingest_stages
from schemas.departments import columns


def test_every_stage_and_field_of_a_generated_file_is_timed(synth_drop, tmp_path, capsys):
    health = sorted(p for p in (synth_drop / "health").iterdir() if p.suffix == ".csv")[0]
    ingest_stages.main([str(health), "health", "--repeat", "1"])
    printed = capsys.readouterr().out.splitlines()
    labels = {line[:52].strip(): line[52:].split() for line in printed[2:]}
    assert {"plain read (polars, every column as text)", "least possible: read, hash, parse, write once",
            "whole ingestion (ingest_file, fresh state)", "validate: hard rules, normalisation, flags",
            "write the accepted rows"} <= set(labels)
    assert {f"normalise {s.name} ({s.kind.value}) alone" for s in columns("health")} <= set(labels)
    assert all(len(figures) == 3 and float(figures[0]) >= 0 for figures in labels.values())
    # the whole ingestion does more than the least possible one
    assert float(labels["whole ingestion (ingest_file, fresh state)"][0]) > \
        float(labels["least possible: read, hash, parse, write once"][0])
