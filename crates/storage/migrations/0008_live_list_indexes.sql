-- Accord schema, version 8: the indexes lists walk also hold `deleted_at`.
-- Every list, search and board reads live rows only (`deleted_at IS NULL`). Without the
-- column in the index, each index entry a list passes over (a page of 50 contacts of one
-- owner with one tag passes about 500) cost a seek into the record's row just to read it;
-- with it, only the rows that go on the page are read.
DROP INDEX contacts_updated;
CREATE INDEX contacts_updated ON contacts (workspace_id, updated_at, id, deleted_at);
DROP INDEX contacts_owner_updated;
CREATE INDEX contacts_owner_updated ON contacts (workspace_id, owner_id, updated_at, id, deleted_at);
DROP INDEX contacts_last_name;
CREATE INDEX contacts_last_name ON contacts (workspace_id, last_name_f, id, deleted_at);
DROP INDEX companies_updated;
CREATE INDEX companies_updated ON companies (workspace_id, updated_at, id, deleted_at);
DROP INDEX companies_owner_updated;
CREATE INDEX companies_owner_updated ON companies (workspace_id, owner_id, updated_at, id, deleted_at);
DROP INDEX companies_name;
CREATE INDEX companies_name ON companies (workspace_id, name_f, id, deleted_at);
DROP INDEX deals_updated;
CREATE INDEX deals_updated ON deals (workspace_id, updated_at, id, deleted_at);
DROP INDEX deals_owner_updated;
CREATE INDEX deals_owner_updated ON deals (workspace_id, owner_id, updated_at, id, deleted_at);
DROP INDEX activities_updated;
CREATE INDEX activities_updated ON activities (workspace_id, updated_at, id, deleted_at);
DROP INDEX activities_owner_at;
CREATE INDEX activities_owner_at ON activities (workspace_id, owner_id, at, id, deleted_at);
DROP INDEX activities_at;
CREATE INDEX activities_at ON activities (workspace_id, at, id, deleted_at);
