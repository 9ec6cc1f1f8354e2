-- Accord schema, version 6: price lists — named sets of product prices in one currency that
-- a deal may follow.

CREATE TABLE price_lists (
    id {{pk}},
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    names TEXT NOT NULL,
    currency TEXT NOT NULL,
    position BIGINT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX price_lists_workspace ON price_lists (workspace_id, position);

CREATE TABLE price_list_prices (
    price_list_id BIGINT NOT NULL REFERENCES price_lists(id),
    product_id BIGINT NOT NULL,
    price TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (price_list_id, product_id)
);

ALTER TABLE deals ADD COLUMN price_list_id BIGINT;
