//! Import and export speed: a generated contacts CSV (companies resolved by INN, e-mails and
//! phones normalized, duplicates matched, search updated) imported through the same check
//! and run as the API, then every contact exported to CSV. See README.md.
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_storage::{Db, accounts, imports, migrate, records};
use clap::Parser;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

// The allocator of the `accord` binary, so the figures are those of `accord import` and the server.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(about = "Measure importing and exporting contacts")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    rows: usize,
    /// Companies the rows refer to by INN.
    #[arg(long, default_value_t = 1000)]
    companies: usize,
    #[arg(long, default_value = "/tmp/accord-bench-transfer")]
    data_dir: PathBuf,
    /// postgres://… (an empty database) instead of SQLite in `--data-dir`.
    #[arg(long)]
    database_url: Option<String>,
    /// Export the contacts of the data set an earlier run left in `--data-dir` (or the
    /// database), without importing again.
    #[arg(long)]
    export_only: bool,
}

/// A valid INN of a legal entity from a number.
fn inn(n: usize) -> String {
    let mut digits = [0u32; 9];
    for (d, c) in digits.iter_mut().zip(format!("{:09}", 770_000_000 + n).chars()) {
        *d = c.to_digit(10).unwrap_or(0);
    }
    accord_domain::ru_ids::inn10_complete(&digits)
}

/// A memory figure of this process from /proc, in MB: `VmRSS:` now, `VmHWM:` at its peak.
fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status").ok().and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok())).map_or(0.0, |kb| kb / 1024.0)
}

fn peak_rss_mb() -> f64 {
    rss_mb("VmHWM:")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let url = match &args.database_url {
        Some(u) => u.clone(),
        None => {
            if !args.export_only {
                let _ = std::fs::remove_dir_all(&args.data_dir);
            }
            std::fs::create_dir_all(&args.data_dir)?;
            format!("sqlite://{}", args.data_dir.join("accord.db").display())
        }
    };
    let db = Db::connect(&url).await?;
    migrate::run(&db).await?;
    if args.export_only {
        let ws = accounts::find_workspace(&db, "Transfer").await?.ok_or_else(|| anyhow::anyhow!("no data set in {}: run without --export-only first", args.data_dir.display()))?;
        let user = accounts::find_user(&db, "owner@transfer.example.com").await?.ok_or_else(|| anyhow::anyhow!("no owner in the data set"))?;
        return export(&db, &accounts::principal_for(&db, ws, user).await?).await;
    }
    let ws = accounts::create_workspace(&db, "Transfer", "RU").await?;
    let user = accounts::create_user(&db, "owner@transfer.example.com", "Owner", "correct horse battery").await?;
    accounts::add_member(&db, ws, user, Role::Owner).await?;
    let p = accounts::principal_for(&db, ws, user).await?;
    let companies: Vec<_> = (0..args.companies).map(|i| json!({ "name": format!("ООО Компания {i}"), "inn": inn(i) }).as_object().cloned().unwrap_or_default()).collect();
    records::create_many(&db, &p, Entity::Company, &companies, &[], "bench").await?;

    let file = args.data_dir.join("contacts.csv");
    std::fs::create_dir_all(&args.data_dir)?;
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file)?);
        writeln!(w, "Фамилия;Имя;E-mail;Мобильный телефон;ИНН компании;Теги")?;
        for i in 0..args.rows {
            writeln!(w, "Фамилия{i};Имя{};person{i}@example.ru;+7 916 {:03}-{:02}-{:02};{};импорт", i % 97, i / 10_000 % 1000, i / 100 % 100, i % 100, inn(i % args.companies))?;
        }
    }
    let bytes = std::fs::read(&file)?;
    println!("file: {} rows, {:.1} MB", args.rows, bytes.len() as f64 / 1e6);

    let t = Instant::now();
    let info = imports::create(&db, &p, Entity::Contact, "contacts.csv", &bytes).await?;
    drop(bytes);
    let upload = t.elapsed().as_secs_f64();
    println!("upload: {upload:.1} s");
    println!("mapping: {:?}", info.mapping);
    for (phase, run) in [("check", false), ("run", true)] {
        imports::start(&db, &p, info.id, run).await?;
        anyhow::ensure!(imports::claim(&db, info.id).await?, "claim");
        let t = Instant::now();
        let mut last = Instant::now();
        imports::process(&db, info.id, &mut |pr| {
            if last.elapsed().as_secs() >= 10 {
                eprintln!("  {phase}: {} / {} rows, {:.0} rows/s, {:.0} MB resident", pr.processed, pr.total, pr.processed as f64 / t.elapsed().as_secs_f64(), rss_mb("VmRSS:"));
                last = Instant::now();
            }
            std::ops::ControlFlow::Continue(())
        })
        .await?;
        let secs = t.elapsed().as_secs_f64();
        let done = imports::get(&db, &p, info.id).await?;
        println!("{phase}: {} rows in {secs:.1} s = {:.0} rows/s; {:?} {:?}; peak RSS {:.0} MB", args.rows, args.rows as f64 / secs, done.check, done.run, peak_rss_mb());
        if run {
            // What `accord import` takes: the upload, then the run (it checks only with --dry-run).
            println!("upload and run: {:.0} rows/s", args.rows as f64 / (upload + secs));
        }
    }

    export(&db, &p).await
}

/// Every contact through the export the API and `accord export` use.
async fn export(db: &Db, p: &accounts::Principal) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut export = accord_api::exports::start(db, p.clone(), Entity::Contact, vec![("sort".into(), "id".into())]).await.map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    let (mut lines, mut size) = (0usize, 0usize);
    while let Some(chunk) = export.chunks.recv().await {
        let chunk = chunk?;
        size += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let secs = t.elapsed().as_secs_f64();
    println!("export: {} rows ({:.1} MB) in {secs:.1} s = {:.0} rows/s; peak RSS {:.0} MB", lines.saturating_sub(1), size as f64 / 1e6, lines as f64 / secs, peak_rss_mb());
    Ok(())
}
