-- 016_reports.sql - indexes for the console's reports (cgi/admin_report.c,
-- docs/reports.md). Each report reads a range of one date column; without
-- these, the payments report scanned all refunds, the late-fee report all
-- late_fee_entry rows (one per overdue bill per day: the biggest money
-- table) and all paid bills.
--
-- report.read already exists (sql/001) for admin and finance; the other
-- roles (reader, service) do not see money totals, so no new grants.

ALTER TABLE refund ADD KEY refund_success_ix (state, success_at);
ALTER TABLE late_fee_entry ADD KEY late_fee_entry_day_ix (day);
ALTER TABLE bill ADD KEY bill_status_paid_ix (status, paid_at);
