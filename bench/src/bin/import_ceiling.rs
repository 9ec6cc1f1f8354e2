//! What SQLite itself takes to write what an import of contacts writes. The rows a finished
//! `transfer` run left (records, their keys and tags, search documents and their FTS5
//! entries, audit entries, timeline rows, the rows' outcomes) are copied batch by batch into
//! a new database with `INSERT … SELECT`, with no application code in between, over a
//! connection set up as the server's writer. The time each table takes is what no change to
//! the import's own code can win back. See README.md.
use accord_domain::entities::Entity;
use accord_storage::{Db, migrate, open_sqlite_writer};
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Measure what SQLite alone takes to write an import's rows")]
struct Args {
    /// The data directory a `transfer` run left (its import is replayed).
    #[arg(long, default_value = "/tmp/accord-bench-transfer")]
    from: PathBuf,
    /// Where the new database is made (emptied first).
    #[arg(long, default_value = "/tmp/accord-bench-ceiling")]
    data_dir: PathBuf,
    /// Rows of the import per transaction, as the run's batches.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(i64).range(1..))]
    batch: i64,
    /// Tables not written, to see what a lighter import would take (e.g. `audit_log,timeline`).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

/// One write of a batch: the table it fills and its statement. Parameters, where it has
/// them, are the import and the batch's range of rows; `temp.batch` holds the ids of the
/// batch's contacts.
struct Step {
    table: &'static str,
    sql: String,
}

fn steps(entity: &str) -> Vec<Step> {
    let of_batch = format!("entity = '{entity}' AND record_id IN (SELECT id FROM temp.batch)");
    let step = |table: &'static str, sql: String| Step { table, sql };
    vec![
        step("contacts", "INSERT INTO main.contacts SELECT * FROM s.contacts WHERE id IN (SELECT id FROM temp.batch) ORDER BY id".into()),
        step("record_keys", format!("INSERT INTO main.record_keys SELECT * FROM s.record_keys WHERE {of_batch}")),
        step("record_tags", format!("INSERT INTO main.record_tags SELECT * FROM s.record_tags WHERE {of_batch}")),
        step("search_docs", format!("INSERT INTO main.search_docs SELECT * FROM s.search_docs WHERE {of_batch} ORDER BY id")),
        step("search_fts", format!("INSERT INTO main.search_fts (rowid, body) SELECT id, body FROM main.search_docs WHERE {of_batch}")),
        step("audit_log", format!("INSERT INTO main.audit_log SELECT * FROM s.audit_log WHERE {of_batch} ORDER BY id")),
        step("timeline", format!("INSERT INTO main.timeline SELECT * FROM s.timeline WHERE {of_batch} ORDER BY id")),
        step("import_rows", "INSERT INTO main.import_rows SELECT * FROM s.import_rows WHERE import_id = ?1 AND phase = 'run' AND row_index >= ?2 AND row_index < ?3".into()),
    ]
}

/// What the import's records need to exist before them (workspace, owner, companies and
/// their side rows, the import itself); copied before the clock starts.
fn copy_setting(conn: &rusqlite::Connection, entity: &str) -> anyhow::Result<()> {
    let mut sql = String::from("BEGIN;");
    for table in ["workspaces", "users", "memberships", "companies", "imports"] {
        sql.push_str(&format!("INSERT INTO main.{table} SELECT * FROM s.{table};"));
    }
    for table in ["record_keys", "record_tags", "search_docs", "audit_log", "timeline"] {
        sql.push_str(&format!("INSERT INTO main.{table} SELECT * FROM s.{table} WHERE entity <> '{entity}';"));
    }
    sql.push_str("INSERT INTO main.search_fts (rowid, body) SELECT id, body FROM main.search_docs; COMMIT;");
    sql.push_str("CREATE TEMP TABLE batch (id INTEGER PRIMARY KEY);");
    conn.execute_batch(&sql)?;
    Ok(())
}

/// Copies the log into the database beside the writer, as the server's checkpointer does.
fn checkpointer(path: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let conn = match open_sqlite_writer(&path) {
            Ok(conn) => conn,
            Err(e) => return eprintln!("no checkpoints beside the writer: {e}"),
        };
        while !stop.load(Ordering::Relaxed) {
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            std::thread::sleep(Duration::from_millis(200));
        }
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let source = args.from.join("accord.db");
    anyhow::ensure!(source.exists(), "no {}: run `transfer --data-dir {}` first", source.display(), args.from.display());
    let _ = std::fs::remove_dir_all(&args.data_dir);
    std::fs::create_dir_all(&args.data_dir)?;
    let path = args.data_dir.join("accord.db").display().to_string();
    let db = Db::connect(&format!("sqlite://{path}")).await?;
    migrate::run(&db).await?;
    db.close().await;
    drop(db);

    let entity = Entity::Contact.as_str();
    let conn = open_sqlite_writer(&path)?;
    conn.execute("ATTACH ?1 AS s", [source.display().to_string()])?;
    let (import_id, rows): (i64, i64) = conn.query_row("SELECT import_id, count(*) FROM s.import_rows WHERE phase = 'run' GROUP BY import_id ORDER BY import_id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    copy_setting(&conn, entity)?;
    let all = steps(entity);
    if let Some(unknown) = args.skip.iter().find(|t| !all.iter().any(|s| s.table == t.as_str())) {
        anyhow::bail!("--skip {unknown}: not a table the import writes ({})", all.iter().map(|s| s.table).collect::<Vec<_>>().join(", "));
    }
    let steps: Vec<Step> = all.into_iter().filter(|s| !args.skip.iter().any(|t| t == s.table)).collect();
    println!("replaying import {import_id}: {rows} rows in batches of {}; tables: {}", args.batch, steps.iter().map(|s| s.table).collect::<Vec<_>>().join(", "));

    let stop = Arc::new(AtomicBool::new(false));
    let background = checkpointer(path.clone(), stop.clone());
    let mut spent = vec![Duration::ZERO; steps.len()];
    let (mut commit, mut checkpoint) = (Duration::ZERO, Duration::ZERO);
    let start = Instant::now();
    let mut next_report = 100_000;
    let mut done = 0;
    while done < rows {
        let range = (import_id, done, done + args.batch);
        conn.execute("DELETE FROM temp.batch", [])?;
        conn.execute("INSERT INTO temp.batch SELECT record_id FROM s.import_rows WHERE import_id = ?1 AND phase = 'run' AND action = 'create' AND row_index >= ?2 AND row_index < ?3", range)?;
        conn.execute_batch("BEGIN")?;
        for (step, spent) in steps.iter().zip(&mut spent) {
            let t = Instant::now();
            let mut stmt = conn.prepare_cached(&step.sql)?;
            if stmt.parameter_count() > 0 { stmt.execute(range)? } else { stmt.execute([])? };
            *spent += t.elapsed();
        }
        let t = Instant::now();
        conn.execute_batch("COMMIT")?;
        commit += t.elapsed();
        // The server's writer finishes a checkpoint under the write turn once the log is long.
        let t = Instant::now();
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
        checkpoint += t.elapsed();
        done += args.batch;
        if done >= next_report && done < rows {
            println!("  {done} / {rows} rows, {:.0} rows/s", done as f64 / start.elapsed().as_secs_f64());
            next_report += 100_000;
        }
    }
    let total = start.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = background.join();

    let per_row = |d: Duration| d.as_secs_f64() * 1e6 / rows as f64;
    for (step, spent) in steps.iter().zip(&spent) {
        println!("{:>12}: {:6.2} s  {:5.1} µs/row", step.table, spent.as_secs_f64(), per_row(*spent));
    }
    println!("{:>12}: {:6.2} s  {:5.1} µs/row", "commit", commit.as_secs_f64(), per_row(commit));
    println!("{:>12}: {:6.2} s  {:5.1} µs/row", "checkpoint", checkpoint.as_secs_f64(), per_row(checkpoint));
    let writes = spent.iter().sum::<Duration>() + commit;
    println!("writes and commits: {:.1} s = {:.0} rows/s; with checkpoints and reading the source: {:.1} s = {:.0} rows/s", writes.as_secs_f64(), rows as f64 / writes.as_secs_f64(), total.as_secs_f64(), rows as f64 / total.as_secs_f64());
    Ok(())
}
