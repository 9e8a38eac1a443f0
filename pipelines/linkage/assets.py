"""Linkage: every current and historical record to one person and one stable household."""

import dagster as dg
import polars as pl

from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import DECISIONS_FILE, LinkageState, link_households
from entity_resolution.household.review import load_decisions
from pipelines.failures import TRANSIENT_IO, fail_fast_on_data_errors
from pipelines.ingest.assets import ingest_asset_key
from pipelines.resources import HearthResource
from pipelines.settings import DEPARTMENTS
from pipelines.staging import LinkageStaging

LINKAGE_KEY = dg.AssetKey(["linkage", "households"])


@dg.asset(
    key=LINKAGE_KEY,
    deps=[ingest_asset_key(d) for d in DEPARTMENTS],
    group_name="linkage",
    kinds={"polars", "parquet"},
    owners=["team:data-engineering"],
    description="Links every department record (current and history) to a person and a household with "
                "stable IDs (entity_resolution/household/settings.yaml holds the match thresholds). "
                "Writes staged outputs; the IDs become the baseline only when the warehouse publishes.",
    pool="hearth_state",
    retry_policy=TRANSIENT_IO,
)
def household_links(context: dg.AssetExecutionContext, hearth: HearthResource) -> dg.MaterializeResult:
    settings = hearth.settings()
    with fail_fast_on_data_errors("linking households"):
        frames = load_frames(settings.state)
        if not frames:
            raise dg.Failure("No accepted department rows to link: nothing has been ingested yet.",
                             allow_retries=False)
        previous = LinkageState.load(settings.state)
        decisions_path = settings.state / DECISIONS_FILE
        decisions = load_decisions(decisions_path) if decisions_path.exists() else None
        result = link_households(frames, previous, decisions)
        staging = LinkageStaging(settings.state, context.run.run_id)
        staging.write(result)
        staging.prune()
    return dg.MaterializeResult(metadata=linkage_metadata(result.record_link, result.id_lineage,
                                                          result.review_queue, result.timings,
                                                          had_previous=previous is not None))


def linkage_metadata(record_link: pl.DataFrame, lineage: pl.DataFrame, review: pl.DataFrame,
                     timings: dict[str, float], *, had_previous: bool) -> dict:
    methods = dict(record_link.group_by("method").len().sort("method").iter_rows())
    linked = record_link.filter(pl.col("method") != "singleton").height
    events = dict(lineage.group_by("entity", "event").len()
                  .select(pl.format("{}_{}", "entity", "event"), "len").iter_rows())
    weights = record_link.get_column("match_weight").drop_nulls()
    return {
        "dagster/row_count": record_link.height,
        "persons": record_link.get_column("person_id").n_unique(),
        "households": record_link.get_column("household_id").n_unique(),
        "link_rate": round(linked / max(1, record_link.height), 4),
        "methods": dg.MetadataValue.json(methods),
        "lineage_events": dg.MetadataValue.json(events),
        "new_households": events.get("household_created", 0) if had_previous else 0,
        "split_households": events.get("household_split", 0),
        "merged_households": events.get("household_merged", 0),
        "review_queue": review.height,
        "match_weight_median": float(weights.median()) if weights.len() else 0.0,
        "timings_s": dg.MetadataValue.json(timings),
    }
