-- Accord schema, version 11: the funnel reads counters instead of every stay of its pipeline.
-- At a million deals the funnel joined each stay of the pipeline to its deal, four times
-- per request, and took seconds (bench/README.md).

-- When the deal last entered the same stage before this stay (empty for a first entry).
-- A deal counts once among the deals entering a stage in a range: at its stay whose
-- previous entry lies before the range. So the funnel subtracts from the counted entries
-- only the re-entries whose previous entry is in the range, a few rows of this index.
ALTER TABLE deal_stage_history ADD COLUMN prev_entered_at BIGINT;
CREATE INDEX deal_stage_history_reentry ON deal_stage_history (pipeline_id, prev_entered_at, entered_at, stage_id, deal_id) WHERE prev_entered_at IS NOT NULL;

-- Live deals counted per UTC hour and per UTC day (span_hours 1 and 24) and per owner,
-- kept by every write of a deal and of its stage history (see sales::funnel_counts):
--   entered: stays that entered `stage_id` of `pipeline_id` in the span;
--   open:    open deals in `stage_id`, by when they entered it;
--   created: deals of `pipeline_id` created in the span, by their stage (`stage_id`) and
--            the farthest open or won stage they ever stood in (`farthest_stage_id`, 0
--            for none); rebuilt for a pipeline whose stages are reordered or removed.
-- `deleted_at` stays empty only so that the shared visibility condition applies as is.
CREATE TABLE funnel_counts (
    workspace_id BIGINT NOT NULL,
    pipeline_id BIGINT NOT NULL,
    measure TEXT NOT NULL,
    span_hours BIGINT NOT NULL,
    start_at BIGINT NOT NULL,
    owner_id BIGINT NOT NULL,
    stage_id BIGINT NOT NULL,
    farthest_stage_id BIGINT NOT NULL,
    deleted_at BIGINT,
    n BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, pipeline_id, measure, span_hours, start_at, owner_id, stage_id, farthest_stage_id)
) {{without_rowid}};
