-- Accord schema, version 10: the customer reports read a deal's first contact from the
-- closed deals' index.
-- A won deal without a company counts for its first contact (reports/customers.rs). That
-- contact sat only in the `contacts` JSON, so the purchase frequency and churn reports read
-- the row of every such deal (one in ten of the benchmark's million, mostly from disk).
-- `first_contact_id` is kept by every write of a deal, like `amount_num`.
ALTER TABLE deals ADD COLUMN first_contact_id BIGINT;
-- @sqlite
UPDATE deals SET first_contact_id = json_extract(contacts, '$[0].contact_id') WHERE contacts <> '[]';
-- @postgres
UPDATE deals SET first_contact_id = (contacts::jsonb -> 0 ->> 'contact_id')::BIGINT WHERE contacts <> '[]';
-- @end
DROP INDEX deals_closed_report;
CREATE INDEX deals_closed_report ON deals (workspace_id, status, closed_at, currency, owner_id, deleted_at, amount_num, pipeline_id, lost_reason_id, created_at, company_id, first_contact_id);
