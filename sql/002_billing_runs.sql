-- 002_billing_runs.sql - what a billing run needs beyond 001 (docs/billing.md,
-- "Billing runs"). Same conventions as 001: no semicolon inside comments or
-- strings, enumerations as CHECK.

-- The summary of a finished run (billed, skipped with reasons, total fen) as
-- JSON, so GET /admin/api/v1/billing/runs/{id} can show it after the process
-- that ran it has gone.
ALTER TABLE job ADD COLUMN summary LONGTEXT NULL CHECK (summary IS NULL OR JSON_VALID(summary));

