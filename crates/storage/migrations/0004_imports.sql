-- Accord schema, version 4: imports. An uploaded file, its mapping and options, the outcome of
-- each row of its check and of its run (what undo needs), and the identifiers records had in
-- the system they came from.

CREATE TABLE imports (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    entity TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    detected TEXT NOT NULL,
    headers TEXT NOT NULL,
    sample TEXT NOT NULL,
    mapping TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    next_row BIGINT NOT NULL,
    check_counts TEXT,
    run_counts TEXT,
    error TEXT,
    lease_until BIGINT,
    version BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);
CREATE INDEX imports_workspace ON imports (workspace_id, id);
CREATE INDEX imports_pending ON imports (status, lease_until);

-- @sqlite
CREATE TABLE import_files (import_id BIGINT PRIMARY KEY REFERENCES imports(id), content BLOB NOT NULL);
-- @postgres
CREATE TABLE import_files (import_id BIGINT PRIMARY KEY REFERENCES imports(id), content BYTEA NOT NULL);
-- @end

CREATE TABLE import_rows (
    import_id BIGINT NOT NULL REFERENCES imports(id),
    phase TEXT NOT NULL,
    row_index BIGINT NOT NULL,
    line BIGINT NOT NULL,
    action TEXT NOT NULL,
    record_id BIGINT,
    record_version BIGINT,
    before TEXT,
    problems TEXT,
    match_keys TEXT,
    PRIMARY KEY (import_id, phase, row_index)
);
CREATE INDEX import_rows_action ON import_rows (import_id, phase, action, row_index);

CREATE TABLE external_ids (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    entity TEXT NOT NULL,
    value TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, entity, value)
);
CREATE INDEX external_ids_record ON external_ids (entity, record_id);
