-- Revenue per month and currency: successful charges by the month they were made, less what was
-- refunded of them since. Reads billing_charges and billing_refunds (the demo's billing source).
WITH refunded AS (
    SELECT charge_id, sum(amount) AS refunded
    FROM billing_refunds
    GROUP BY charge_id
)
SELECT
    date_trunc('month', ch.created_at)::DATE AS month,
    ch.currency,
    count(*) AS charges,
    sum(ch.amount) AS gross,
    coalesce(sum(r.refunded), 0) AS refunded,
    sum(ch.amount) - coalesce(sum(r.refunded), 0) AS net
FROM billing_charges AS ch
LEFT JOIN refunded AS r ON r.charge_id = ch.id
WHERE ch.status = 'succeeded'
GROUP BY ALL
ORDER BY month, ch.currency
