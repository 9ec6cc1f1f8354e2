//! Reports over HTTP on both engines. The deals are described once in `SPECS`, and every
//! expected figure is computed from that description here, independently of the server.
use crate::both_engines;
use crate::harness::{Engine, Server, User, start};
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_storage::records;
use accord_storage::sales::hooks;
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::BTreeMap;

both_engines!(report_figures, report_rules, customers_without_company, products_follow_lines, activity_counts_follow_writes, funnel_counts_follow_writes, goals_progress);

#[derive(Clone, Copy)]
struct Spec {
    owner: usize,
    status: &'static str,
    amount: &'static str,
    currency: &'static str,
    created: &'static str,
    closed: &'static str,
    company: Option<usize>,
    reason: Option<usize>,
}

const fn won(owner: usize, amount: &'static str, currency: &'static str, created: &'static str, closed: &'static str, company: usize) -> Spec {
    Spec { owner, status: "won", amount, currency, created, closed, company: Some(company), reason: None }
}

const fn lost(owner: usize, amount: &'static str, created: &'static str, closed: &'static str, reason: usize) -> Spec {
    Spec { owner, status: "lost", amount, currency: "RUB", created, closed, company: None, reason: Some(reason) }
}

/// Owners 0 and 1; companies 0 and 1; USD has a rate of 90, EUR none.
const SPECS: [Spec; 6] = [
    won(0, "100000", "RUB", "2026-01-05", "2026-01-20", 0),
    won(0, "50000", "RUB", "2026-01-10", "2026-02-14", 0),
    won(1, "1000", "USD", "2026-02-01", "2026-02-20", 1),
    lost(1, "30000", "2026-01-15", "2026-04-10", 0),
    lost(0, "20000", "2026-03-01", "2026-04-15", 1),
    won(1, "500", "EUR", "2026-04-01", "2026-04-25", 0),
];
const MONTHS: [&str; 6] = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"];
const RANGE: &str = "from=2026-01-01&to=2026-06-30";

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn in_base(spec: &Spec) -> Option<Decimal> {
    match spec.currency {
        "RUB" => Some(dec(spec.amount)),
        "USD" => Some(dec(spec.amount) * dec("90")),
        _ => None,
    }
}

fn money(d: Decimal) -> String {
    format!("{d:.2}")
}

fn noon(day: &str) -> i64 {
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// Revenue per month as the test computes it from the specs, for the owners a caller sees.
fn expected_revenue(owners: &[usize]) -> Vec<(i64, String)> {
    MONTHS
        .iter()
        .map(|m| {
            let deals: Vec<&Spec> = SPECS.iter().filter(|s| s.status == "won" && s.closed.starts_with(m) && owners.contains(&s.owner)).collect();
            (deals.len() as i64, money(deals.iter().filter_map(|s| in_base(s)).sum()))
        })
        .collect()
}

fn table<'a>(report: &'a Value, name: &str) -> &'a Vec<Value> {
    report["tables"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("no table {name} in {report}"))["rows"].as_array().unwrap()
}

fn column(rows: &[Value], key: &str) -> Vec<Value> {
    rows.iter().map(|r| r[key].clone()).collect()
}

struct World {
    s: Server,
    ws: i64,
    admin: User,
    owners: [User; 2],
    manager: User,
    outsider: User,
    stages: Vec<Value>,
    pipeline: i64,
}

async fn world(engine: Engine) -> World {
    let s = start(engine).await;
    let ws = s.workspace("Аналитика").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let owners = [s.user(ws, Role::Member, "anna").await, s.user(ws, Role::Member, "boris").await];
    let manager = s.user(ws, Role::Manager, "manager").await;
    s.team(ws, "Москва", &[&manager, &owners[0]]).await;
    let other = s.workspace("Чужие").await;
    let outsider = s.user(other, Role::Admin, "outsider").await;
    let p = s.get(&admin, "/api/v1/pipelines").await.body[0].clone();
    World { ws, pipeline: p["id"].as_i64().unwrap(), stages: p["stages"].as_array().unwrap().clone(), s, admin, owners, manager, outsider }
}

impl World {
    fn stage(&self, kind: &str) -> i64 {
        self.stages.iter().find(|s| s["kind"] == kind).unwrap()["id"].as_i64().unwrap()
    }

    async fn report(&self, u: &User, name: &str, query: &str) -> Value {
        let r = self.s.get(u, &format!("/api/v1/reports/{name}?{query}")).await;
        assert_eq!(r.status, StatusCode::OK, "{name}?{query}: {}", r.body);
        r.body
    }

    /// Creates the specified deals, backdated, each with a stay in its final stage only.
    async fn deals(&self) -> Vec<i64> {
        let s = &self.s;
        let companies = [s.company(&self.admin, json!({"name": "ООО Ромашка"})).await, s.company(&self.admin, json!({"name": "АО Василёк"})).await];
        let reasons: Vec<i64> = s.get(&self.admin, "/api/v1/lost_reasons").await.body.as_array().unwrap().iter().filter(|r| r["requires_comment"] == false).map(|r| r["id"].as_i64().unwrap()).collect();
        assert_eq!(s.post(&self.admin, "/api/v1/exchange_rates", json!({"currency": "USD", "rate": "90", "valid_from": "2025-01-01"})).await.status, StatusCode::CREATED);
        let mut ids = Vec::new();
        for (i, spec) in SPECS.iter().enumerate() {
            let stage = self.stage(spec.status);
            let mut body = json!({"title": format!("Сделка {i}"), "owner_id": self.owners[spec.owner].id, "stage_id": stage, "amount": spec.amount, "currency": spec.currency,
                "closed_at": chrono::DateTime::from_timestamp_millis(noon(spec.closed)).unwrap().to_rfc3339()});
            if let Some(c) = spec.company {
                body["company_id"] = json!(companies[c]);
            }
            if let Some(r) = spec.reason {
                body["lost_reason_id"] = json!(reasons[r]);
            }
            let r = s.post(&self.admin, "/api/v1/deals", body).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            let id = r.id();
            records::backdate(&s.db, Entity::Deal, &[(id, noon(spec.created))]).await.unwrap();
            hooks::replace_stage_history(&s.db, self.ws, id, self.pipeline, &[(stage, noon(spec.created))]).await.unwrap();
            ids.push(id);
        }
        ids
    }
}

async fn report_figures(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    w.deals().await;
    // Another workspace's sale never shows.
    let foreign_stage = s.get(&w.outsider, "/api/v1/pipelines").await.body[0]["stages"].as_array().unwrap().iter().find(|st| st["kind"] == "won").unwrap()["id"].clone();
    assert_eq!(s.post(&w.outsider, "/api/v1/deals", json!({"title": "Чужая", "stage_id": foreign_stage, "amount": "999999", "closed_at": "2026-01-15T12:00:00Z"})).await.status, StatusCode::CREATED);

    // Revenue: every month of the range, zeros included, converted, EUR set aside.
    let revenue = w.report(&w.admin, "revenue", RANGE).await;
    let rows = table(&revenue, "revenue");
    assert_eq!(column(rows, "period"), MONTHS.map(|m| json!(m)));
    let got: Vec<(i64, String)> = rows.iter().map(|r| (r["won_deals"].as_i64().unwrap(), r["revenue"].as_str().unwrap().to_owned())).collect();
    assert_eq!(got, expected_revenue(&[0, 1]));
    assert_eq!(revenue["unconverted"], json!([{"amount": "500.00", "currency": "EUR"}]));
    assert_eq!((revenue["currency"].as_str(), revenue["time_zone"].as_str(), revenue["group_by"].as_str()), (Some("RUB"), Some("Europe/Moscow"), Some("month")));
    let total: Decimal = expected_revenue(&[0, 1]).iter().map(|(_, r)| dec(r)).sum();
    assert_eq!(revenue["summary"]["revenue"], json!(money(total)));
    // A manager sees the team's deals only; a member reads all (the default policy).
    let team = w.report(&w.manager, "revenue", RANGE).await;
    assert_eq!(table(&team, "revenue").iter().map(|r| (r["won_deals"].as_i64().unwrap(), r["revenue"].as_str().unwrap().to_owned())).collect::<Vec<_>>(), expected_revenue(&[0]));
    assert_eq!(w.report(&w.owners[1], "revenue", RANGE).await["tables"], revenue["tables"]);
    let outsider = w.report(&w.outsider, "revenue", RANGE).await;
    assert_eq!(outsider["summary"]["won_deals"], 1, "the other workspace sees its own deal only");
    // Filters: one owner; by quarter.
    let only = w.report(&w.admin, "revenue", &format!("{RANGE}&owner_id={}", w.owners[0].id)).await;
    assert_eq!(only["tables"], team["tables"]);
    let quarters = w.report(&w.admin, "revenue", &format!("{RANGE}&group_by=quarter")).await;
    assert_eq!(column(table(&quarters, "revenue"), "period"), [json!("2026-Q1"), json!("2026-Q2")]);

    // Win rate and lost reasons, from the specs.
    let wr = w.report(&w.admin, "win_rate", RANGE).await;
    for (m, row) in MONTHS.iter().zip(table(&wr, "win_rate")) {
        let closed = |st: &str| SPECS.iter().filter(|s| s.status == st && s.closed.starts_with(m)).count() as i64;
        let (won, lost) = (closed("won"), closed("lost"));
        assert_eq!((row["won_deals"].as_i64().unwrap(), row["lost_deals"].as_i64().unwrap()), (won, lost), "{m}");
        let rate = (won + lost > 0).then(|| (Decimal::from(won * 100) / Decimal::from(won + lost)).round_dp(2).normalize().to_string());
        assert_eq!(row["win_rate"].as_str().map(str::to_owned), rate, "{m}");
    }
    let lr = w.report(&w.admin, "lost_reasons", RANGE).await;
    let lost_total = SPECS.iter().filter(|s| s.status == "lost").count() as i64;
    assert_eq!(lr["summary"]["lost_deals"], lost_total);
    let with_deals: Vec<&Value> = table(&lr, "lost_reasons").iter().filter(|r| r["lost_deals"] != 0).collect();
    assert_eq!(with_deals.len(), 2);
    assert!(with_deals.iter().all(|r| r["share"] == "50"), "{with_deals:?}");

    // Sales cycle: median and average days from creation to winning.
    let sc = w.report(&w.admin, "sales_cycle", RANGE).await;
    let mut days: Vec<i64> = SPECS.iter().filter(|s| s.status == "won").map(|s| (noon(s.closed) - noon(s.created)) / 86_400_000).collect();
    days.sort();
    let median = (Decimal::from(days[days.len() / 2 - 1]) + Decimal::from(days[days.len() / 2])) / Decimal::TWO;
    assert_eq!(sc["summary"]["median_days"], json!(median.normalize().to_string()));
    assert_eq!(table(&sc, "sales_cycle")[2]["median_days"], Value::Null, "March won nothing");

    // Leaderboard: by won amount.
    let lb = w.report(&w.admin, "leaderboard", RANGE).await;
    let rows = table(&lb, "leaderboard");
    let amount_of = |o: usize| money(SPECS.iter().filter(|s| s.owner == o && s.status == "won").filter_map(in_base).sum());
    assert_eq!(rows[0]["user_id"], w.owners[0].id);
    assert_eq!((rows[0]["rank"].as_i64(), rows[0]["won_amount"].as_str()), (Some(1), Some(amount_of(0).as_str())));
    assert_eq!(rows[1]["won_amount"], json!(amount_of(1)));
    assert_eq!(rows[0]["win_rate"], "66.67");

    // Customers: company 0 buys in January, February and April; company 1 in February.
    let pf = w.report(&w.admin, "purchase_frequency", RANGE).await;
    let rows = table(&pf, "purchase_frequency");
    assert_eq!(column(rows, "customers"), [1, 2, 0, 1, 0, 0].map(|n| json!(n)));
    assert_eq!(column(rows, "repeat_customers"), [0, 1, 0, 1, 0, 0].map(|n| json!(n)));
    assert_eq!((pf["summary"]["customers"].as_i64(), pf["summary"]["customers_buying_twice_or_more"].as_i64()), (Some(2), Some(1)));
    let churn = w.report(&w.admin, "churn", RANGE).await;
    let rows = table(&churn, "churn");
    assert_eq!(column(rows, "churned"), [0, 0, 2, 0, 1, 0].map(|n| json!(n)));
    assert_eq!(rows[2]["churn_rate"], "100");
    assert_eq!(rows[1]["new_customers"], 1);
    let cohorts = table(&churn, "cohorts");
    assert_eq!((cohorts[0]["customers"].as_i64(), cohorts[0]["month_1"].as_str(), cohorts[0]["month_2"].as_str(), cohorts[0]["month_3"].as_str()), (Some(1), Some("100"), Some("0"), Some("100")));
    assert_eq!(cohorts[5]["month_1"], Value::Null, "a cohort is followed only up to the range's end");

    // CSV and XLSX of the same report.
    let csv = s.get(&w.admin, &format!("/api/v1/reports/revenue?{RANGE}&format=csv")).await;
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = csv.body.as_str().unwrap();
    let mut lines = text.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("period,won_deals,revenue,average_deal"));
    let (n, r) = &expected_revenue(&[0, 1])[0];
    assert_eq!(lines.next().unwrap(), format!("2026-01,{n},{r},{r}"));
    let xlsx = s.http.get(format!("{}/api/v1/reports/churn?{RANGE}&format=xlsx", s.base)).bearer_auth(&w.admin.token).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(xlsx.headers()["content-disposition"].to_str().unwrap().contains("accord-churn-2026-01-01-2026-06-30.xlsx"));
    assert!(xlsx.bytes().await.unwrap().starts_with(b"PK"), "an XLSX file is a zip");
}

/// A won deal without a company counts for its first contact, as the deal's last write left
/// its contacts; one with neither is counted apart.
async fn customers_without_company(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    let (ivan, olga) = (s.contact(&w.admin, json!({"first_name": "Иван"})).await, s.contact(&w.admin, json!({"first_name": "Ольга"})).await);
    let won = w.stage("won");
    let closed = "2026-02-10T12:00:00Z";
    let first = s.post(&w.admin, "/api/v1/deals", json!({"title": "Первая", "stage_id": won, "amount": "100", "closed_at": closed, "contacts": [ivan, olga]})).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = s.post(&w.admin, "/api/v1/deals", json!({"title": "Вторая", "stage_id": won, "amount": "100", "closed_at": closed, "contacts": [olga]})).await;
    let nobody = s.post(&w.admin, "/api/v1/deals", json!({"title": "Ничья", "stage_id": won, "amount": "100", "closed_at": closed})).await;
    assert_eq!((second.status, nobody.status), (StatusCode::CREATED, StatusCode::CREATED));
    let summary = |r: Value| (r["summary"]["customers"].as_i64(), r["summary"]["customers_buying_twice_or_more"].as_i64(), r["summary"]["won_deals_without_customer"].as_i64());
    assert_eq!(summary(w.report(&w.admin, "purchase_frequency", RANGE).await), (Some(2), Some(0), Some(1)), "Иван and Ольга once each");
    // Ольга becomes the first deal's first contact: she has bought twice.
    let r = s.patch(&w.admin, &format!("/api/v1/deals/{}", first.id()), json!({"contacts": [olga, ivan], "version": first.body["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(summary(w.report(&w.admin, "purchase_frequency", RANGE).await), (Some(1), Some(1), Some(1)));
}

async fn report_rules(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    let (open1, open2) = (w.stages[0]["id"].as_i64().unwrap(), w.stages[1]["id"].as_i64().unwrap());
    let p1 = w.stages[1]["probability"].as_i64().unwrap();
    let next_month = {
        let today = chrono::Utc::now().date_naive();
        accord_domain::reports::Grouping::Month.shift(accord_domain::reports::Grouping::Month.start_of(today), 1)
    };
    // A deal moved forward and back keeps what it reached; another waits 40 days in a stage.
    let moved = s.post(&w.owners[0], "/api/v1/deals", json!({"title": "Туда-обратно", "stage_id": open1, "amount": "40000", "expected_close_date": next_month.to_string()})).await;
    let mut version = moved.body["version"].as_i64().unwrap();
    for stage in [w.stages[2]["id"].as_i64().unwrap(), open2] {
        let r = s.post(&w.owners[0], &format!("/api/v1/deals/{}/move", moved.id()), json!({"stage_id": stage, "version": version})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        version = r.body["version"].as_i64().unwrap();
    }
    let waiting = s.post(&w.owners[1], "/api/v1/deals", json!({"title": "Ждёт", "stage_id": open2, "amount": "60000", "probability": 50, "expected_close_date": next_month.to_string()})).await;
    let forty_days_ago = accord_storage::now_ms() - 40 * 86_400_000;
    hooks::replace_stage_history(&s.db, w.ws, waiting.id(), w.pipeline, &[(open2, forty_days_ago)]).await.unwrap();

    let funnel = w.report(&w.admin, "funnel", "aging_days=30").await;
    let rows = table(&funnel, "funnel");
    assert_eq!(column(rows, "reached")[..3], [json!(2), json!(2), json!(1)], "{rows:?}");
    assert_eq!(column(rows, "entered")[..3], [json!(1), json!(2), json!(1)]);
    assert_eq!((rows[1]["open_deals"].as_i64(), rows[1]["aging_deals"].as_i64()), (Some(2), Some(1)));
    assert_eq!(rows[0]["conversion_to_next"], "100");
    assert_eq!(rows[1]["conversion_to_next"], "50");
    assert_eq!(rows[2]["median_days"], "0", "the moved deal's stay in the third stage ended at once");
    assert_eq!(funnel["summary"]["created"], 2);
    assert_eq!(s.get(&w.admin, "/api/v1/reports/funnel?pipeline_id[in]=1,2").await.field_errors(), ["pipeline_id[in]"]);
    assert_eq!(s.get(&w.admin, "/api/v1/reports/funnel?pipeline_id=999999").await.field_errors(), ["pipeline_id"]);
    assert_eq!(s.get(&w.outsider, &format!("/api/v1/reports/funnel?pipeline_id={}", w.pipeline)).await.field_errors(), ["pipeline_id"], "another workspace's pipeline is unknown");

    // Forecast: next month holds both, weighted by the stage's probability or the deal's own.
    let forecast = w.report(&w.admin, "forecast", "").await;
    let rows = table(&forecast, "forecast");
    assert_eq!(rows.len(), 6);
    let next = &rows[1];
    assert_eq!(next["period"], json!(next_month.format("%Y-%m").to_string()));
    assert_eq!(next["open_deals"], 2);
    assert_eq!(next["open_amount"], "100000.00");
    assert_eq!(next["weighted_amount"], json!(money(dec("40000") * Decimal::from(p1) / Decimal::ONE_HUNDRED + dec("30000"))));
    assert_eq!(rows[0]["open_deals"], 0);
    // The summary the unfiltered forecast reads follows the trash, and agrees with the deals
    // themselves (a filter makes the report sum those).
    let path = format!("/api/v1/deals/{}", moved.id());
    assert_eq!(s.delete(&w.owners[0], &path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(table(&w.report(&w.admin, "forecast", "").await, "forecast")[1]["open_deals"], 1);
    assert_eq!(s.post(&w.owners[0], &format!("{path}/restore"), json!({})).await.status, StatusCode::OK);
    let filtered = w.report(&w.admin, "forecast", &format!("pipeline_id={}", w.pipeline)).await;
    assert_eq!(table(&w.report(&w.admin, "forecast", "").await, "forecast"), table(&filtered, "forecast"));

    // Conversion: three leads from the site (one converted and won), one disqualified expo lead.
    let mut leads = Vec::new();
    for (name, source) in [("Пётр", "site"), ("Иван", "site"), ("Мария", "site"), ("Олег", "expo")] {
        let r = s.post(&w.owners[0], "/api/v1/leads", json!({"name": name, "source": source})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        leads.push(r.body);
    }
    let converted = s.post(&w.owners[0], &format!("/api/v1/leads/{}/convert", leads[0]["id"]), json!({"deal": {"amount": "1000"}})).await;
    assert_eq!(converted.status, StatusCode::OK, "{}", converted.body);
    let deal = s.get(&w.owners[0], &format!("/api/v1/deals/{}", converted.body["deal_id"])).await.body;
    let won = s.post(&w.owners[0], &format!("/api/v1/deals/{}/move", deal["id"]), json!({"stage_id": w.stage("won"), "version": deal["version"]})).await;
    assert_eq!(won.status, StatusCode::OK, "{}", won.body);
    let expo = s.patch(&w.owners[0], &format!("/api/v1/leads/{}", leads[3]["id"]), json!({"status": "disqualified", "disqualify_reason": "спам", "version": leads[3]["version"]})).await;
    assert_eq!(expo.status, StatusCode::OK, "{}", expo.body);
    let conv = w.report(&w.admin, "conversion", "").await;
    let rows = table(&conv, "conversion");
    let by: BTreeMap<String, &Value> = rows.iter().map(|r| (r["source"].as_str().unwrap_or("").to_owned(), r)).collect();
    assert_eq!([by["site"]["leads"].clone(), by["site"]["qualified"].clone(), by["site"]["deals"].clone(), by["site"]["won"].clone()], [json!(3), json!(1), json!(1), json!(1)]);
    assert_eq!((by["expo"]["leads"].as_i64(), by["expo"]["disqualified"].as_i64()), (Some(1), Some(1)));
    assert_eq!(conv["summary"]["lead_to_won_rate"], "25");
    assert_eq!(conv["ignored_filters"], json!([]));
    let per_period = w.report(&w.admin, "conversion", "by=period&group_by=month").await;
    assert_eq!(table(&per_period, "conversion").len(), 12);
    assert_eq!(per_period["summary"]["leads"], 4);

    // Activity: a call and a finished task today, a task overdue since yesterday.
    let u = &w.owners[0];
    assert_eq!(s.post(u, "/api/v1/activities", json!({"kind": "call", "direction": "outbound", "body": "Позвонил"})).await.status, StatusCode::CREATED);
    let task = s.post(u, "/api/v1/tasks", json!({"title": "Счёт", "due_at": (chrono::Utc::now() + chrono::TimeDelta::hours(3)).to_rfc3339()})).await;
    assert_eq!(s.patch(u, &format!("/api/v1/tasks/{}", task.id()), json!({"status": "done", "version": task.body["version"]})).await.status, StatusCode::OK);
    assert_eq!(s.post(u, "/api/v1/tasks", json!({"title": "Просрочено", "due_at": (chrono::Utc::now() - chrono::TimeDelta::days(1)).to_rfc3339()})).await.status, StatusCode::CREATED);
    let act = w.report(&w.admin, "activity", "pipeline_id=1&source=x").await;
    let row = table(&act, "activity").iter().find(|r| r["user_id"] == u.id).unwrap().clone();
    assert_eq!([row["calls"].clone(), row["tasks_done"].clone(), row["tasks_overdue"].clone(), row["meetings"].clone()], [json!(1), json!(1), json!(1), json!(0)]);
    assert_eq!(act["ignored_filters"], json!(["pipeline_id", "source"]));

    // Bad input is named; unknown reports are 404.
    assert_eq!(s.get(&w.admin, "/api/v1/reports/profit").await.status, StatusCode::NOT_FOUND);
    let bad = s.get(&w.admin, "/api/v1/reports/revenue?from=2026-02-30&group_by=year&format=pdf&colour=red").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_errors(), ["from", "group_by", "colour"]);
    assert_eq!(s.get(&w.admin, "/api/v1/reports/revenue?format=pdf").await.field_errors(), ["format"]);
    assert_eq!(s.get(&w.admin, "/api/v1/reports/revenue?from=2020-01-01&group_by=day").await.field_errors(), ["group_by"]);
    assert_eq!(s.get(&w.admin, "/api/v1/reports/churn?format=csv&table=nope").await.field_errors(), ["table"]);
    assert_eq!(s.call(None, reqwest::Method::GET, "/api/v1/reports/revenue", None).await.status, StatusCode::UNAUTHORIZED);
}

/// A line of a won deal as the products report should count it.
struct Sold {
    deal: usize,
    name: &'static str,
    quantity: i64,
    price: i64,
}

/// The products report follows each write of a deal's lines (edits, the trash, restores,
/// reopening), converts at the rate of the winning day, and applies visibility and filters.
async fn products_follow_lines(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    for (rate, from) in [("90", "2025-01-01"), ("100", "2026-03-01")] {
        assert_eq!(s.post(&w.admin, "/api/v1/exchange_rates", json!({"currency": "USD", "rate": rate, "valid_from": from})).await.status, StatusCode::CREATED);
    }
    let rate = |closed: &str| if closed < "2026-03-01" { 90 } else { 100 };
    // (owner, currency, closed, tag)
    let deals = [(0, "RUB", "2026-01-20", "vip"), (1, "USD", "2026-02-20", "опт"), (1, "USD", "2026-04-10", "опт")];
    let mut lines = vec![Sold { deal: 0, name: "Стол", quantity: 2, price: 1000 }, Sold { deal: 0, name: "Доставка", quantity: 1, price: 500 }, Sold { deal: 1, name: "Стол", quantity: 1, price: 10 }, Sold { deal: 2, name: "Стол", quantity: 3, price: 10 }];
    let items = |lines: &[Sold], d: usize| -> Value { lines.iter().filter(|l| l.deal == d).map(|l| json!({"name": l.name, "quantity": l.quantity.to_string(), "price": l.price.to_string(), "vat_rate": "none"})).collect() };
    let mut ids = Vec::new();
    for (i, (owner, currency, closed, tag)) in deals.iter().enumerate() {
        let body = json!({"title": format!("Продажа {i}"), "owner_id": w.owners[*owner].id, "stage_id": w.stage("won"), "currency": currency, "tags": [tag],
            "closed_at": format!("{closed}T12:00:00Z"), "items": items(&lines, i)});
        let r = s.post(&w.admin, "/api/v1/deals", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push((r.id(), r.body["version"].as_i64().unwrap()));
    }
    // Won without lines, and open with lines: neither is in the table.
    let typed = s.post(&w.admin, "/api/v1/deals", json!({"title": "Без строк", "owner_id": w.owners[0].id, "stage_id": w.stage("won"), "amount": "777", "closed_at": "2026-01-25T12:00:00Z"})).await;
    assert_eq!(typed.status, StatusCode::CREATED, "{}", typed.body);
    let open = s.post(&w.admin, "/api/v1/deals", json!({"title": "Открыта", "stage_id": w.stages[0]["id"], "items": [{"name": "Стол", "quantity": "50", "price": "1000"}]})).await;
    assert_eq!(open.status, StatusCode::CREATED, "{}", open.body);

    // name → (quantity, revenue in RUB, deals), from the lines of the deals a caller sees.
    let expected = |lines: &[Sold], visible: &[usize]| -> BTreeMap<String, (String, String, i64)> {
        let mut m: BTreeMap<String, (i64, i64, Vec<usize>)> = BTreeMap::new();
        for l in lines.iter().filter(|l| visible.contains(&l.deal)) {
            let (_, currency, closed, _) = deals[l.deal];
            let e = m.entry(l.name.to_owned()).or_default();
            e.0 += l.quantity;
            e.1 += l.quantity * l.price * if currency == "USD" { rate(closed) } else { 1 };
            if !e.2.contains(&l.deal) {
                e.2.push(l.deal);
            }
        }
        m.into_iter().map(|(k, (q, r, d))| (k, (q.to_string(), money(Decimal::from(r)), d.len() as i64))).collect()
    };
    let got = |report: &Value| -> BTreeMap<String, (String, String, i64)> {
        table(report, "products").iter().map(|r| (r["product"].as_str().unwrap().to_owned(), (r["quantity"].as_str().unwrap().to_owned(), r["revenue"].as_str().unwrap().to_owned(), r["won_deals"].as_i64().unwrap()))).collect()
    };
    let all = w.report(&w.admin, "products", RANGE).await;
    assert_eq!(got(&all), expected(&lines, &[0, 1, 2]));
    assert_eq!(all["summary"]["won_deals_without_lines"], 1);
    // The manager's team is owner 0; a tag filter selects deals by a field lines do not carry.
    let team = w.report(&w.manager, "products", RANGE).await;
    assert_eq!(got(&team), expected(&lines, &[0]));
    assert_eq!(team["summary"]["won_deals_without_lines"], 1);
    let tagged = w.report(&w.admin, "products", &format!("{RANGE}&tag=опт")).await;
    assert_eq!(got(&tagged), expected(&lines, &[1, 2]));
    assert_eq!(tagged["summary"]["won_deals_without_lines"], 0);

    // Edited lines replace the old ones.
    lines.retain(|l| l.deal != 0);
    lines.push(Sold { deal: 0, name: "Стол", quantity: 5, price: 1000 });
    let (first, version) = ids[0];
    let r = s.patch(&w.admin, &format!("/api/v1/deals/{first}"), json!({"items": items(&lines, 0), "version": version})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(got(&w.report(&w.admin, "products", RANGE).await), expected(&lines, &[0, 1, 2]));
    // The trash takes a deal's lines out, a restore brings them back.
    let (last, _) = ids[2];
    assert_eq!(s.delete(&w.admin, &format!("/api/v1/deals/{last}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(got(&w.report(&w.admin, "products", RANGE).await), expected(&lines, &[0, 1]));
    assert_eq!(s.post(&w.admin, &format!("/api/v1/deals/{last}/restore"), json!({})).await.status, StatusCode::OK);
    assert_eq!(got(&w.report(&w.admin, "products", RANGE).await), expected(&lines, &[0, 1, 2]));
    // Reopened, a deal is no longer won.
    let current = s.get(&w.admin, &format!("/api/v1/deals/{first}")).await.body;
    let r = s.post(&w.admin, &format!("/api/v1/deals/{first}/move"), json!({"stage_id": w.stages[0]["id"], "version": current["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(got(&w.report(&w.admin, "products", RANGE).await), expected(&lines, &[1, 2]));
}

/// The activity report counts from counters kept by each write of an activity (per UTC
/// day, and per hour at the range's edges); in a time zone whose midnight is not a whole
/// UTC hour it counts the activities themselves. Both give what the instants say.
/// The funnel read from its counters equals the funnel counted from the deals (a filter
/// that keeps every deal makes the report count them), for everyone, a team and one owner,
/// after every kind of write: moves
/// back and forth, a new owner, the trash and back, reordered stages, a backdated creation
/// and a replaced history.
async fn funnel_counts_follow_writes(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    let open: Vec<i64> = w.stages.iter().filter(|st| st["kind"] == "open").map(|st| st["id"].as_i64().unwrap()).collect();
    // No deal has this source: the filter keeps them all but makes the report count deals.
    let everyone = "source[ne]=nowhere";
    let check = |step: &'static str| {
        let w = &w;
        async move {
            let mine = format!("owner_id={}", w.owners[0].id);
            for (u, filter) in [(&w.admin, "aging_days=30"), (&w.manager, "aging_days=30"), (&w.admin, mine.as_str())] {
                let counted = w.report(u, "funnel", filter).await;
                let from_deals = w.report(u, "funnel", &format!("{filter}&{everyone}")).await;
                assert_eq!(counted["tables"], from_deals["tables"], "{step}, user {}, {filter}", u.id);
                assert_eq!(counted["summary"], from_deals["summary"], "{step}, user {}, {filter}", u.id);
            }
            w.report(&w.admin, "funnel", "aging_days=30").await
        }
    };
    let deal = |owner: usize, stage: i64| {
        let w = &w;
        async move {
            let r = s.post(&w.admin, "/api/v1/deals", json!({"title": "Воронка", "owner_id": w.owners[owner].id, "stage_id": stage, "amount": "1000"})).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            (r.id(), r.body["version"].as_i64().unwrap())
        }
    };
    let (first, mut version) = deal(0, open[0]).await;
    let (second, second_version) = deal(1, open[1]).await;
    let (third, _) = deal(0, w.stage("won")).await;
    check("created").await;

    // Forth, back and forth again: the first deal entered each of the two stages twice.
    for stage in [open[1], open[0], open[1]] {
        let r = s.post(&w.admin, &format!("/api/v1/deals/{first}/move"), json!({"stage_id": stage, "version": version})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        version = r.body["version"].as_i64().unwrap();
    }
    let funnel = check("moved").await;
    let rows = table(&funnel, "funnel");
    assert_eq!(column(rows, "entered")[..2], [json!(1), json!(2)], "a deal counts once per stage: {rows:?}");
    assert_eq!(column(rows, "open_deals")[..2], [json!(0), json!(2)]);

    let r = s.patch(&w.admin, &format!("/api/v1/deals/{second}"), json!({"owner_id": w.owners[0].id, "version": second_version})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("new owner").await;

    assert_eq!(s.delete(&w.admin, &format!("/api/v1/deals/{third}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(check("trashed").await["summary"]["created"], 2);
    assert_eq!(s.post(&w.admin, &format!("/api/v1/deals/{third}/restore"), json!({})).await.status, StatusCode::OK);
    assert_eq!(check("restored").await["summary"]["created"], 3);

    // The second open stage goes first: the first deal's farthest stage is now the first.
    let pipeline = s.get(&w.admin, &format!("/api/v1/pipelines/{}", w.pipeline)).await.body;
    let mut stages: Vec<Value> = pipeline["stages"].as_array().unwrap().iter().map(|x| json!({"id": x["id"], "names": x["names"], "kind": x["kind"], "probability": x["probability"]})).collect();
    stages.swap(0, 1);
    let r = s.patch(&w.admin, &format!("/api/v1/pipelines/{}", w.pipeline), json!({"version": pipeline["version"], "stages": stages})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("reordered").await;

    // Created and in its stage since 40 days ago: out of a range of the last week, aging.
    let forty_days_ago = accord_storage::now_ms() - 40 * 86_400_000;
    records::backdate(&s.db, Entity::Deal, &[(second, forty_days_ago)]).await.unwrap();
    hooks::replace_stage_history(&s.db, w.ws, second, w.pipeline, &[(open[0], forty_days_ago - 86_400_000), (open[1], forty_days_ago)]).await.unwrap();
    let funnel = check("backdated").await;
    assert_eq!(table(&funnel, "funnel")[0]["aging_deals"], 1, "{funnel}");
    let week_ago = (chrono::Utc::now() - chrono::Duration::days(7)).date_naive();
    let recent = w.report(&w.admin, "funnel", &format!("from={week_ago}")).await;
    assert_eq!(recent["summary"]["created"], 2);
    assert_eq!(recent["tables"], w.report(&w.admin, "funnel", &format!("from={week_ago}&{everyone}")).await["tables"]);
}

async fn activity_counts_follow_writes(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    let range = "from=2026-03-01&to=2026-03-31";
    // (owner, kind, done at): the range's first and last instants in Moscow, just outside
    // them, the middle, and just outside the range in Kolkata (UTC+5:30).
    let mut acts = vec![
        (0, "call", "2026-02-28T21:00:00Z"),
        (0, "call", "2026-02-28T20:59:59Z"),
        (0, "note", "2026-03-15T10:00:00Z"),
        (1, "email", "2026-03-31T20:59:59Z"),
        (1, "call", "2026-03-31T21:00:00Z"),
        (1, "email", "2026-02-28T18:29:59Z"),
    ];
    let mut ids = Vec::new();
    for (owner, kind, at) in &acts {
        let r = s.post(&w.admin, "/api/v1/activities", json!({"kind": kind, "owner_id": w.owners[*owner].id, "body": "Итоги", "done_at": at})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.id());
    }
    let ms = |at: &str| chrono::DateTime::parse_from_rfc3339(at).unwrap().timestamp_millis();
    // user id → [calls, meetings, emails, notes] of the activities in [from, to).
    let expected = |acts: &[(usize, &str, &str)], from: &str, to: &str| -> BTreeMap<i64, [i64; 4]> {
        let mut m: BTreeMap<i64, [i64; 4]> = BTreeMap::new();
        for (owner, kind, _) in acts.iter().filter(|(_, _, at)| ms(at) >= ms(from) && ms(at) < ms(to)) {
            m.entry(w.owners[*owner].id).or_default()[["call", "meeting", "email", "note"].iter().position(|k| k == kind).unwrap()] += 1;
        }
        m
    };
    let got = |report: &Value| -> BTreeMap<i64, [i64; 4]> {
        table(report, "activity")
            .iter()
            .map(|r| (r["user_id"].as_i64().unwrap(), ["calls", "meetings", "emails", "notes"].map(|k| r[k].as_i64().unwrap())))
            .filter(|(_, c)| c.iter().any(|n| *n > 0))
            .collect()
    };
    let moscow = ("2026-02-28T21:00:00Z", "2026-03-31T21:00:00Z");
    let check = |acts: Vec<(usize, &'static str, &'static str)>| {
        let w = &w;
        async move {
            assert_eq!(got(&w.report(&w.admin, "activity", range).await), expected(&acts, moscow.0, moscow.1), "Moscow");
            // The manager's team is owner 0.
            let team: BTreeMap<i64, [i64; 4]> = expected(&acts, moscow.0, moscow.1).into_iter().filter(|(id, _)| *id == w.owners[0].id).collect();
            assert_eq!(got(&w.report(&w.manager, "activity", range).await), team.clone(), "team");
            assert_eq!(got(&w.report(&w.admin, "activity", &format!("{range}&owner_id={}", w.owners[0].id)).await), team, "one owner");
        }
    };
    check(acts.clone()).await;
    let r = s.patch(&w.admin, "/api/v1/me", json!({"time_zone": "Asia/Kolkata"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(got(&w.report(&w.admin, "activity", range).await), expected(&acts, "2026-02-28T18:30:00Z", "2026-03-31T18:30:00Z"), "Kolkata");
    assert_eq!(s.patch(&w.admin, "/api/v1/me", json!({"time_zone": "Europe/Moscow"})).await.status, StatusCode::OK);

    // The trash, a restore, another owner, another time: each moves the counts.
    assert_eq!(s.delete(&w.admin, &format!("/api/v1/activities/{}", ids[2])).await.status, StatusCode::NO_CONTENT);
    let without: Vec<_> = acts.iter().enumerate().filter(|(i, _)| *i != 2).map(|(_, a)| *a).collect();
    check(without).await;
    assert_eq!(s.post(&w.admin, &format!("/api/v1/activities/{}/restore", ids[2]), json!({})).await.status, StatusCode::OK);
    check(acts.clone()).await;
    let first = s.get(&w.admin, &format!("/api/v1/activities/{}", ids[0])).await.body;
    let r = s.patch(&w.admin, &format!("/api/v1/activities/{}", ids[0]), json!({"owner_id": w.owners[1].id, "version": first["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    acts[0].0 = 1;
    check(acts.clone()).await;
    let r = s.patch(&w.admin, &format!("/api/v1/activities/{}", ids[0]), json!({"done_at": "2026-02-01T12:00:00Z", "version": r.body["version"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    acts[0].2 = "2026-02-01T12:00:00Z";
    check(acts.clone()).await;
}

async fn goals_progress(engine: Engine) {
    let w = world(engine).await;
    let s = &w.s;
    w.deals().await;
    let owner = &w.owners[0];
    let goal = s.post(&w.admin, "/api/v1/goals", json!({"metric": "won_amount", "period": "quarter", "period_start": "2026-01-01", "user_id": owner.id, "target": "300000"})).await;
    assert_eq!(goal.status, StatusCode::CREATED, "{}", goal.body);
    let q1: Decimal = SPECS.iter().filter(|x| x.owner == 0 && x.status == "won" && x.closed < "2026-04").filter_map(in_base).sum();
    assert_eq!(goal.body["actual"], json!(money(q1)));
    assert_eq!(goal.body["percent"], json!((q1 * Decimal::ONE_HUNDRED / dec("300000")).round_dp(2).normalize().to_string()));
    assert_eq!(goal.body["period_end"], "2026-03-31");
    let teams = s.get(&w.admin, "/api/v1/teams").await.body;
    let team = teams.as_array().unwrap()[0]["id"].as_i64().unwrap();
    let team_goal = s.post(&w.admin, "/api/v1/goals", json!({"metric": "won_deals", "period": "month", "period_start": "2026-01-01", "team_id": team, "target": "4"})).await;
    let january = SPECS.iter().filter(|x| x.owner == 0 && x.status == "won" && x.closed.starts_with("2026-01")).count();
    assert_eq!((team_goal.body["actual"].as_str(), team_goal.body["percent"].as_str()), (Some(january.to_string().as_str()), Some("25")), "{}", team_goal.body);

    // Calls this month: one done call counts.
    let month = accord_domain::reports::Grouping::Month.start_of(chrono::Utc::now().date_naive());
    let calls = s.post(&w.admin, "/api/v1/goals", json!({"metric": "calls", "period": "month", "period_start": month.to_string(), "user_id": owner.id, "target": "20"})).await;
    assert_eq!(calls.body["actual"], "0");
    assert_eq!(s.post(owner, "/api/v1/activities", json!({"kind": "call", "direction": "inbound"})).await.status, StatusCode::CREATED);
    let now = s.get(owner, "/api/v1/goals").await.body;
    let mine = now.as_array().unwrap().iter().find(|g| g["id"] == calls.body["id"]).unwrap();
    assert_eq!((mine["actual"].as_str(), mine["percent"].as_str()), (Some("1"), Some("5")));
    assert_eq!(now.as_array().unwrap().len(), 1, "today's goals only by default");
    let q1_goals = s.get(owner, "/api/v1/goals?from=2026-01-01&to=2026-03-31").await.body;
    assert_eq!(q1_goals.as_array().unwrap().len(), 2);

    // Only admins set goals; bad input is named; one goal per owner, metric and period.
    assert_eq!(s.post(owner, "/api/v1/goals", json!({"metric": "calls", "period": "month", "period_start": "2026-01-01", "user_id": owner.id, "target": "1"})).await.status, StatusCode::FORBIDDEN);
    let bad = s.post(&w.admin, "/api/v1/goals", json!({"metric": "profit", "period": "month", "period_start": "2026-01-15", "user_id": owner.id, "target": "0"})).await;
    assert_eq!(bad.field_errors(), ["metric", "period_start", "target"]);
    assert_eq!(s.post(&w.admin, "/api/v1/goals", json!({"metric": "calls", "period": "month", "period_start": "2026-01-01", "user_id": w.outsider.id, "target": "1"})).await.field_errors(), ["user_id"]);
    assert_eq!(s.post(&w.admin, "/api/v1/goals", json!({"metric": "won_amount", "period": "quarter", "period_start": "2026-01-01", "user_id": owner.id, "target": "5"})).await.field_errors(), ["period_start"]);
    assert_eq!(s.get(&w.admin, "/api/v1/goals?from=2026-13-01").await.field_errors(), ["from"]);

    // Versioned changes; another workspace cannot touch it.
    let id = goal.body["id"].as_i64().unwrap();
    let changed = s.patch(&w.admin, &format!("/api/v1/goals/{id}"), json!({"version": 1, "target": "150000"})).await;
    assert_eq!((changed.status, changed.body["percent"].as_str()), (StatusCode::OK, Some("100")));
    assert_eq!(s.patch(&w.admin, &format!("/api/v1/goals/{id}"), json!({"version": 1, "target": "1"})).await.status, StatusCode::CONFLICT);
    assert_eq!(s.patch(&w.outsider, &format!("/api/v1/goals/{id}"), json!({"version": 2, "target": "1"})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&w.outsider, &format!("/api/v1/goals/{id}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&w.admin, &format!("/api/v1/goals/{id}")).await.status, StatusCode::NO_CONTENT);
    let audit = s.get(&w.admin, "/api/v1/audit").await;
    assert!(audit.body.to_string().contains("goal"), "goal changes are audited: {}", audit.body);
}
