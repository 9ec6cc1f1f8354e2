-- Accord schema, version 3: analytics. Sales goals, and covering indexes for the reports,
-- so that each report reads an index range of the period instead of the whole table.

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

-- Revenue, win rate, lost reasons, leaderboard, cycle, customers: closed deals by day.
CREATE INDEX deals_closed_report ON deals (workspace_id, status, closed_at, currency, owner_id, deleted_at, amount_num);
-- Forecast: open deals by expected close.
CREATE INDEX deals_forecast ON deals (workspace_id, status, expected_close_date, currency, win_probability, owner_id, deleted_at, amount_num);
-- Funnel: deals created in the range.
CREATE INDEX deals_created ON deals (workspace_id, created_at, pipeline_id, status, owner_id, deleted_at);
-- Funnel: stays entered or left in the range.
CREATE INDEX deal_stage_history_entered ON deal_stage_history (pipeline_id, entered_at, stage_id, deal_id);
CREATE INDEX deal_stage_history_left ON deal_stage_history (pipeline_id, left_at, stage_id, deal_id);
-- Activity: done activities and tasks by completion.
CREATE INDEX activities_done ON activities (workspace_id, status, done_at, owner_id, kind, deleted_at);
CREATE INDEX tasks_completed ON tasks (workspace_id, status, completed_at, owner_id, deleted_at);
CREATE INDEX tasks_due_status ON tasks (workspace_id, status, due_at, owner_id, deleted_at);
-- Conversion: leads created in the range.
CREATE INDEX leads_created ON leads (workspace_id, created_at, status, owner_id, deleted_at);
