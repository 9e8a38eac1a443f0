import dagster as dg

from pipelines.definitions import defs
from pipelines.settings import DEPARTMENTS


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)


def test_one_ingest_asset_sensor_and_check_per_department():
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for department in DEPARTMENTS:
        assert f"ingest/{department}" in keys
        sensor = defs.get_sensor_def(f"{department}_folder")
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    check_keys = {key.name for key in graph.asset_check_keys}
    assert "every_row_accounted_for" in check_keys
