//! Builds a deterministic data set and measures Accord with wrk. See README.md.
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_domain::sample::Seq;
use accord_storage::{Db, accounts, migrate, query, records};
use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Map, Value, json};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Build a data set and measure Accord with wrk")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    contacts: usize,
    #[arg(long, default_value_t = 200_000)]
    companies: usize,
    /// Deals spread over an 8-stage pipeline (0: no sales scenarios).
    #[arg(long, default_value_t = 1_000_000)]
    deals: usize,
    /// Activities, each linked to a deal and a contact.
    #[arg(long, default_value_t = 5_000_000)]
    activities: usize,
    #[arg(long, default_value = "/tmp/accord-bench")]
    data_dir: PathBuf,
    /// Measure on this database instead of SQLite in `--data-dir` (postgres://…; an empty
    /// database, or one this command built before).
    #[arg(long)]
    database_url: Option<String>,
    /// Drop the data set and build it again.
    #[arg(long)]
    rebuild: bool,
    /// The server binary to measure.
    #[arg(long, default_value = "target/release/accord")]
    bin: PathBuf,
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    #[arg(long, default_value_t = 16)]
    connections: u32,
    #[arg(long, default_value = "127.0.0.1:18090")]
    bind: String,
    /// Run only the scenarios whose name contains one of these texts, in the usual order
    /// (e.g. `report` or `create,move`).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
}

const USERS: usize = 20;
const TAGS: [&str; 10] = ["vip", "опт", "розница", "новый", "партнёр", "tender", "export", "постоянный", "холодный", "b2b"];
const LAST: [&str; 16] = ["Иванов", "Петров", "Смирнов", "Кузнецов", "Попов", "Волков", "Соколов", "Лебедев", "Smith", "Johnson", "Williams", "Brown", "Miller", "Wilson", "Moore", "Taylor"];
const FIRST: [&str; 12] = ["Иван", "Пётр", "Мария", "Анна", "Сергей", "Ольга", "John", "Mary", "James", "Linda", "Robert", "Susan"];

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

async fn build(db: &Db, args: &Args) -> anyhow::Result<()> {
    let (contacts, companies) = (args.contacts, args.companies);
    let ws = accounts::create_workspace(db, "Bench", "RU").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut users = Vec::new();
    for i in 0..=USERS {
        let role = if i == 0 { Role::Owner } else { Role::Member };
        let id = accounts::create_user(db, &format!("user{i}@bench.example.com"), &format!("User {i}"), "bench-password").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        accounts::add_member(db, ws, id, role).await?;
        users.push(id);
    }
    for t in 0..4 {
        let members: Vec<i64> = users[1..].iter().skip(t).step_by(4).copied().collect();
        accounts::save_team(db, ws, None, &format!("Team {t}"), &members).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let owner = accounts::principal_for(db, ws, users[0]).await?;
    let mut seq = Seq(42);
    let started = Instant::now();
    let batch = 2_000;
    let mut company_ids = Vec::with_capacity(companies);
    for start in (0..companies).step_by(batch) {
        let inputs: Vec<Map<String, Value>> = (start..(start + batch).min(companies))
            .map(|i| obj(json!({"name": format!("Компания {i}"), "industry": "Торговля", "employees": seq.below(1000), "tags": [TAGS[seq.below(TAGS.len())]], "owner_id": users[1 + seq.below(USERS)]})))
            .collect();
        company_ids.extend(records::create_many(db, &owner, Entity::Company, &inputs, &[], "import").await.map_err(|e| anyhow::anyhow!("{e:?}"))?);
        eprint!("\rcompanies {}/{companies}", company_ids.len());
    }
    eprintln!();
    let mut done = 0;
    for start in (0..contacts).step_by(batch) {
        let inputs: Vec<Map<String, Value>> = (start..(start + batch).min(contacts))
            .map(|i| {
                let mut c = json!({
                    "last_name": LAST[seq.below(LAST.len())], "first_name": FIRST[seq.below(FIRST.len())],
                    "emails": [format!("c{i}@mail{}.example.com", i % 97)], "phones": [format!("+7 9{:02} {:07}", 10 + i % 89, i % 10_000_000)],
                    "tags": [TAGS[seq.below(TAGS.len())]], "owner_id": users[1 + seq.below(USERS)],
                });
                if !company_ids.is_empty() {
                    c["primary_company_id"] = json!(company_ids[seq.below(company_ids.len())]);
                }
                obj(c)
            })
            .collect();
        done += records::create_many(db, &owner, Entity::Contact, &inputs, &[], "import").await.map_err(|e| anyhow::anyhow!("{e:?}"))?.len();
        eprint!("\rcontacts {done}/{contacts} ({:.0}/s)", done as f64 / started.elapsed().as_secs_f64());
    }
    eprintln!();
    if args.deals > 0 {
        build_sales(db, &owner, &users, contacts, &company_ids, args.deals, args.activities, &mut seq).await?;
    }
    Ok(())
}

const PIPELINE: &str = "Bench pipeline";

const PRODUCTS: [(&str, u64); 6] = [("Стол", 12_200), ("Кресло", 8_900), ("Шкаф", 23_500), ("Доставка", 1_500), ("Монтаж", 4_000), ("Consulting", 50_000)];
const DAY_MS: i64 = 86_400_000;

/// An 8-stage pipeline (6 open, won, lost) and deals spread over it and over the past year
/// (closed ones with their closing day, open ones with an expected close in the next six
/// months, half with catalogue lines, most with a company), and activities that put two
/// rows each on timelines (their deal's and their contact's), done over the past year.
#[allow(clippy::too_many_arguments)]
async fn build_sales(db: &Db, owner: &accounts::Principal, users: &[i64], contacts: usize, company_ids: &[i64], deals: usize, activities: usize, seq: &mut Seq) -> anyhow::Result<()> {
    use accord_domain::sales::{Names, StageKind};
    use accord_storage::sales::{self, NewPipeline, StageInput};
    let stage = |name: &str, kind| StageInput { id: None, names: Names { ru: Some(name.to_owned()), en: None }, kind, probability: None };
    let mut stages: Vec<StageInput> = (1..=6).map(|i| stage(&format!("Этап {i}"), StageKind::Open)).collect();
    stages.push(stage("Выиграна", StageKind::Won));
    stages.push(stage("Проиграна", StageKind::Lost));
    let pipeline = sales::create_pipeline(db, owner, NewPipeline { names: Names { ru: Some(PIPELINE.into()), en: None }, stages }).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let stage_ids: Vec<(i64, StageKind)> = pipeline.stages.iter().map(|s| (s.id, s.kind)).collect();
    let reason = sales::lost_reasons(db, owner).await.map_err(|e| anyhow::anyhow!("{e:?}"))?.iter().find(|r| !r.requires_comment).map(|r| r.id).context("no lost reason")?;
    let started = Instant::now();
    let batch = 2_000;
    let mut done = 0;
    let now = accord_storage::now_ms();
    let today = chrono::Utc::now().date_naive();
    for start in (0..deals).step_by(batch) {
        let mut created = Vec::new();
        let inputs: Vec<Map<String, Value>> = (start..(start + batch).min(deals))
            .map(|i| {
                let (stage_id, kind) = stage_ids[seq.below(stage_ids.len())];
                let mut d = json!({"title": format!("Сделка {i}"), "pipeline_id": pipeline.id, "stage_id": stage_id,
                    "tags": [TAGS[seq.below(TAGS.len())]], "owner_id": users[1 + seq.below(USERS)]});
                if i % 2 == 0 {
                    let (name, price) = PRODUCTS[seq.below(PRODUCTS.len())];
                    d["items"] = json!([{"name": name, "quantity": 1 + seq.below(20), "price": price.to_string()}]);
                } else {
                    d["amount"] = json!(format!("{}.{:02}", 1000 + seq.below(1_000_000), seq.below(100)));
                }
                if !company_ids.is_empty() && seq.below(10) > 0 {
                    d["company_id"] = json!(company_ids[seq.below(company_ids.len())]);
                }
                let closed = now - seq.below(365) as i64 * DAY_MS;
                match kind {
                    StageKind::Open => {
                        d["expected_close_date"] = json!(today.checked_add_days(chrono::Days::new(seq.below(180) as u64)).unwrap_or(today).to_string());
                        created.push(now - seq.below(180) as i64 * DAY_MS);
                    }
                    _ => {
                        d["closed_at"] = json!(chrono::DateTime::from_timestamp_millis(closed).unwrap_or_default().to_rfc3339());
                        created.push(closed - (1 + seq.below(90)) as i64 * DAY_MS);
                    }
                }
                if kind == StageKind::Lost {
                    d["lost_reason_id"] = json!(reason);
                }
                obj(d)
            })
            .collect();
        let ids = records::create_many(db, owner, Entity::Deal, &inputs, &[], "import").await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let dated: Vec<(i64, i64)> = ids.iter().copied().zip(created).collect();
        records::backdate(db, Entity::Deal, &dated).await.map_err(|e| anyhow::anyhow!("{e:?}"))?;
        done += ids.len();
        eprint!("\rdeals {done}/{deals} ({:.0}/s)", done as f64 / started.elapsed().as_secs_f64());
    }
    eprintln!();
    let first_deal = records::max_id(db, Entity::Deal).await? - deals as i64 + 1;
    let first_contact = records::max_id(db, Entity::Contact).await? - contacts as i64 + 1;
    let started = Instant::now();
    let mut done = 0;
    for start in (0..activities).step_by(batch) {
        let inputs: Vec<Map<String, Value>> = (start..(start + batch).min(activities))
            .map(|i| {
                let kind = ["call", "email", "note"][i % 3];
                let done_at = chrono::DateTime::from_timestamp_millis(now - seq.below(365 * 24) as i64 * 3_600_000).unwrap_or_default().to_rfc3339();
                let mut a = json!({"kind": kind, "deal_id": first_deal + seq.below(deals) as i64, "owner_id": users[1 + seq.below(USERS)], "body": "Обсудили условия", "done_at": done_at});
                if contacts > 0 {
                    a["contact_id"] = json!(first_contact + seq.below(contacts) as i64);
                }
                obj(a)
            })
            .collect();
        done += records::create_many(db, owner, Entity::Activity, &inputs, &[], "import").await.map_err(|e| anyhow::anyhow!("{e:?}"))?.len();
        eprint!("\ractivities {done}/{activities} ({:.0}/s)", done as f64 / started.elapsed().as_secs_f64());
    }
    eprintln!();
    Ok(())
}

/// Deals for the move scenario with their current versions, one `id version` per line, so
/// every move sends the version it would have read.
async fn write_moves(db: &Db, path: &std::path::Path, pipeline_id: i64, n: i64) -> anyhow::Result<()> {
    let rows = query("SELECT id, version FROM deals WHERE pipeline_id = $1 AND status = 'open' AND deleted_at IS NULL ORDER BY id DESC LIMIT $2").bind(pipeline_id).bind(n).fetch_all(db).await?;
    let mut text = String::new();
    for r in rows {
        text.push_str(&format!("{} {}\n", r.try_get::<i64, _>("id")?, r.try_get::<i64, _>("version")?));
    }
    std::fs::write(path, text)?;
    Ok(())
}

const REPORT_CONNECTIONS: u32 = 4;

/// The requests the web app's dashboard makes when it opens (reports and goals).
const DASHBOARD: &[(&str, &str)] = &[
    ("revenue", "group_by=month"),
    ("win_rate", "group_by=month"),
    ("sales_cycle", "group_by=month"),
    ("funnel", ""),
    ("forecast", "group_by=month"),
    ("lost_reasons", "group_by=month"),
    ("leaderboard", "group_by=month"),
    ("activity", "group_by=month"),
    ("products", "group_by=month&limit=10"),
    ("conversion", "group_by=month"),
    ("purchase_frequency", "group_by=month"),
    ("churn", "group_by=month"),
    ("goals", ""),
];

/// A report's request. The funnel is of one pipeline (the workspace's first when none is
/// named): the bench pipeline's, which holds the deals, and not the empty default one.
fn report_path(name: &str, query: &str, pipeline_id: i64) -> String {
    match name {
        "funnel" => format!("/api/v1/reports/funnel?pipeline_id={pipeline_id}"),
        _ => format!("/api/v1/reports/{name}?{query}"),
    }
}

/// Opens the dashboard 20 times as a browser would, every request at once, and gives the
/// median and the slowest time until the last answer, in ms.
async fn dashboard(bind: &str, token: &str, pipeline_id: i64) -> anyhow::Result<(f64, f64)> {
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for (name, query) in DASHBOARD {
            let url = if *name == "goals" { format!("http://{bind}/api/v1/goals") } else { format!("http://{bind}{}", report_path(name, query, pipeline_id)) };
            let request = client.get(url).bearer_auth(token);
            set.spawn(async move { request.send().await.map(|r| r.status()) });
        }
        while let Some(done) = set.join_next().await {
            let status = done??;
            if !status.is_success() {
                bail!("the dashboard got {status}");
            }
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1]))
}

struct Figures {
    rps: f64,
    p99_ms: f64,
}

fn parse_duration_ms(s: &str) -> Option<f64> {
    let (num, unit) = s.split_at(s.find(|c: char| c.is_alphabetic())?);
    let v: f64 = num.parse().ok()?;
    Some(match unit {
        "us" => v / 1000.0,
        "ms" => v,
        "s" => v * 1000.0,
        "m" => v * 60_000.0,
        _ => return None,
    })
}

fn wrk(args: &Args, connections: u32, token: &str, path: &str, script: Option<&str>, env: &[(&str, String)]) -> anyhow::Result<Figures> {
    let mut cmd = Command::new("wrk");
    // wrk leaves answers slower than its timeout (2 s by default) out of the latencies; a
    // 3 s report showed as p99 0 and "met".
    cmd.args(["-t2", &format!("-c{connections}"), &format!("-d{}s", args.seconds), "--timeout", "30s", "--latency", "-H", &format!("Authorization: Bearer {token}")]);
    if let Some(s) = script {
        cmd.args(["-s", s]);
    }
    cmd.arg(format!("http://{}{path}", args.bind));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text.lines().find_map(|l| l.strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok()).context(format!("no Requests/sec in wrk output:\n{text}"))?;
    let p99 = text.lines().find_map(|l| l.trim().strip_prefix("99%")).and_then(|v| parse_duration_ms(v.trim())).context("no 99% latency in wrk output")?;
    let errors = text.lines().find(|l| l.contains("Non-2xx")).map(str::to_owned);
    if let Some(e) = errors {
        bail!("{path}: {e}");
    }
    // "Socket errors: connect 0, read 0, write 0, timeout 3": a request never answered.
    let timeouts: u64 = text.lines().find_map(|l| l.trim().strip_prefix("Socket errors:")).and_then(|l| l.rsplit_once("timeout")).and_then(|(_, n)| n.trim().parse().ok()).unwrap_or(0);
    Ok(Figures { rps, p99_ms: if timeouts > 0 { f64::INFINITY } else { p99 } })
}

fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.rebuild && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)?;
    }
    std::fs::create_dir_all(&args.data_dir)?;
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("accord.db").display()));
    let db = Db::connect(&url).await?;
    migrate::run(&db).await?;
    if accounts::find_workspace(&db, "Bench").await?.is_none() {
        let t = Instant::now();
        build(&db, &args).await?;
        println!("data set built in {:.0} s", t.elapsed().as_secs_f64());
    }
    let ws = accounts::find_workspace(&db, "Bench").await?.context("no Bench workspace: use --rebuild")?;
    let owner_id = accounts::find_user(&db, "user0@bench.example.com").await?.context("no owner")?;
    let member_id = accounts::find_user(&db, "user1@bench.example.com").await?.context("no member")?;
    let owner = accounts::principal_for(&db, ws, owner_id).await?;
    let (_, token) = accounts::create_token(&db, &owner, "bench", "read_write", None).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let max_id: i64 = accord_storage::records::max_id(&db, Entity::Contact).await?;
    let sales = if args.deals > 0 {
        let pipeline = accord_storage::sales::pipelines(&db, &owner).await?.into_iter().find(|p| p.names.ru.as_deref() == Some(PIPELINE)).context("no bench pipeline: use --rebuild")?;
        let open: Vec<String> = pipeline.stages.iter().filter(|s| s.kind == accord_domain::sales::StageKind::Open).map(|s| s.id.to_string()).collect();
        let moves = args.data_dir.join("moves.txt");
        write_moves(&db, &moves, pipeline.id, (args.seconds * 4000) as i64).await?;
        Some((pipeline.id, open.join(","), moves, accord_storage::records::max_id(&db, Entity::Deal).await?))
    } else {
        None
    };
    db.close().await;

    let mut server = Command::new(&args.bin)
        .args(["serve", "--data-dir", &args.data_dir.display().to_string(), "--database-url", &url, "--bind", &args.bind])
        .env("ACCORD_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", args.bin.display()))?;
    let pid = server.id();
    let ready = async {
        for _ in 0..100 {
            if std::net::TcpStream::connect(&args.bind).is_ok() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    };
    if !ready.await {
        let _ = server.kill();
        bail!("the server did not start");
    }
    let list_path = format!("/api/v1/contacts?owner_id={member_id}&tag=vip&sort=-updated_at&limit=50");
    // name, path, wrk script, minimum requests/s, maximum p99 ms
    type Scenario<'a> = (String, String, Option<&'a str>, f64, Option<f64>);
    let mut scenarios: Vec<Scenario> = vec![
        ("list page of 50 (owner+tag, by update)".into(), list_path, None, 3000.0, Some(25.0)),
        ("search (prefix / e-mail fragment)".into(), "/".into(), Some("bench/wrk/search.lua"), 1000.0, Some(50.0)),
        ("get contact by id".into(), "/".into(), Some("bench/wrk/get.lua"), 20000.0, None),
        ("create contact (audited)".into(), "/".into(), Some("bench/wrk/create.lua"), 2000.0, None),
    ];
    let mut env = vec![("BENCH_MAX_ID", max_id.to_string())];
    if let Some((pipeline_id, open, moves, max_deal)) = &sales {
        scenarios.push(("kanban: 8 stages, 20 cards each, counts and totals".into(), format!("/api/v1/pipelines/{pipeline_id}/board?limit=20"), None, 500.0, Some(50.0)));
        scenarios.push(("deal timeline, first 50".into(), "/".into(), Some("bench/wrk/timeline.lua"), 0.0, Some(25.0)));
        for (name, query) in DASHBOARD.iter().filter(|(name, _)| *name != "goals") {
            scenarios.push((format!("report {name}, the last twelve months ({REPORT_CONNECTIONS} clients)"), report_path(name, query, *pipeline_id), None, 0.0, Some(500.0)));
        }
        // Last: it changes deals the reports above read.
        scenarios.push(("move a deal (versioned, stage history, audit)".into(), "/".into(), Some("bench/wrk/move.lua"), 1500.0, None));
        env.push(("BENCH_MAX_DEAL", max_deal.to_string()));
        env.push(("BENCH_STAGES", open.clone()));
        env.push(("BENCH_MOVES", moves.display().to_string()));
    }
    let engine = if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" };
    println!("\n{engine}: {} contacts, {} companies, {} deals, {} activities; wrk -t2 -c{} -d{}s on loopback\n", args.contacts, args.companies, args.deals, args.activities, args.connections, args.seconds);
    println!("| scenario | req/s | p99 ms | target | result |");
    println!("|---|---:|---:|---|---|");
    let mut all_ok = true;
    // The customer base's scenarios come first; its memory target is for their load.
    let customer_base_scenarios = 4;
    let mut customer_base_rss = None;
    for (i, (name, path, script, min_rps, max_p99)) in scenarios.into_iter().enumerate() {
        if args.only.as_ref().is_some_and(|only| !only.iter().any(|o| name.contains(o.as_str()))) {
            continue;
        }
        // Reports are opened by a few managers at a time, not by every salesperson at once.
        let connections = if path.starts_with("/api/v1/reports/") { REPORT_CONNECTIONS } else { args.connections };
        let f = match wrk(&args, connections, &token, &path, script, &env) {
            Ok(f) => f,
            Err(e) => {
                let _ = server.kill();
                return Err(e);
            }
        };
        // No answer at all within wrk's timeout leaves no latency to judge.
        let ok = f.rps > 0.0 && f.rps >= min_rps && max_p99.is_none_or(|m| f.p99_ms <= m);
        all_ok &= ok;
        let target = match max_p99 {
            Some(m) if min_rps == 0.0 => format!("p99 < {m:.0} ms"),
            Some(m) => format!("≥ {min_rps:.0}/s, p99 < {m:.0} ms"),
            None => format!("≥ {min_rps:.0}/s"),
        };
        println!("| {name} | {:.0} | {:.1} | {target} | {} |", f.rps, f.p99_ms, if ok { "met" } else { "MISSED" });
        if i + 1 == customer_base_scenarios {
            customer_base_rss = peak_rss_mb(pid);
        }
    }
    if let Some((pipeline_id, ..)) = &sales
        && args.only.as_ref().is_none_or(|only| only.iter().any(|o| "full dashboard".contains(o.as_str())))
    {
        let (median, worst) = dashboard(&args.bind, &token, *pipeline_id).await?;
        let ok = worst < 1000.0;
        all_ok &= ok;
        println!("| full dashboard ({} requests at once), median {median:.0} ms | | {worst:.1} | p99 < 1000 ms | {} |", DASHBOARD.len(), if ok { "met" } else { "MISSED" });
    }
    if let Some(rss) = customer_base_rss {
        all_ok &= rss < 200.0;
        println!("| peak resident memory under the customer base's load | | | < 200 MB | {rss:.0} MB {} |", if rss < 200.0 { "met" } else { "MISSED" });
    }
    if sales.is_some() {
        println!("| peak resident memory over the whole run (reports included) | | | | {:.0} MB |", peak_rss_mb(pid).unwrap_or(f64::NAN));
    }
    let _ = server.kill();
    let _ = server.wait();
    println!("\n{}", if all_ok { "all targets met" } else { "some targets missed" });
    Ok(())
}
