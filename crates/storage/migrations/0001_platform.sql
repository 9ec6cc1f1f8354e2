-- Accord schema, version 1: workspaces, users, access, contacts, companies, history.
-- Written once for both engines. {{pk}} is the engine's auto-increment primary key;
-- blocks between "-- @sqlite" / "-- @postgres" and "-- @end" are for that engine only.
-- Times are milliseconds since the Unix epoch (UTC); booleans are 0/1.

CREATE TABLE workspaces (
    id {{pk}},
    name TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL DEFAULT 'RU',
    base_currency TEXT NOT NULL DEFAULT 'RUB',
    trash_retention_days BIGINT NOT NULL DEFAULT 30,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id {{pk}},
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'ru',
    time_zone TEXT NOT NULL DEFAULT 'Europe/Moscow',
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    role TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

CREATE TABLE teams (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE role_policies (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    role TEXT NOT NULL,
    read_scope TEXT NOT NULL,
    edit_scope TEXT NOT NULL,
    PRIMARY KEY (workspace_id, role)
);

CREATE TABLE sessions (
    id {{pk}},
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_failures (
    id {{pk}},
    throttle_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (throttle_key, at);

CREATE TABLE invitations (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT
);

CREATE TABLE contacts (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by BIGINT,
    display_name TEXT NOT NULL,
    last_name TEXT,
    first_name TEXT,
    middle_name TEXT,
    position TEXT,
    primary_company_id BIGINT,
    company_ids TEXT NOT NULL,
    emails TEXT NOT NULL,
    phones TEXT NOT NULL,
    addresses TEXT NOT NULL,
    birthday TEXT,
    source TEXT,
    description TEXT,
    marketing_consent TEXT NOT NULL,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    last_name_f TEXT,
    first_name_f TEXT,
    middle_name_f TEXT,
    position_f TEXT,
    consent_given BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX contacts_updated ON contacts (workspace_id, updated_at, id);
CREATE INDEX contacts_owner_updated ON contacts (workspace_id, owner_id, updated_at, id);
CREATE INDEX contacts_last_name ON contacts (workspace_id, last_name_f, id);
CREATE INDEX contacts_company ON contacts (primary_company_id);
CREATE INDEX contacts_deleted ON contacts (workspace_id, deleted_at);

CREATE TABLE companies (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    owner_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by BIGINT,
    display_name TEXT NOT NULL,
    name TEXT,
    legal_name TEXT,
    kind TEXT NOT NULL,
    inn TEXT,
    kpp TEXT,
    ogrn TEXT,
    bank TEXT,
    website TEXT,
    domain TEXT,
    industry TEXT,
    employees BIGINT,
    annual_revenue TEXT,
    annual_revenue_num BIGINT,
    emails TEXT NOT NULL,
    phones TEXT NOT NULL,
    addresses TEXT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    name_f TEXT,
    legal_name_f TEXT,
    industry_f TEXT
);
CREATE INDEX companies_updated ON companies (workspace_id, updated_at, id);
CREATE INDEX companies_owner_updated ON companies (workspace_id, owner_id, updated_at, id);
CREATE INDEX companies_name ON companies (workspace_id, name_f, id);
CREATE INDEX companies_inn ON companies (workspace_id, inn);
CREATE INDEX companies_domain ON companies (workspace_id, domain);
CREATE INDEX companies_deleted ON companies (workspace_id, deleted_at);

-- Identifiers that make two records the same party: duplicate detection and filters.
CREATE TABLE record_keys (
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX record_keys_lookup ON record_keys (workspace_id, entity, kind, value);
CREATE INDEX record_keys_record ON record_keys (entity, record_id);

CREATE TABLE record_tags (
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (entity, record_id, tag)
);
CREATE INDEX record_tags_tag ON record_tags (workspace_id, entity, tag, record_id);

CREATE TABLE custom_field_defs (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    entity TEXT NOT NULL,
    field_key TEXT NOT NULL,
    label TEXT NOT NULL,
    field_type TEXT NOT NULL,
    required BIGINT NOT NULL,
    unique_values BIGINT NOT NULL,
    options TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, entity, field_key)
);

CREATE TABLE custom_values (
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    field_id BIGINT NOT NULL,
    v_text TEXT,
    v_num BIGINT
);
CREATE INDEX custom_values_text ON custom_values (field_id, v_text, record_id);
CREATE INDEX custom_values_num ON custom_values (field_id, v_num, record_id);
CREATE INDEX custom_values_record ON custom_values (entity, record_id);

CREATE TABLE notes (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    body TEXT NOT NULL,
    author_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX notes_record ON notes (entity, record_id);

-- Every change: who, when, and the old and new value of each changed field.
CREATE TABLE audit_log (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    action TEXT NOT NULL,
    actor_id BIGINT,
    at BIGINT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (entity, record_id, id);
CREATE INDEX audit_log_workspace ON audit_log (workspace_id, id);

-- What happened to a record, newest first. Each feature adds rows of its own kind
-- (change, note; later activity, deal, email, ticket) pointing at its own table.
CREATE TABLE timeline (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX timeline_record ON timeline (entity, record_id, at, id);

CREATE TABLE merges (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    survivor_id BIGINT NOT NULL,
    merged_id BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    actor_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    undone_at BIGINT
);

CREATE TABLE search_docs (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    display_name TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (entity, record_id)
);

-- @sqlite
CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3 4');
-- @end

-- @postgres
CREATE EXTENSION IF NOT EXISTS pg_trgm;
ALTER TABLE search_docs ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED;
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv);
CREATE INDEX search_docs_trgm ON search_docs USING gin (body gin_trgm_ops);
-- @end
