-- Accord schema, version 5: saved list views — a member's named filters, sort and columns
-- of a list, kept for themselves or shared with the workspace.

CREATE TABLE saved_views (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    entity TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    columns TEXT NOT NULL,
    shared BIGINT NOT NULL DEFAULT 0,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX saved_views_list ON saved_views (workspace_id, entity, user_id);
