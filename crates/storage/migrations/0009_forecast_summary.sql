-- Accord schema, version 9: the forecast reads a summary instead of every open deal.
-- Open live deals by expected close date, currency, win probability and owner, kept by
-- every write of a deal (see sales::hooks). Most deals of a busy workspace are open (three
-- in four of the benchmark's million), and the forecast summed each of them per request.
-- `deleted_at` stays empty only so that the shared visibility condition applies as is.
CREATE TABLE deal_forecast (
    workspace_id BIGINT NOT NULL,
    expected_close_date TEXT NOT NULL,
    currency TEXT NOT NULL,
    win_probability BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    deleted_at BIGINT,
    deals BIGINT NOT NULL,
    amount_num BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, expected_close_date, currency, win_probability, owner_id)
) {{without_rowid}};

INSERT INTO deal_forecast (workspace_id, expected_close_date, currency, win_probability, owner_id, deals, amount_num)
SELECT workspace_id, expected_close_date, currency, win_probability, owner_id, COUNT(*), SUM(amount_num) FROM deals
WHERE status = 'open' AND deleted_at IS NULL AND expected_close_date IS NOT NULL
GROUP BY workspace_id, expected_close_date, currency, win_probability, owner_id;
