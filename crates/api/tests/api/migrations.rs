use crate::both_engines;
use crate::harness::{Engine, fresh_db, fresh_db_at};
use accord_storage::{accounts, migrate, query};
use serde_json::json;

both_engines!(upgrade_from_first_migration_matches_fresh_schema);

/// A database created at the first migration and upgraded in one step has exactly the
/// schema of a fresh one; running migrations again does nothing.
async fn upgrade_from_first_migration_matches_fresh_schema(e: Engine) {
    let old = fresh_db_at(e, Some(1)).await;
    assert!(!migrate::schema_snapshot(&old).await.expect("snapshot").is_empty());
    let applied = migrate::run(&old).await.expect("upgrade");
    assert_eq!(applied, (2..=migrate::latest()).collect::<Vec<_>>());
    let fresh = fresh_db(e).await;
    assert_eq!(migrate::schema_snapshot(&old).await.expect("old"), migrate::schema_snapshot(&fresh).await.expect("fresh"));
    assert!(migrate::run(&fresh).await.expect("again").is_empty());
}

both_engines!(report_lines_filled_on_upgrade);

/// Deals and activities written before the reports read `deal_lines`, `activity_counts`,
/// `deal_forecast`, `first_contact_id` and `funnel_counts` get their lines, counts, forecast
/// shares, first contacts and funnel counts when the database is upgraded: exact decimals, live deals (open ones for
/// the forecast) and done, live activities only.
async fn report_lines_filled_on_upgrade(e: Engine) {
    let db = fresh_db_at(e, Some(6)).await;
    let ws = accounts::create_workspace(&db, "До обновления", "RU").await.expect("workspace");
    let user = accounts::create_user(&db, "old@example.com", "Old", "password-old-1").await.expect("user");
    let items = r#"[{"name":"Стол","sku":"T-1","quantity":"2.5","price":"1000.10","total":"2500.25"},{"product_id":7,"name":"Доставка","quantity":"1","price":"300","total":"300.00"}]"#;
    let won = Some(5_i64);
    let contacts = r#"[{"contact_id":42,"role":"decision_maker"},{"contact_id":7,"role":"other"}]"#;
    for (deleted_at, items, status, closed_at, contacts) in
        [(None, items, "won", won, "[]"), (Some(1_i64), items, "won", won, "[]"), (None, "[]", "won", won, contacts), (None, "[]", "open", None, "[]"), (None, "[]", "open", None, "[]"), (Some(1), "[]", "open", None, "[]")]
    {
        query(
            "INSERT INTO deals (workspace_id, owner_id, version, created_at, created_by, updated_at, updated_by, deleted_at, display_name, pipeline_id, stage_id, status, contacts, amount, currency, \
             vat_included, vat_amount, items, win_probability, closed_at, stage_changed_at, tags, custom_fields, amount_num, expected_close_date) \
             VALUES ($1, $2, 1, 0, $2, 0, $2, $3, 'Старая', 1, 1, $5, $7, '2800.25', 'RUB', 0, '0.00', $4, 100, $6, 0, '[]', '{}', 28002500, '2026-05-04')",
        )
        .bind(ws)
        .bind(user)
        .bind(deleted_at)
        .bind(items)
        .bind(status)
        .bind(closed_at)
        .bind(contacts)
        .execute(&db)
        .await
        .expect("old deal");
    }
    // Done at 01:30 UTC on day 2 (twice), planned, and trashed.
    let at = 86_400_000 + 5_400_000;
    for (status, done_at, deleted_at) in [("done", Some(at), None), ("done", Some(at + 60_000), None), ("planned", None, None), ("done", Some(at), Some(1_i64))] {
        query(
            "INSERT INTO activities (workspace_id, owner_id, version, created_at, created_by, updated_at, updated_by, deleted_at, display_name, kind, participants, status, done_at, tags, custom_fields, at) \
             VALUES ($1, $2, 1, 0, $2, 0, $2, $3, 'call', 'call', '[]', $4, $5, '[]', '{}', 0)",
        )
        .bind(ws)
        .bind(user)
        .bind(deleted_at)
        .bind(status)
        .bind(done_at)
        .execute(&db)
        .await
        .expect("old activity");
    }
    // The fourth deal (open, live) went to the second stage and back.
    let second_stage: i64 = query("SELECT id FROM stages WHERE pipeline_id = 1 AND id <> 1 ORDER BY position LIMIT 1").fetch_one(&db).await.expect("stage").try_get("id").unwrap();
    for (stage, entered, left) in [(1, 10, Some(20_i64)), (second_stage, 20, Some(30)), (1, 30, None)] {
        query("INSERT INTO deal_stage_history (workspace_id, deal_id, pipeline_id, stage_id, entered_at, left_at) VALUES ($1, 4, 1, $2, $3, $4)")
            .bind(ws)
            .bind(stage)
            .bind(entered as i64)
            .bind(left)
            .execute(&db)
            .await
            .expect("old stay");
    }
    migrate::run(&db).await.expect("upgrade");
    let prev: Vec<Option<i64>> = query("SELECT prev_entered_at FROM deal_stage_history ORDER BY id").fetch_all(&db).await.expect("stays").iter().map(|r| r.try_get("prev_entered_at").unwrap()).collect();
    assert_eq!(prev, [None, None, Some(10)], "the re-entry knows the first entry");
    let funnel = query("SELECT measure, stage_id, farthest_stage_id, n FROM funnel_counts WHERE span_hours = 24 AND start_at = 0 ORDER BY measure, stage_id, farthest_stage_id").fetch_all(&db).await.expect("funnel");
    let got: Vec<serde_json::Value> = funnel
        .iter()
        .map(|r| serde_json::json!([r.try_get::<String, _>("measure").unwrap(), r.try_get::<i64, _>("stage_id").unwrap(), r.try_get::<i64, _>("farthest_stage_id").unwrap(), r.try_get::<i64, _>("n").unwrap()]))
        .collect();
    let expected = [json!(["created", 1, 0, 3]), json!(["created", 1, second_stage, 1]), json!(["entered", 1, 0, 2]), json!(["entered", second_stage, 0, 1]), json!(["open", 1, 0, 1])];
    assert_eq!(got, expected, "four live deals, one of them with stays; the trashed ones count nowhere");
    let counts = query("SELECT span_hours, start_at, owner_id, kind, done FROM activity_counts ORDER BY span_hours").fetch_all(&db).await.expect("counts");
    let counts: Vec<serde_json::Value> = counts
        .iter()
        .map(|r| serde_json::json!([r.try_get::<i64, _>("span_hours").unwrap(), r.try_get::<i64, _>("start_at").unwrap(), r.try_get::<i64, _>("owner_id").unwrap() == user, r.try_get::<String, _>("kind").unwrap(), r.try_get::<i64, _>("done").unwrap()]))
        .collect();
    assert_eq!(counts, [serde_json::json!([1, 86_400_000 + 3_600_000, true, "call", 2]), serde_json::json!([24, 86_400_000, true, "call", 2])]);
    let rows = query("SELECT line, owner_id, status, closed_at, currency, product_id, name, sku, quantity_num, total_num FROM deal_lines ORDER BY line").fetch_all(&db).await.expect("lines");
    let got: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| serde_json::json!([r.try_get::<i64, _>("line").unwrap(), r.try_get::<Option<i64>, _>("product_id").unwrap(), r.try_get::<String, _>("name").unwrap(), r.try_get::<Option<String>, _>("sku").unwrap(), r.try_get::<i64, _>("quantity_num").unwrap(), r.try_get::<i64, _>("total_num").unwrap()]))
        .collect();
    assert_eq!(got, [serde_json::json!([0, null, "Стол", "T-1", 25_000, 25_002_500]), serde_json::json!([1, 7, "Доставка", null, 10_000, 3_000_000])], "the trashed deal and the one without lines have none");
    assert!(rows.iter().all(|r| r.try_get::<i64, _>("owner_id").unwrap() == user && r.try_get::<String, _>("status").unwrap() == "won" && r.try_get::<Option<i64>, _>("closed_at").unwrap() == Some(5)));
    let forecast = query("SELECT expected_close_date, currency, win_probability, owner_id, deals, amount_num FROM deal_forecast").fetch_all(&db).await.expect("forecast");
    let got: Vec<serde_json::Value> = forecast
        .iter()
        .map(|r| serde_json::json!([r.try_get::<String, _>("expected_close_date").unwrap(), r.try_get::<String, _>("currency").unwrap(), r.try_get::<i64, _>("win_probability").unwrap(), r.try_get::<i64, _>("owner_id").unwrap() == user, r.try_get::<i64, _>("deals").unwrap(), r.try_get::<i64, _>("amount_num").unwrap()]))
        .collect();
    assert_eq!(got, [serde_json::json!(["2026-05-04", "RUB", 100, true, 2, 2 * 28_002_500])], "the two live open deals");
    let first: Vec<Option<i64>> = query("SELECT first_contact_id FROM deals ORDER BY id").fetch_all(&db).await.expect("deals").iter().map(|r| r.try_get("first_contact_id").unwrap()).collect();
    assert_eq!(first, [None, None, Some(42), None, None, None], "the first of a deal's contacts");
}
