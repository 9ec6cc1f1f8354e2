use crate::both_engines;
use crate::harness::{Engine, fresh_db, fresh_db_at};
use accord_storage::migrate;

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
