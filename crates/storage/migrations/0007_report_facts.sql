-- Accord schema, version 7: reports that read an index range or counters instead of a row
-- per deal or activity.
-- `{{without_rowid}}`: on SQLite these tables are stored in their primary key's order, so a
-- deal's lines or a span's counts are one range of one B-tree.

-- Closed deals by day, now also with what the sales cycle (created_at), lost reasons
-- (lost_reason_id), the pipeline filter and the customer reports (company_id) read, so
-- that none of them visits the deal rows themselves.
DROP INDEX deals_closed_report;
CREATE INDEX deals_closed_report ON deals (workspace_id, status, closed_at, currency, owner_id, deleted_at, amount_num, pipeline_id, lost_reason_id, created_at, company_id);

-- One row per line of a deal, with the deal's columns that visibility and the products
-- report select on, rewritten by every write of the deal (see sales::lines). The report
-- sums the lines of won deals in SQL instead of parsing each deal's JSON.
CREATE TABLE deal_lines (
    deal_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    workspace_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    closed_at BIGINT,
    deleted_at BIGINT,
    currency TEXT NOT NULL,
    product_id BIGINT,
    name TEXT NOT NULL,
    sku TEXT,
    unit TEXT,
    quantity_num BIGINT NOT NULL,
    total_num BIGINT NOT NULL,
    PRIMARY KEY (deal_id, line)
) {{without_rowid}};
-- Every column the report reads, currency before the closing time (one range per currency).
CREATE INDEX deal_lines_won ON deal_lines (workspace_id, status, currency, closed_at, product_id, name, owner_id, deleted_at, quantity_num, total_num, deal_id, line, sku, unit);

-- Done activities per owner and kind, per UTC hour (span_hours 1) and per UTC day (24),
-- kept by every write of an activity (see sales::activity_counts). `deleted_at` stays
-- empty only so that the shared visibility condition applies as is.
CREATE TABLE activity_counts (
    workspace_id BIGINT NOT NULL,
    span_hours BIGINT NOT NULL,
    start_at BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    deleted_at BIGINT,
    done BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, span_hours, start_at, owner_id, kind)
) {{without_rowid}};
