-- Paying customers who used the product in the last 30 days: a customer's plan is the plan of
-- their latest successful charge (charges.metadata.plan), paying means a plan with a price, and
-- activity is any product event whose distinct_id is their email.
WITH latest_plan AS (
    SELECT customer_id, arg_max(json_extract_string(metadata, '$.plan')::INTEGER, created_at) AS plan_id
    FROM billing_charges
    WHERE status = 'succeeded'
    GROUP BY customer_id
),
activity AS (
    SELECT distinct_id AS email, max("timestamp") AS last_seen, count(*) AS events_30d
    FROM events
    WHERE "timestamp" >= now() - INTERVAL 30 DAY
    GROUP BY distinct_id
)
SELECT
    c.id AS customer_id,
    c.email,
    c.name,
    p.code AS plan,
    p.monthly_price,
    a.last_seen,
    a.events_30d
FROM billing_customers AS c
JOIN latest_plan AS l ON l.customer_id = c.id
JOIN billing_plans AS p ON p.id = l.plan_id
JOIN activity AS a ON a.email = c.email
WHERE p.monthly_price > 0
