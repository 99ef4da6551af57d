"""mlflow_* tools through the MCP server on the local workspace's real MLflow server."""

from __future__ import annotations

import base64
import io
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import ImageContent

from local_workspace.runner import LocalWorkspace
from server.errors import HINTS, describe_error
from tests.conftest import fails, mlflow_script, ok, text_of
from tools_core.backend import Backend
from tools_core.mlflow_client import mlflow_client

pytestmark = pytest.mark.anyio

USER = "/Users/dev@dbx-devkit.local"


def unique() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def client(backend: Backend) -> Any:
    """The backend's real MlflowClient, to set up runs the tools then read."""
    return mlflow_client(backend)


async def log(mcp: Client, experiment: str, **arguments: Any) -> str:
    result = await ok(mcp, "mlflow_log_run", experiment=experiment, **arguments)
    return str(result.structured_content["run_id"])


@pytest.fixture(scope="module")
def big_experiment(backend: Backend, local_ws: LocalWorkspace) -> tuple[str, list[float]]:
    """An experiment of 1,000 finished runs, each with an f1, a loss and two params.

    Through the REST API each run costs create_run + log_batch, ~60 ms on this machine even
    from eight threads (client and in-process server share the GIL): a minute for 1,000.
    So the rows go into the workspace's MLflow SQLite store in one transaction, through
    MLflow's own ORM models, the way its ``create_run``/``log_batch`` write them; the tools
    then read them back over HTTP like any other run.
    """
    client = mlflow_client(backend)  # imports mlflow whole before any submodule
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    name = f"{USER}/t_mlf_big_{unique()}"
    experiment_id = client.create_experiment(name)
    location = client.get_experiment(experiment_id).artifact_location
    db = Path(local_ws.config.data_dir) / "mlflow" / "mlflow.db"
    store = SqlAlchemyStore(f"sqlite:///{db}", "mlflow-artifacts:/")
    now = int(time.time() * 1000)
    f1s = [((i * 7919) % 1000) / 1000 for i in range(1000)]  # a permutation of 0.000..0.999
    rows: list[Any] = []
    for i, f1 in enumerate(f1s):
        run_id = uuid.uuid4().hex
        rows.append(
            SqlRun(
                run_uuid=run_id,
                name=f"r{i:04d}",
                experiment_id=int(experiment_id),
                artifact_uri=f"{location}/{run_id}/artifacts",
                source_type="UNKNOWN",
                source_name="",
                entry_point_name="",
                user_id="dev",
                status="FINISHED",
                start_time=now + i,
                end_time=now + i + 1,
                source_version="",
                lifecycle_stage="active",
            )
        )
        rows.append(SqlTag(run_uuid=run_id, key="mlflow.runName", value=f"r{i:04d}"))
        for key, value in (("f1", f1), ("loss", 1 - f1)):
            fields = {"key": key, "value": value, "timestamp": now, "step": 0, "is_nan": False}
            rows.append(SqlMetric(run_uuid=run_id, **fields))
            rows.append(SqlLatestMetric(run_uuid=run_id, **fields))
        rows.append(SqlParam(run_uuid=run_id, key="model", value=["xgb", "rf", "lr"][i % 3]))
        rows.append(SqlParam(run_uuid=run_id, key="seed", value=str(i)))
    with store.ManagedSessionMaker(read_only=False) as session:
        session.add_all(rows)
    store.engine.dispose()
    return name, f1s


async def test_create_experiment_is_idempotent_and_warns_about_names(mcp: Client) -> None:
    name = f"{USER}/t_mlf_create_{unique()}"
    first = await ok(mcp, "mlflow_create_experiment", name=name)
    again = await ok(mcp, "mlflow_create_experiment", name=name)
    assert first.structured_content["created"] is True
    assert again.structured_content["created"] is False
    assert again.structured_content["experiment_id"] == first.structured_content["experiment_id"]
    assert "exists (reused)" in text_of(again)
    assert "warning" not in text_of(first)

    loose = await ok(mcp, "mlflow_create_experiment", name=f"t_mlf_loose_{unique()}")
    assert "warning" in text_of(loose) and "/Users/<user>/<project>" in text_of(loose)

    listed = await ok(mcp, "mlflow_list_experiments", name_contains="t_mlf_create_")
    assert name in text_of(listed)


async def test_listing_experiments_is_bounded_and_pages(mcp: Client) -> None:
    tag = unique()
    for i in range(3):
        await ok(mcp, "mlflow_create_experiment", name=f"{USER}/t_mlf_page_{tag}_{i}")
    first = await ok(mcp, "mlflow_list_experiments", name_contains=f"t_mlf_page_{tag}", limit=2)
    page = first.structured_content
    assert len(page["experiments"]) == 2 and page["truncated"] is True
    assert "page_token=" in text_of(first)
    rest = await ok(
        mcp,
        "mlflow_list_experiments",
        name_contains=f"t_mlf_page_{tag}",
        limit=2,
        page_token=page["next_page_token"],
    )
    names = {e["name"] for e in page["experiments"] + rest.structured_content["experiments"]}
    assert names == {f"{USER}/t_mlf_page_{tag}_{i}" for i in range(3)}


async def test_logged_runs_are_searched_filtered_and_ordered(mcp: Client) -> None:
    experiment = f"{USER}/t_mlf_search_{unique()}"
    for model, f1 in (("xgb", 0.91), ("rf", 0.85), ("lr", 0.72)):
        await log(
            mcp,
            experiment,
            run_name=f"eval-{model}",
            params={"model": model, "depth": 6},
            metrics={"f1": f1, "auc": f1 + 0.05},
            tags={"stage": "eval"},
        )
    result = await ok(
        mcp,
        "mlflow_search_runs",
        experiments=[experiment],
        filter_string="metrics.f1 > 0.8",
        order_by=["metrics.f1 DESC"],
    )
    runs = result.structured_content["runs"]
    assert [r["name"] for r in runs] == ["eval-xgb", "eval-rf"]
    columns = result.structured_content["columns"]
    assert columns[0] == "metrics.f1" and "params.model" in columns
    assert "params.depth" not in columns[:2], "params that never vary come last"
    text = text_of(result)
    assert "| run_id | name | status | start | metrics.f1" in text
    assert "0.91" in text and "FINISHED" in text

    chosen = await ok(
        mcp,
        "mlflow_search_runs",
        experiments=[experiment],
        filter_string="params.model = 'lr'",
        columns=["auc", "model"],
    )
    assert chosen.structured_content["columns"] == ["metrics.auc", "params.model"]
    assert chosen.structured_content["runs"][0]["values"] == {
        "metrics.auc": 0.77,
        "params.model": "lr",
    }


async def test_a_thousand_runs_give_a_bounded_sorted_page_and_the_next_one(
    mcp: Client, big_experiment: tuple[str, list[float]]
) -> None:
    name, f1s = big_experiment
    first = await ok(mcp, "mlflow_search_runs", experiments=[name], order_by=["metrics.f1 DESC"])
    page = first.structured_content
    text = text_of(first)
    assert len(page["runs"]) == 20 and page["truncated"] is True
    assert len(text) < 4000, len(text)
    values = [r["values"]["metrics.f1"] for r in page["runs"]]
    assert values == sorted(f1s, reverse=True)[:20]
    assert f"page_token={page['next_page_token']!r}" in text

    second = await ok(
        mcp,
        "mlflow_search_runs",
        experiments=[name],
        order_by=["metrics.f1 DESC"],
        page_token=page["next_page_token"],
    )
    more = [r["values"]["metrics.f1"] for r in second.structured_content["runs"]]
    assert more == sorted(f1s, reverse=True)[20:40]


# A user's script (argv: run id) that logs one file twice: at the top and under plots/.
LOG_REPORT = """
import json, sys
from pathlib import Path
from mlflow import MlflowClient

client, run_id = MlflowClient(), sys.argv[1]
Path("report.txt").write_text("confusion matrix\\n")
client.log_artifact(run_id, "report.txt")
client.log_artifact(run_id, "report.txt", artifact_path="plots")
print(json.dumps({"logged": run_id}))
"""


async def test_get_run_shows_params_metrics_tags_and_artifacts(
    mcp: Client, local_ws: LocalWorkspace
) -> None:
    run_id = await log(
        mcp,
        f"{USER}/t_mlf_get_{unique()}",
        run_name="detail",
        params={"model": "xgb"},
        metrics={"f1": 0.876543},
        tags={"owner": "agent"},
    )
    assert mlflow_script(local_ws, LOG_REPORT, run_id) == {"logged": run_id}

    result = await ok(mcp, "mlflow_get_run", run_id=run_id)
    detail = result.structured_content
    assert detail["params"] == {"model": "xgb"}
    assert detail["metrics"] == {"f1": 0.8765}
    assert detail["tags"] == {"owner": "agent"}, "system tags are hidden by default"
    paths = {a["path"] for a in detail["artifacts"]}
    assert {"report.txt", "plots", "plots/report.txt"} <= paths
    assert detail["url"].endswith(f"/mlflow/#/experiments/{detail['experiment_id']}/runs/{run_id}")
    text = text_of(result)
    assert "report.txt" in text and "owner=agent" in text and "mlflow_get_metric_history" in text

    everything = await ok(mcp, "mlflow_get_run", run_id=run_id, all_tags=True)
    assert "mlflow.runName" in everything.structured_content["tags"]


async def test_compare_runs_puts_differences_first(mcp: Client) -> None:
    experiment = f"{USER}/t_mlf_cmp_{unique()}"
    common = {"data": "v3", "seed": "42"}
    a = await log(
        mcp,
        experiment,
        run_name="a",
        params={**common, "model": "xgb"},
        metrics={"f1": 0.9, "n": 100.0},
    )
    b = await log(
        mcp,
        experiment,
        run_name="b",
        params={**common, "model": "rf"},
        metrics={"f1": 0.8, "n": 100.0},
    )

    result = await ok(mcp, "mlflow_compare_runs", run_ids=[a, b])
    compared = result.structured_content
    assert [row["key"] for row in compared["differ"]] == ["params.model", "metrics.f1"]
    assert compared["differ"][0]["values"] == ["xgb", "rf"]
    assert compared["same_count"] == 3 and compared["same"] == []
    text = text_of(result)
    assert text.index("params.model") < text.index("3 identical rows hidden")

    shown = await ok(mcp, "mlflow_compare_runs", run_ids=[a, b], show_same=True)
    assert {row["key"] for row in shown.structured_content["same"]} == {
        "params.data",
        "params.seed",
        "metrics.n",
    }


async def test_metric_history_summarizes_and_plots_a_png(mcp: Client, client: Any) -> None:
    from matplotlib.image import imread
    from mlflow.entities import Metric

    run_id = await log(mcp, f"{USER}/t_mlf_hist_{unique()}", run_name="train")
    now = int(time.time() * 1000)
    losses = [1 / (step + 1) + (0.05 if step == 30 else 0) for step in range(50)]
    client.log_batch(run_id, metrics=[Metric("loss", v, now, s) for s, v in enumerate(losses)])

    summary = await ok(mcp, "mlflow_get_metric_history", run_id=run_id, key="loss")
    numbers = summary.structured_content
    assert numbers["count"] == 50 and numbers["trend"] == "falling"
    assert (numbers["max"], numbers["max_step"]) == (1.0, 0)
    assert numbers["min_step"] == 49 and numbers["first"] == 1.0
    assert all(isinstance(block, ImageContent) is False for block in summary.content)

    plotted = await ok(mcp, "mlflow_get_metric_history", run_id=run_id, key="loss", plot=True)
    images = [block for block in plotted.content if isinstance(block, ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    png = base64.b64decode(images[0].data)
    assert png.startswith(b"\x89PNG") and len(png) < 60_000
    assert imread(io.BytesIO(png), format="png").shape[:2] == (360, 640)
    assert "data" not in str(plotted.structured_content), "images stay out of structured content"


async def test_log_run_adds_to_an_existing_run_and_prints_nothing(
    mcp: Client, capfd: pytest.CaptureFixture[str]
) -> None:
    run_id = await log(mcp, f"{USER}/t_mlf_add_{unique()}", params={"model": "xgb"})
    assert "View run" not in capfd.readouterr().out, "stdout is the stdio server's protocol"
    added = await ok(mcp, "mlflow_log_run", run_id=run_id, metrics={"holdout_f1": 0.81})
    assert added.structured_content["created"] is False
    assert "updated" in text_of(added)
    detail = await ok(mcp, "mlflow_get_run", run_id=run_id)
    assert detail.structured_content["metrics"] == {"holdout_f1": 0.81}
    assert detail.structured_content["status"] == "FINISHED"

    changed = await fails(mcp, "mlflow_log_run", run_id=run_id, params={"model": "rf"})
    assert changed.startswith("INVALID_PARAMETER_VALUE") and "new run" in changed


async def test_mlflow_errors_reach_the_agent_as_code_then_one_line_then_a_hint() -> None:
    import mlflow  # noqa: F401  (whole, before submodules: see tracking.common.client_of)
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS

    dump = (
        "RESOURCE_ALREADY_EXISTS: Experiment(name=/Users/a/x) already exists. Error: "
        "(sqlite3.IntegrityError) UNIQUE constraint failed\n[SQL: INSERT INTO experiments ...]"
    )
    message = describe_error(MlflowException(dump, error_code=RESOURCE_ALREADY_EXISTS))
    assert message.startswith("RESOURCE_ALREADY_EXISTS: Experiment(name=/Users/a/x) already")
    assert "sqlite3" not in message and "SQL" not in message
    assert message.endswith(HINTS["RESOURCE_ALREADY_EXISTS"])


async def test_bad_input_fails_with_the_mlflow_code_and_a_next_step(mcp: Client) -> None:
    experiment = f"{USER}/t_mlf_bad_{unique()}"
    run_id = await log(mcp, experiment, metrics={"f1": 0.5})

    unknown = await fails(mcp, "mlflow_get_run", run_id="0" * 32)
    assert unknown.startswith("RESOURCE_DOES_NOT_EXIST") and "mlflow_search_runs" in unknown

    malformed = await fails(
        mcp, "mlflow_search_runs", experiments=[experiment], filter_string="metrics.f1 >>> 3"
    )
    assert malformed.startswith("INVALID_PARAMETER_VALUE")
    assert "metrics.f1 > 0.8 and params.model = 'xgb'" in malformed

    no_experiment = await fails(mcp, "mlflow_search_runs", experiments=[f"{USER}/nope_{unique()}"])
    assert no_experiment.startswith("RESOURCE_DOES_NOT_EXIST")
    assert "mlflow_list_experiments" in no_experiment

    no_metric = await fails(mcp, "mlflow_get_metric_history", run_id=run_id, key="recall")
    assert no_metric.startswith("RESOURCE_DOES_NOT_EXIST") and "f1" in no_metric

    unknown_cmp = await fails(mcp, "mlflow_compare_runs", run_ids=[run_id, "f" * 32])
    assert unknown_cmp.startswith("RESOURCE_DOES_NOT_EXIST")
