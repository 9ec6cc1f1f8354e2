//! The reports on data nobody on the team wrote: Maven Analytics' CRM sample (8,800
//! opportunities, Oct 2016 – Dec 2017) loaded through the validated bulk path, and every
//! checked figure recomputed here straight from the CSV files.
//!
//! The loader resolves the dataset's known flaws as a user importing it would: product
//! names that differ from the catalogue ("GTXPro" for "GTX Pro") match by their letters and
//! digits only; rows without an account get no company; rows without dates stay undated
//! (open deals, created now); lost deals, which carry no reason, get the first reason that
//! needs no comment.
use crate::both_engines;
use crate::harness::{Engine, start};
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_storage::{accounts, records};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};

both_engines!(maven_dataset);

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata/crm-dataset-maven");

fn read(name: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(format!("{DIR}/{name}")).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records().map(|row| headers.iter().zip(row.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect()).collect()
}

/// Letters and digits, lower-cased: how "GTXPro" finds "GTX Pro".
fn key(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn money(d: Decimal) -> Value {
    json!(format!("{d:.2}"))
}

fn day_ms(day: &str) -> i64 {
    // Noon in Moscow, the users' time zone.
    chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap().and_hms_opt(9, 0, 0).unwrap().and_utc().timestamp_millis()
}

async fn maven_dataset(engine: Engine) {
    if !std::path::Path::new(DIR).exists() {
        println!("SKIP maven dataset: {DIR} is absent");
        return;
    }
    let s = start(engine).await;
    let ws = s.workspace("Maven").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    assert_eq!(s.patch(&admin, "/api/v1/workspace", json!({"base_currency": "USD"})).await.status, StatusCode::OK);
    let pipelines = s.get(&admin, "/api/v1/pipelines").await.body;
    let stages = pipelines[0]["stages"].as_array().unwrap().clone();
    let stage = |kind: &str, nth: usize| stages.iter().filter(|s| s["kind"] == kind).nth(nth).unwrap()["id"].clone();
    let reason = s.get(&admin, "/api/v1/lost_reasons").await.body.as_array().unwrap().iter().find(|r| r["requires_comment"] == false).unwrap()["id"].clone();

    let deals = read("sales_pipeline.csv");
    let agents: BTreeSet<String> = deals.iter().map(|d| d["sales_agent"].clone()).collect();
    let mut agent_ids = BTreeMap::new();
    for name in &agents {
        let email = format!("{}@maven.example.com", key(name));
        let id = accounts::create_user(&s.db, &email, name, "correct horse battery").await.unwrap();
        accounts::add_member(&s.db, ws, id, Role::Member).await.unwrap();
        agent_ids.insert(name.clone(), id);
    }
    let mut companies = BTreeMap::new();
    for a in read("accounts.csv") {
        companies.insert(a["account"].clone(), s.company(&admin, json!({"name": a["account"]})).await);
    }
    let mut products = BTreeMap::new();
    for p in read("products.csv") {
        let r = s.post(&admin, "/api/v1/products", json!({"name": p["product"], "sku": p["product"], "price": p["sales_price"], "currency": "USD", "vat_rate": "none"})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        products.insert(key(&p["product"]), (r.id(), p["product"].clone(), p["sales_price"].clone()));
    }

    // The opportunities, in one validated, audited bulk write.
    let inputs: Vec<Map<String, Value>> = deals
        .iter()
        .map(|d| {
            let (_, product, price) = &products[&key(&d["product"])];
            let mut m = json!({"title": d["opportunity_id"], "owner_id": agent_ids[&d["sales_agent"]], "currency": "USD", "vat_included": true}).as_object().unwrap().clone();
            if let Some(c) = companies.get(&d["account"]) {
                m.insert("company_id".into(), json!(c));
            }
            let (stage_id, line_price) = match d["deal_stage"].as_str() {
                "Won" => (stage("won", 0), d["close_value"].clone()),
                "Lost" => (stage("lost", 0), price.clone()),
                "Engaging" => (stage("open", 1), price.clone()),
                _ => (stage("open", 0), price.clone()),
            };
            m.insert("stage_id".into(), stage_id);
            // The bulk path takes lines as written (it does not look products up), so the line
            // carries the catalogue's name and article.
            m.insert("items".into(), json!([{"name": product, "sku": product, "unit": "pcs", "quantity": "1", "price": line_price, "vat_rate": "none"}]));
            if d["deal_stage"] == "Lost" {
                m.insert("lost_reason_id".into(), reason.clone());
            }
            if !d["close_date"].is_empty() {
                m.insert("closed_at".into(), json!(format!("{}T12:00", d["close_date"])));
            }
            m
        })
        .collect();
    let p = accounts::principal_for(&s.db, ws, admin.id).await.unwrap();
    let ids = records::create_many(&s.db, &p, Entity::Deal, &inputs, &[], "import").await.unwrap_or_else(|e| panic!("{}", format!("{e:?}").chars().take(500).collect::<String>()));
    let engaged: Vec<(i64, i64)> = ids.iter().zip(&deals).filter(|(_, d)| !d["engage_date"].is_empty()).map(|(id, d)| (*id, day_ms(&d["engage_date"]))).collect();
    records::backdate(&s.db, Entity::Deal, &engaged).await.unwrap();

    let range = "from=2016-10-01&to=2017-12-31";
    let report = |name: &str, extra: &str| {
        let (s, admin) = (&s, &admin);
        let url = format!("/api/v1/reports/{name}?{range}{extra}");
        async move {
            let r = s.get(admin, &url).await;
            assert_eq!(r.status, StatusCode::OK, "{url}: {}", r.body);
            r.body
        }
    };
    let won: Vec<&BTreeMap<String, String>> = deals.iter().filter(|d| d["deal_stage"] == "Won").collect();
    let lost: Vec<&BTreeMap<String, String>> = deals.iter().filter(|d| d["deal_stage"] == "Lost").collect();

    // Revenue per month: Won close values by close-date month.
    let revenue = report("revenue", "").await;
    let mut expected: BTreeMap<String, (i64, Decimal)> = BTreeMap::new();
    for d in &won {
        let e = expected.entry(d["close_date"][..7].to_owned()).or_default();
        e.0 += 1;
        e.1 += dec(&d["close_value"]);
    }
    for row in revenue["tables"][0]["rows"].as_array().unwrap() {
        let (n, amount) = expected.get(row["period"].as_str().unwrap()).copied().unwrap_or_default();
        assert_eq!((row["won_deals"].as_i64().unwrap(), row["revenue"].clone()), (n, money(amount)), "{}", row["period"]);
    }
    assert_eq!(revenue["summary"]["won_deals"], won.len());
    assert_eq!(revenue["summary"]["revenue"], money(won.iter().map(|d| dec(&d["close_value"])).sum()));
    assert_eq!(revenue["unconverted"], json!([]));

    // Win rate over the whole range.
    let wr = report("win_rate", "&group_by=quarter").await;
    assert_eq!((wr["summary"]["won_deals"].as_u64(), wr["summary"]["lost_deals"].as_u64()), (Some(won.len() as u64), Some(lost.len() as u64)));
    let rate = Decimal::from(won.len() as u64 * 100) / Decimal::from((won.len() + lost.len()) as u64);
    assert_eq!(wr["summary"]["win_rate"], json!(rate.round_dp(2).normalize().to_string()));

    // Leaderboard: won amount per agent, best first.
    let lb = report("leaderboard", "").await;
    let mut per_agent: BTreeMap<&str, Decimal> = BTreeMap::new();
    for d in &won {
        *per_agent.entry(d["sales_agent"].as_str()).or_default() += dec(&d["close_value"]);
    }
    let mut ranking: Vec<(&str, Decimal)> = per_agent.into_iter().collect();
    ranking.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (row, (agent, amount)) in lb["tables"][0]["rows"].as_array().unwrap().iter().zip(&ranking).take(5) {
        assert_eq!((row["user"].as_str(), row["won_amount"].clone()), (Some(*agent), money(*amount)));
    }

    // Products: revenue per catalogue product, names reconciled.
    let pr = report("products", "&limit=100").await;
    let mut per_product: BTreeMap<String, Decimal> = BTreeMap::new();
    for d in &won {
        *per_product.entry(products[&key(&d["product"])].1.clone()).or_default() += dec(&d["close_value"]);
    }
    let got: BTreeMap<String, Value> = pr["tables"][0]["rows"].as_array().unwrap().iter().map(|r| (r["product"].as_str().unwrap().to_owned(), r["revenue"].clone())).collect();
    assert_eq!(got, per_product.iter().map(|(k, v)| (k.clone(), money(*v))).collect::<BTreeMap<_, _>>());

    // Sales cycle: median days from engagement to winning.
    let sc = report("sales_cycle", "").await;
    let mut days: Vec<i64> = won.iter().map(|d| (day_ms(&d["close_date"]) - day_ms(&d["engage_date"])) / 86_400_000).collect();
    days.sort();
    let n = days.len();
    let median = if n % 2 == 1 { Decimal::from(days[n / 2]) } else { (Decimal::from(days[n / 2 - 1]) + Decimal::from(days[n / 2])) / Decimal::TWO };
    assert_eq!(sc["summary"]["median_days"], json!(median.normalize().to_string()));

    // Customers: distinct accounts buying, and those buying twice or more.
    let pf = report("purchase_frequency", "").await;
    let mut purchases: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &won {
        *purchases.entry(d["account"].as_str()).or_default() += 1;
    }
    assert_eq!(pf["summary"]["customers"], purchases.len());
    assert_eq!(pf["summary"]["customers_buying_twice_or_more"], purchases.values().filter(|&&n| n >= 2).count());
    assert_eq!(pf["summary"]["won_deals_without_customer"], 0);

    // Lost reasons: every lost deal in the range, under the one reason the loader gave.
    let lr = report("lost_reasons", "").await;
    assert_eq!(lr["summary"]["lost_deals"], lost.len());
}
