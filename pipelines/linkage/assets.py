"""Linkage: every current and historical record to one person and one stable household.

A graph-backed asset: the counties are linked in parallel steps (one per
county, fanned out at run time), between a preparing step and a finishing step
that joins people who moved county and forms households with stable IDs
(``entity_resolution/household/counties.py``). With the multiprocess executor
the county steps run side by side on one machine; with a cluster executor
(e.g. ``dagster-k8s``, ``dagster-celery``) each is its own pod or task, the run's
work folder living on shared storage.
"""

import dagster as dg
import polars as pl

from entity_resolution.household.counties import CountyLinkage
from entity_resolution.household.inputs import load_frames
from entity_resolution.household.pipeline import DECISIONS_FILE, LinkageState
from entity_resolution.household.review import load_decisions
from pipelines.failures import TRANSIENT_IO, fail_fast_on_data_errors
from pipelines.ingest.assets import ingest_asset_key
from pipelines.resources import HearthResource
from pipelines.settings import DEPARTMENTS
from pipelines.staging import LinkageStaging

LINKAGE_KEY = dg.AssetKey(["linkage", "households"])


def _work(context: dg.OpExecutionContext, hearth: HearthResource) -> CountyLinkage:
    return CountyLinkage(LinkageStaging(hearth.settings().state, context.run.run_id).folder / "work")


def _decisions(hearth: HearthResource) -> pl.DataFrame | None:
    path = hearth.settings().state / DECISIONS_FILE
    return load_decisions(path) if path.exists() else None


@dg.op(ins={f"ingested_{d}": dg.In(dg.Nothing) for d in DEPARTMENTS}, out=dg.DynamicOut(str), pool="hearth_state", retry_policy=TRANSIENT_IO,
       description="Person mentions and profiles of every department record; one output per county.")
def prepare_counties(context: dg.OpExecutionContext, hearth: HearthResource):
    with fail_fast_on_data_errors("preparing linkage"):
        frames = load_frames(hearth.settings().state)
        if not frames:
            raise dg.Failure("No accepted department rows to link: nothing has been ingested yet.",
                             allow_retries=False)
        counties = _work(context, hearth).prepare(frames, _decisions(hearth))
    context.log.info(f"linking {len(counties)} counties: {', '.join(counties)}")
    for county in counties:
        yield dg.DynamicOutput(county, mapping_key=county)


@dg.op(retry_policy=TRANSIENT_IO, description="Candidate pairs of one county (blocking and comparison).")
def county_candidates(context: dg.OpExecutionContext, hearth: HearthResource, county: str) -> str:
    with fail_fast_on_data_errors(f"blocking county {county}"):
        pairs = _work(context, hearth).candidates(county)
    context.log.info(f"county {county}: {pairs:,} candidate pairs")
    return county


@dg.op(retry_policy=TRANSIENT_IO, description="Match parameters (m, u, prior, term frequencies) from every county.")
def train_parameters(context: dg.OpExecutionContext, hearth: HearthResource, counties: list[str]) -> list[str]:
    with fail_fast_on_data_errors("training the match parameters"):
        _work(context, hearth).train(counties)
    return counties


@dg.op(retry_policy=TRANSIENT_IO, description="Scores and clusters one county's candidate pairs into persons.")
def county_persons(context: dg.OpExecutionContext, hearth: HearthResource, county: str,
                   trained: list[str]) -> str:
    with fail_fast_on_data_errors(f"clustering county {county}"):
        _work(context, hearth).cluster(county)
    return county


@dg.op(pool="hearth_state", retry_policy=TRANSIENT_IO,
       description="Joins counties (people who moved, by valid ID number), forms households, keeps IDs stable, "
                   "and stages the linkage tables of this run.")
def finish_linkage(context: dg.OpExecutionContext, hearth: HearthResource, counties: list[str]) -> dg.Output:
    settings = hearth.settings()
    with fail_fast_on_data_errors("linking households"):
        previous = LinkageState.load(settings.state)
        work = _work(context, hearth)
        result = work.finish(counties, previous, _decisions(hearth))
        staging = LinkageStaging(settings.state, context.run.run_id)
        staging.write(result)
        work.clean()
        staging.prune()
    metadata = linkage_metadata(result.record_link, result.id_lineage, result.review_queue, result.timings,
                                had_previous=previous is not None)
    metadata["counties"] = len(counties)
    return dg.Output(None, metadata=metadata)


@dg.graph_asset(
    key=LINKAGE_KEY,
    ins={f"ingested_{d}": dg.AssetIn(ingest_asset_key(d), dagster_type=dg.Nothing) for d in DEPARTMENTS},
    group_name="linkage",
    kinds={"polars", "parquet"},
    owners=["team:data-engineering"],
    description="Links every department record (current and history) to a person and a household with "
                "stable IDs, county by county in parallel steps (entity_resolution/household/settings.yaml "
                "holds the match thresholds). Writes staged outputs; the IDs become the baseline only when "
                "the warehouse publishes.",
)
def household_links(**ingested):
    counties = prepare_counties(**ingested)
    candidates = counties.map(county_candidates)
    trained = train_parameters(candidates.collect())
    persons = counties.map(lambda county: county_persons(county=county, trained=trained))
    return finish_linkage(persons.collect())


linkage_job = dg.define_asset_job(
    name="link_households",
    selection=[LINKAGE_KEY],
    description="Re-link what is already ingested, counties in parallel (no publish: the warehouse job does that).",
)


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
