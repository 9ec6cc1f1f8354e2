-- Accord schema, version 3: sales goals (monthly or quarterly targets per user or team).

CREATE TABLE goals (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    metric TEXT NOT NULL,
    period TEXT NOT NULL,
    period_start TEXT NOT NULL,
    user_id BIGINT,
    team_id BIGINT,
    target TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX goals_workspace ON goals (workspace_id, period_start);
