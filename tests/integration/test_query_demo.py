"""SQL over the demo's real warehouse (tests/integration/query_support.py): results checked against
the same numbers computed here from the source data (PostgreSQL and the event files), the saved
views, the README's three questions, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.integration.query_support import REPO, DemoWarehouse, demo_warehouse, event_rows, source_rows
from warehouse_sources.query.engine import QueryEngine

pytestmark = pytest.mark.integration

# The README's three questions (section "Query"), run here as written there.
REVENUE_BY_COHORT = """
SELECT date_trunc('month', c.created_at)::DATE AS cohort,
       count(DISTINCT c.id) AS customers,
       sum(ch.amount) AS revenue_usd,
       round(sum(ch.amount) / count(DISTINCT c.id), 2) AS per_customer
FROM billing_customers AS c
JOIN billing_charges AS ch ON ch.customer_id = c.id
WHERE ch.status = 'succeeded' AND ch.currency = 'USD'
GROUP BY cohort
ORDER BY cohort
"""
ACTIVE_MRR = """
SELECT coalesce(plan, 'all plans') AS plan, count(*) AS customers, sum(monthly_price) AS mrr
FROM active_paying_customers
WHERE last_seen >= now() - INTERVAL 7 DAY
GROUP BY ROLLUP (plan)
ORDER BY mrr DESC
"""
EVENTS_PER_PAYING_CUSTOMER = """
WITH plan_of AS (
    SELECT customer_id, arg_max(json_extract_string(metadata, '$.plan')::INTEGER, created_at) AS plan_id
    FROM billing_charges WHERE status = 'succeeded' GROUP BY customer_id
)
SELECT p.code AS plan,
       count(DISTINCT c.id) AS paying_customers,
       count(e.uuid) AS events,
       round(count(e.uuid) / count(DISTINCT c.id), 1) AS events_per_customer,
       count(e.uuid) FILTER (WHERE e.event = 'feature_used') AS feature_uses
FROM billing_customers AS c
JOIN plan_of AS l ON l.customer_id = c.id
JOIN billing_plans AS p ON p.id = l.plan_id AND p.monthly_price > 0
LEFT JOIN events AS e ON e.distinct_id = c.email
GROUP BY p.code
ORDER BY events_per_customer DESC
"""
PLAN_OF = """
SELECT DISTINCT ON (c.id) c.id, c.email, p.code, p.monthly_price
FROM customers c JOIN charges ch ON ch.customer_id = c.id AND ch.status = 'succeeded'
JOIN plans p ON p.id = (ch.metadata->>'plan')::int
ORDER BY c.id, ch.created_at DESC, ch.id DESC
"""


@pytest.fixture(scope="module")
def demo(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoWarehouse]:
    with demo_warehouse(pg_server, tmp_path_factory.mktemp("query-demo")) as built:
        yield built


@pytest.fixture
def engine(demo: DemoWarehouse) -> QueryEngine:
    return QueryEngine(demo.warehouse, views_dir=demo.views)


def test_revenue_per_customer_equals_the_sources(demo: DemoWarehouse, engine: QueryEngine) -> None:
    expected = source_rows(
        demo.billing,
        "SELECT customer_id, sum(amount)::text FROM charges WHERE status = 'succeeded' GROUP BY 1 ORDER BY 1",
    )
    result = engine.run(
        "SELECT customer_id, sum(amount) AS revenue FROM billing_charges WHERE status = 'succeeded' "
        "GROUP BY 1 ORDER BY 1"
    )
    assert result.columns[1].type == "DECIMAL(38,2)"
    assert [tuple(r) for r in result.rows] == [(cid, total) for cid, total in expected]
    assert not result.truncated and len(result.rows) > 2000


def test_the_monthly_revenue_view_equals_the_sources(demo: DemoWarehouse, engine: QueryEngine) -> None:
    expected = source_rows(
        demo.billing,
        "SELECT date_trunc('month', ch.created_at AT TIME ZONE 'UTC')::date::text, ch.currency, count(*), "
        "sum(ch.amount)::text, coalesce(sum(r.refunded), 0)::numeric(38,2)::text "
        "FROM charges ch LEFT JOIN (SELECT charge_id, sum(amount) AS refunded FROM refunds GROUP BY 1) r "
        "ON r.charge_id = ch.id WHERE ch.status = 'succeeded' GROUP BY 1, 2 ORDER BY 1, 2",
    )
    result = engine.run("SELECT month, currency, charges, gross, refunded, net FROM monthly_revenue")
    assert [tuple(r[:5]) for r in result.rows] == [tuple(e) for e in expected]
    assert all(Decimal(gross) - Decimal(refunded) == Decimal(net) for *_, gross, refunded, net in result.rows)


def test_events_are_kept_as_exported_and_join_the_customers(demo: DemoWarehouse, engine: QueryEngine) -> None:
    exported = event_rows(demo.events)
    result = engine.run("SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1")
    assert result.rows == sorted([list(kv) for kv in Counter(e["event"] for e in exported).items()])
    one = exported[len(exported) // 2]
    (row,) = engine.run(
        f'SELECT properties, person_properties, person_id, distinct_id, "timestamp", date FROM events '
        f"WHERE uuid = '{one['uuid']}'"
    ).rows
    assert row[:4] == [one["properties"], one["person_properties"], one["person_id"], one["distinct_id"]]
    assert row[4].replace("+00:00", "Z") == one["timestamp"] and row[5] == one["timestamp"][:10]
    emails = {email for (email,) in source_rows(demo.billing, "SELECT email FROM customers")}
    joined = engine.run("SELECT count(*) FROM events e JOIN billing_customers c ON c.email = e.distinct_id").rows
    assert joined == [[sum(e["distinct_id"] in emails for e in exported)]]


def test_events_per_paying_customer_equals_the_sources(demo: DemoWarehouse, engine: QueryEngine) -> None:
    plans = {email: (code, price) for _, email, code, price in source_rows(demo.billing, PLAN_OF) if price > 0}
    per_email = Counter(e["distinct_id"] for e in event_rows(demo.events))
    expected: dict[str, list[int]] = {}
    for email, (code, _) in plans.items():
        totals = expected.setdefault(code, [0, 0])
        totals[0] += 1
        totals[1] += per_email[email]
    result = engine.run(EVENTS_PER_PAYING_CUSTOMER)
    assert {r[0]: [r[1], r[2]] for r in result.rows} == expected


def test_active_mrr_equals_the_sources(demo: DemoWarehouse, engine: QueryEngine) -> None:
    from datetime import UTC, datetime, timedelta

    week_ago = datetime.now(UTC) - timedelta(days=7)
    last_seen: dict[str, datetime] = {}
    for e in event_rows(demo.events):
        at = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        last_seen[e["distinct_id"]] = max(at, last_seen.get(e["distinct_id"], at))
    active = [(code, price) for _, email, code, price in source_rows(demo.billing, PLAN_OF)
              if price > 0 and last_seen.get(email, week_ago) > week_ago]  # fmt: skip
    rows = {r[0]: (r[1], Decimal(r[2])) for r in engine.run(ACTIVE_MRR).rows}
    assert rows["all plans"] == (len(active), sum((price for _, price in active), Decimal(0)))
    for code in {c for c, _ in active}:
        assert rows[code] == (sum(c == code for c, _ in active), sum(p for c, p in active if c == code))


def test_revenue_by_cohort_equals_the_sources(demo: DemoWarehouse, engine: QueryEngine) -> None:
    expected = source_rows(
        demo.billing,
        "SELECT date_trunc('month', c.created_at AT TIME ZONE 'UTC')::date::text, count(DISTINCT c.id), "
        "sum(ch.amount)::text FROM customers c JOIN charges ch ON ch.customer_id = c.id "
        "WHERE ch.status = 'succeeded' AND ch.currency = 'USD' GROUP BY 1 ORDER BY 1",
    )
    assert [tuple(r[:3]) for r in engine.run(REVENUE_BY_COHORT).rows] == [tuple(e) for e in expected]


def cli(demo: DemoWarehouse, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "AIRFLOW__WAREHOUSE_SOURCES__WAREHOUSE_URI": demo.warehouse,
        "AIRFLOW__WAREHOUSE_SOURCES__VIEWS_DIR": str(demo.views),
        "PYTHONPATH": str(REPO / "plugins"),
    }
    command = [sys.executable, "-m", "warehouse_sources", "query", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=300)


def test_the_cli_prints_json_csv_and_a_table(demo: DemoWarehouse, tmp_path: Path) -> None:
    sql = "SELECT code, monthly_price FROM billing_plans WHERE id <= 2 ORDER BY id"
    as_json = cli(demo, "--format", "json", sql)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "columns": [{"name": "code", "type": "VARCHAR"}, {"name": "monthly_price", "type": "DECIMAL(12,2)"}],
        "rows": [["free", "0.00"], ["starter", "19.00"]],
        "truncated": False,
    }
    assert cli(demo, "--format", "csv", sql).stdout == "code,monthly_price\nfree,0.00\nstarter,19.00\n"
    (tmp_path / "q.sql").write_text(sql + ";\n")
    table = cli(demo, "-f", str(tmp_path / "q.sql"))
    assert table.stdout.splitlines() == [
        "code (VARCHAR) | monthly_price (DECIMAL(12,2))",
        "---------------+------------------------------",
        "free           | 0.00",
        "starter        | 19.00",
        "(2 rows)",
    ]
    piped = cli(demo, "--format", "json", "--limit", "1", "-", stdin="SELECT * FROM monthly_revenue")
    assert piped.returncode == 0 and json.loads(piped.stdout)["truncated"] is True


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("DELETE FROM billing_charges", "DELETE statements are refused"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is refused"),
        ("SELECT * FROM billing_invoices", "no table or view named 'billing_invoices'"),
        ("SELECT nope FROM billing_plans", 'Referenced column "nope" not found'),
    ],
)
def test_cli_errors_go_to_stderr_and_exit_non_zero(demo: DemoWarehouse, sql: str, message: str) -> None:
    answer = cli(demo, sql)
    assert answer.returncode == 1 and answer.stdout == ""
    assert message in answer.stderr and answer.stderr.startswith("query: ")


def test_an_engine_answers_the_next_query_after_each_refusal(engine: QueryEngine) -> None:
    from warehouse_sources.query.errors import QueryError

    refused: list[Any] = []
    for sql in ("COPY billing_plans TO 'x.csv'", "ATTACH 'x.db'", "INSTALL httpfs", "LOAD httpfs",
                "SET threads = 8", "PRAGMA threads = 8", "EXPORT DATABASE 'x'", "SELECT * FROM glob('*')",
                "SELECT * FROM read_parquet('s3://bucket/x.parquet')", "CREATE TABLE x AS SELECT 1",
                "INSERT INTO billing_plans SELECT * FROM billing_plans", "SELEC 1"):  # fmt: skip
        with pytest.raises(QueryError) as caught:
            engine.run(sql)
        refused.append(caught.value)
        assert engine.run("SELECT count(*) FROM billing_plans").rows == [[6]]
    assert len(refused) == 12


def test_the_cli_lists_tables_and_views_with_their_columns(demo: DemoWarehouse) -> None:
    answer = cli(demo, "--list", "--format", "json")
    assert answer.returncode == 0, answer.stderr
    listed = {t["name"]: t for t in json.loads(answer.stdout)["tables"]}
    synced = {"billing_customers", "billing_charges", "billing_refunds", "billing_plans", "crm_contacts",
              "crm_deals", "crm_activities", "events"}  # fmt: skip
    assert {n for n, t in listed.items() if t["kind"] == "table"} == synced
    assert {n for n, t in listed.items() if t["kind"] == "view"} == {"monthly_revenue", "active_paying_customers"}
    assert {"name": "properties", "type": "VARCHAR"} in listed["events"]["columns"]
    assert listed["monthly_revenue"]["columns"][0] == {"name": "month", "type": "DATE"}
