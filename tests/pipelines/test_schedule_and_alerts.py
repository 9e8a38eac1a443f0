import datetime as dt
import json

import dagster as dg

from pipelines.ops.alerts import alert_on_run_failure
from pipelines.ops.schedules import daily_schedule
from pipelines.resources import HearthResource
from pipelines.settings import HearthSettings


def test_daily_schedule_ticks_in_shanghai_time():
    schedule = daily_schedule(HearthSettings(schedule_cron="30 5 * * *"))
    assert schedule.execution_timezone == "Asia/Shanghai"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 30, 5, 30))
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert len(requests) == 1
    assert schedule.job_name == "daily_refresh"


def test_a_failed_run_writes_an_alert(tmp_path):
    @dg.op
    def broken():
        raise RuntimeError("the disk is on fire")

    @dg.job
    def failing():
        broken()

    with dg.instance_for_test() as instance:
        result = failing.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE"
                       or e.event_type_value == "RUN_FAILURE")
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure, dagster_instance=instance,
            dagster_run=result.dagster_run, resources={"hearth": HearthResource(data_dir=str(tmp_path))},
        ).for_run_failure()
        alert_on_run_failure(context)
    lines = (tmp_path / "alerts.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    alert = json.loads(lines[0])
    assert alert["run_id"] == result.run_id and alert["job"] == "failing"
