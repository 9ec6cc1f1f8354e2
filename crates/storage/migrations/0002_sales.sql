-- Accord schema, version 2: catalogue, pipelines, deals, leads, activities, tasks,
-- reminders and notifications, exchange rates, web forms, calendar feeds.

ALTER TABLE workspaces ADD COLUMN vat_rates TEXT NOT NULL DEFAULT '["22","20","10","0","none"]';

CREATE TABLE pipelines (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    names TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX pipelines_workspace ON pipelines (workspace_id, position);

CREATE TABLE stages (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    pipeline_id BIGINT NOT NULL REFERENCES pipelines(id),
    names TEXT NOT NULL,
    kind TEXT NOT NULL,
    probability BIGINT NOT NULL,
    position BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE INDEX stages_pipeline ON stages (pipeline_id, position);

CREATE TABLE lost_reasons (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    names TEXT NOT NULL,
    requires_comment BIGINT NOT NULL DEFAULT 0,
    position BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX lost_reasons_workspace ON lost_reasons (workspace_id, position);

-- Units of the base currency one unit of `currency` was worth from `valid_from` on.
CREATE TABLE exchange_rates (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    currency TEXT NOT NULL,
    rate TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    UNIQUE (workspace_id, currency, valid_from)
);

CREATE TABLE products (
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
    sku TEXT,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL,
    vat_rate TEXT NOT NULL,
    active BIGINT NOT NULL,
    description TEXT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    name_f TEXT,
    price_num BIGINT
);
CREATE INDEX products_updated ON products (workspace_id, updated_at, id);
CREATE INDEX products_name ON products (workspace_id, name_f, id);
CREATE INDEX products_sku ON products (workspace_id, sku);
CREATE INDEX products_deleted ON products (workspace_id, deleted_at);

CREATE TABLE deals (
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
    title TEXT,
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    company_id BIGINT,
    contacts TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    vat_included BIGINT NOT NULL,
    vat_amount TEXT NOT NULL,
    items TEXT NOT NULL,
    expected_close_date TEXT,
    probability BIGINT,
    win_probability BIGINT NOT NULL,
    source TEXT,
    lead_id BIGINT,
    lost_reason_id BIGINT,
    lost_comment TEXT,
    closed_at BIGINT,
    stage_changed_at BIGINT NOT NULL,
    board_position BIGINT NOT NULL DEFAULT 0,
    description TEXT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    title_f TEXT,
    amount_num BIGINT NOT NULL
);
CREATE INDEX deals_updated ON deals (workspace_id, updated_at, id);
CREATE INDEX deals_owner_updated ON deals (workspace_id, owner_id, updated_at, id);
CREATE INDEX deals_board ON deals (workspace_id, stage_id, deleted_at, board_position, id);
-- Covers the board's per-stage counts and totals (owner_id for visibility).
CREATE INDEX deals_totals ON deals (workspace_id, pipeline_id, stage_id, currency, deleted_at, owner_id, amount_num);
CREATE INDEX deals_company ON deals (company_id);
CREATE INDEX deals_close ON deals (workspace_id, expected_close_date);
CREATE INDEX deals_closed ON deals (workspace_id, closed_at);
CREATE INDEX deals_deleted ON deals (workspace_id, deleted_at);

-- Live deals counted per stage, owner and currency, kept by every write of a deal, so the
-- board's counts and totals read a few rows instead of every deal (the owner column lets
-- the usual visibility condition apply).
CREATE TABLE deal_totals (
    workspace_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    currency TEXT NOT NULL,
    deals BIGINT NOT NULL,
    amount_num BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, pipeline_id, stage_id, owner_id, currency)
);

-- One row per stay of a deal in a stage: time in each stage and the whole cycle follow.
CREATE TABLE deal_stage_history (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    deal_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    left_at BIGINT,
    actor_id BIGINT
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, id);
CREATE INDEX deal_stage_history_stage ON deal_stage_history (workspace_id, stage_id, entered_at);

CREATE TABLE leads (
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
    email TEXT,
    phone TEXT,
    company_name TEXT,
    inn TEXT,
    message TEXT,
    source TEXT,
    utm TEXT NOT NULL,
    utm_source TEXT,
    utm_campaign TEXT,
    status TEXT NOT NULL,
    disqualify_reason TEXT,
    contact_id BIGINT,
    company_id BIGINT,
    deal_id BIGINT,
    converted_at BIGINT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    name_f TEXT
);
CREATE INDEX leads_updated ON leads (workspace_id, updated_at, id);
CREATE INDEX leads_owner_updated ON leads (workspace_id, owner_id, updated_at, id);
CREATE INDEX leads_status ON leads (workspace_id, status, id);
CREATE INDEX leads_deleted ON leads (workspace_id, deleted_at);

CREATE TABLE activities (
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
    kind TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    direction TEXT,
    duration_seconds BIGINT,
    outcome TEXT,
    starts_at BIGINT,
    ends_at BIGINT,
    place TEXT,
    participants TEXT NOT NULL,
    due_at BIGINT,
    done_at BIGINT,
    status TEXT NOT NULL,
    remind_before_minutes BIGINT,
    contact_id BIGINT,
    company_id BIGINT,
    deal_id BIGINT,
    lead_id BIGINT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX activities_updated ON activities (workspace_id, updated_at, id);
CREATE INDEX activities_owner_at ON activities (workspace_id, owner_id, at, id);
CREATE INDEX activities_at ON activities (workspace_id, at, id);
CREATE INDEX activities_deleted ON activities (workspace_id, deleted_at);

CREATE TABLE tasks (
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
    title TEXT,
    description TEXT,
    due_at BIGINT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    completed_at BIGINT,
    remind_before_minutes BIGINT,
    recurrence TEXT NOT NULL,
    contact_id BIGINT,
    company_id BIGINT,
    deal_id BIGINT,
    lead_id BIGINT,
    tags TEXT NOT NULL,
    custom_fields TEXT NOT NULL,
    title_f TEXT
);
CREATE INDEX tasks_updated ON tasks (workspace_id, updated_at, id);
CREATE INDEX tasks_owner_due ON tasks (workspace_id, owner_id, status, due_at, id);
CREATE INDEX tasks_due ON tasks (workspace_id, due_at, id);
CREATE INDEX tasks_deleted ON tasks (workspace_id, deleted_at);

-- Links of activities and tasks to the records whose timelines show them.
CREATE INDEX timeline_ref ON timeline (kind, ref_id);

-- Reminders waiting for their time; a row is fired exactly once by whichever instance
-- claims it first.
CREATE TABLE reminders (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    entity TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    fire_at BIGINT NOT NULL,
    fired_at BIGINT
);
CREATE INDEX reminders_due ON reminders (fired_at, fire_at);
CREATE INDEX reminders_record ON reminders (entity, record_id);

CREATE TABLE notifications (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT,
    record_id BIGINT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (workspace_id, user_id, id);
CREATE INDEX notifications_unread ON notifications (workspace_id, user_id, read_at);

CREATE TABLE web_forms (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    name TEXT NOT NULL,
    form_key TEXT NOT NULL UNIQUE,
    owner_id BIGINT NOT NULL,
    source TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
);

CREATE TABLE form_hits (
    id {{pk}},
    client_key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX form_hits_key ON form_hits (client_key, at);

CREATE TABLE calendar_feeds (
    id {{pk}},
    workspace_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX calendar_feeds_user ON calendar_feeds (user_id);
