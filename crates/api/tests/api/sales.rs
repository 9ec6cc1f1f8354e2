//! Sales end to end over HTTP: catalogue, deals with lines and VAT, pipelines, the board,
//! moves, leads from web forms to deals, activities and tasks on timelines, reminders,
//! notifications and calendar feeds — on both engines, with roles and another workspace.
use crate::both_engines;
use crate::harness::{Engine, Server, User, start};
use accord_domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

both_engines!(deal_lines_and_catalogue, price_lists_price_the_lines, pipelines_are_configurable, board_and_moves, web_form_lead_to_deal, activities_tasks_and_reminders, calendar_feed, sales_visibility);

async fn setup(engine: Engine) -> (Server, User, User) {
    let s = start(engine).await;
    let ws = s.workspace("Продажи").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let member = s.user(ws, Role::Member, "member").await;
    (s, admin, member)
}

async fn stages(s: &Server, u: &User) -> (i64, Vec<Value>) {
    let r = s.get(u, "/api/v1/pipelines").await;
    assert_eq!(r.status, StatusCode::OK);
    let p = &r.body[0];
    (p["id"].as_i64().unwrap(), p["stages"].as_array().unwrap().clone())
}

fn stage_of(stages: &[Value], kind: &str) -> i64 {
    stages.iter().find(|s| s["kind"] == kind).unwrap()["id"].as_i64().unwrap()
}

/// The board's kept totals agree with the deals themselves (a filter makes the board count
/// the deals instead of reading `deal_totals`).
async fn totals_agree(s: &Server, u: &User, pipeline_id: i64) {
    let columns = |b: Value| b["columns"].as_array().unwrap().iter().map(|c| (c["stage"]["id"].clone(), c["count"].clone(), c["total"].clone(), c["unconverted"].clone())).collect::<Vec<_>>();
    let kept = s.get(u, &format!("/api/v1/pipelines/{pipeline_id}/board?limit=1")).await;
    let counted = s.get(u, &format!("/api/v1/pipelines/{pipeline_id}/board?limit=1&id[gte]=1")).await;
    assert_eq!(columns(kept.body), columns(counted.body));
}

async fn deal(s: &Server, u: &User, body: Value) -> Value {
    let r = s.post(u, "/api/v1/deals", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn deal_lines_and_catalogue(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let product = s.post(&admin, "/api/v1/products", json!({"name": "Стол офисный", "sku": "ST-1", "price": "12200", "vat_rate": "22", "unit": "pcs"})).await;
    assert_eq!(product.status, StatusCode::CREATED, "{}", product.body);
    let dup = s.post(&admin, "/api/v1/products", json!({"name": "Другой стол", "sku": "st-1"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "an article is unique: {}", dup.body);
    let bad_vat = s.post(&admin, "/api/v1/products", json!({"name": "X", "vat_rate": "18"})).await;
    assert_eq!(bad_vat.field_errors(), vec!["vat_rate"]);
    // VAT rates are the workspace's: a simplified-tax seller adds 5 %.
    let ws = s.get(&admin, "/api/v1/workspace").await.body;
    assert_eq!(ws["vat_rates"], json!(["22", "20", "10", "0", "none"]));
    let bad = s.patch(&admin, "/api/v1/workspace", json!({"vat_rates": ["22", "abc", "22"]})).await;
    assert_eq!(bad.field_errors(), vec!["vat_rates[1]", "vat_rates[2]"]);
    assert_eq!(s.patch(&member, "/api/v1/workspace", json!({"vat_rates": ["5"]})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.patch(&admin, "/api/v1/workspace", json!({"vat_rates": ["none", "22", "5"]})).await.status, StatusCode::OK);
    let simplified = s.post(&admin, "/api/v1/products", json!({"name": "Услуга УСН", "price": "105", "vat_rate": "5", "kind": "service"})).await;
    assert_eq!((simplified.status, simplified.body["unit"].as_str()), (StatusCode::CREATED, Some("service")));
    assert_eq!(s.post(&admin, "/api/v1/products", json!({"name": "Без ставки"})).await.body["vat_rate"], "none", "the first rate is the default");

    // A line from the catalogue takes its name, unit, VAT and price; VAT is inside the price.
    let d = deal(&s, &member, json!({"title": "Мебель", "items": [
        {"product_id": product.id(), "quantity": "3", "discount_percent": "10"},
        {"name": "Доставка", "quantity": 1, "price": "1500.50", "vat_rate": "none", "unit": "service"}]})).await;
    assert_eq!(d["amount"], "34440.50");
    assert_eq!(d["vat_amount"], "5940.00");
    assert_eq!(d["items"][0]["name"], "Стол офисный");
    assert_eq!(d["items"][0]["total"], "32940.00");
    assert_eq!(d["status"], "open");
    // The same lines with VAT on top.
    let on_top = deal(&s, &member, json!({"title": "Мебель б/НДС", "vat_included": false, "items": [{"product_id": product.id(), "quantity": "1", "price": "10000"}]})).await;
    assert_eq!((on_top["amount"].as_str(), on_top["vat_amount"].as_str()), (Some("12200.00"), Some("2200.00")));

    // A line may override the price; the deal list filters by amount exactly.
    let found = s.get(&member, "/api/v1/deals?amount[gte]=34440.5&amount[lte]=34440.5").await;
    assert_eq!(found.body["data"].as_array().unwrap().len(), 1, "{}", found.body);

    let bad = s.post(&member, "/api/v1/deals", json!({"title": "X", "items": [{"name": "A", "quantity": "-2", "price": "1"}, {"product_id": 999_999, "quantity": 1}, {"name": "B", "quantity": 1, "price": "1.00001"}]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.field_errors();
    for f in ["items[0].quantity", "items[1].product_id", "items[2].price"] {
        assert!(fields.contains(&f.to_owned()), "{f} not in {fields:?}");
    }
    let unknown = s.post(&member, "/api/v1/deals", json!({"title": "X", "items": [{"product_id": 999_999, "name": "A", "quantity": 1, "price": "1"}]})).await;
    assert_eq!(unknown.field_errors(), vec!["items[0].product_id"]);

    // Another workspace's product is unknown here.
    let other_ws = s.workspace("Чужие").await;
    let stranger = s.user(other_ws, Role::Admin, "stranger").await;
    let theirs = s.post(&stranger, "/api/v1/products", json!({"name": "Чужой товар", "price": "1"})).await.id();
    let r = s.post(&member, "/api/v1/deals", json!({"title": "X", "items": [{"product_id": theirs, "quantity": 1}]})).await;
    assert!(r.field_errors().contains(&"items[0].product_id".to_owned()), "{}", r.body);
    assert_eq!(s.get(&member, &format!("/api/v1/products/{theirs}")).await.status, StatusCode::NOT_FOUND);

    // Search finds deals and products too.
    let hits = s.get(&member, "/api/v1/search?q=мебель&entity=deal").await;
    assert_eq!(hits.body["data"].as_array().unwrap().len(), 2, "{}", hits.body);
}

async fn pipelines_are_configurable(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let (pid, st) = stages(&s, &member).await;
    let kinds: Vec<&str> = st.iter().map(|x| x["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["open", "open", "open", "open", "won", "lost"]);
    assert_eq!(st[0]["names"]["en"], "Request received");
    assert_eq!(st[0]["name"], "Заявка получена");
    // A pipeline added without stages gets the same classic ones, in both languages.
    let second = s.post(&admin, "/api/v1/pipelines", json!({"names": {"ru": "Тендеры"}})).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body["stages"].as_array().map(Vec::len), Some(6));
    assert_eq!(second.body["stages"][0]["names"], st[0]["names"]);
    assert_eq!(s.delete(&admin, &format!("/api/v1/pipelines/{}", second.id())).await.status, StatusCode::NO_CONTENT);

    let version = s.get(&admin, &format!("/api/v1/pipelines/{pid}")).await.body["version"].as_i64().unwrap();
    let d = deal(&s, &member, json!({"title": "В переговорах", "stage_id": st[1]["id"]})).await;
    let mut new_stages: Vec<Value> = st.iter().filter(|x| x["id"] != st[1]["id"]).map(|x| json!({"id": x["id"], "names": x["names"], "kind": x["kind"], "probability": x["probability"]})).collect();
    new_stages.insert(1, json!({"names": {"ru": "Демонстрация", "en": "Demo"}, "kind": "open", "probability": 40}));
    new_stages[0]["names"]["ru"] = json!("Новая заявка");

    assert_eq!(s.patch(&member, &format!("/api/v1/pipelines/{pid}"), json!({"version": version, "stages": new_stages})).await.status, StatusCode::FORBIDDEN);
    // Removing a stage that holds a deal needs a destination.
    let r = s.patch(&admin, &format!("/api/v1/pipelines/{pid}"), json!({"version": version, "stages": new_stages})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = s.patch(&admin, &format!("/api/v1/pipelines/{pid}"), json!({"version": version, "stages": new_stages, "stage_moves": [{"from": st[1]["id"], "to": stage_of(&st, "won")}]})).await;
    assert_eq!(r.field_errors(), vec!["stage_moves[0].to"], "a deal moves only to a stage of the same kind");
    let r = s.patch(&admin, &format!("/api/v1/pipelines/{pid}"), json!({"version": version, "stages": new_stages, "stage_moves": [{"from": st[1]["id"], "to": st[2]["id"]}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["stages"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names[..2], ["Новая заявка", "Демонстрация"]);
    assert_eq!(r.body["stages"].as_array().unwrap().len(), 6);
    let moved = s.get(&member, &format!("/api/v1/deals/{}", d["id"])).await;
    assert_eq!(moved.body["stage_id"], st[2]["id"]);
    totals_agree(&s, &admin, pid).await;
    assert_eq!(moved.body["version"], 2);
    let history = s.get(&member, &format!("/api/v1/deals/{}/history", d["id"])).await;
    assert_eq!(history.body["data"][0]["changes"]["stage_id"], json!([st[1]["id"], st[2]["id"]]));
    // A stale version of the pipeline is refused.
    let stale = s.patch(&admin, &format!("/api/v1/pipelines/{pid}"), json!({"version": version, "names": {"ru": "Продажи 2"}})).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);

    // A second pipeline needs all three kinds; the last pipeline cannot go.
    let bad = s.post(&admin, "/api/v1/pipelines", json!({"names": {"ru": "Тендеры"}, "stages": [{"names": {"ru": "Подача"}, "kind": "open"}]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let second = s.post(&admin, "/api/v1/pipelines", json!({"names": {"ru": "Тендеры", "en": "Tenders"}, "stages": [
        {"names": {"ru": "Подача"}, "kind": "open"}, {"names": {"ru": "Выиграли"}, "kind": "won"}, {"names": {"ru": "Проиграли"}, "kind": "lost"}]})).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(s.delete(&admin, &format!("/api/v1/pipelines/{}", second.id())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.delete(&admin, &format!("/api/v1/pipelines/{pid}")).await.status, StatusCode::CONFLICT);

    // Lost reasons: admins add and retire them.
    let reason = s.post(&admin, "/api/v1/lost_reasons", json!({"names": {"ru": "Сроки", "en": "Timing"}})).await;
    assert_eq!(reason.status, StatusCode::CREATED);
    let retired = s.patch(&admin, &format!("/api/v1/lost_reasons/{}", reason.id()), json!({"active": false})).await;
    assert_eq!(retired.body["active"], false);
    assert_eq!(s.post(&member, "/api/v1/lost_reasons", json!({"names": {"ru": "Х"}})).await.status, StatusCode::FORBIDDEN);
}

async fn board_and_moves(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let (pid, st) = stages(&s, &member).await;
    let first = st[0]["id"].as_i64().unwrap();
    let lost = stage_of(&st, "lost");
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(deal(&s, &member, json!({"title": format!("Сделка {i}"), "amount": "100.10"})).await["id"].as_i64().unwrap());
    }
    let usd = deal(&s, &admin, json!({"title": "Экспорт", "amount": "10", "currency": "USD"})).await;
    let board = s.get(&member, &format!("/api/v1/pipelines/{pid}/board?limit=3")).await;
    assert_eq!(board.status, StatusCode::OK, "{}", board.body);
    let col = &board.body["columns"][0];
    assert_eq!(col["count"], 8);
    assert_eq!(col["total"]["amount"], "700.70", "USD has no rate yet");
    assert_eq!(col["unconverted"][0], json!({"amount": "10.00", "currency": "USD"}));
    // Newest cards on top; the column pages through every card once.
    assert_eq!(col["deals"][0]["id"], usd["id"]);
    let mut seen: Vec<i64> = col["deals"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    let mut cursor = col["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let page = s.get(&member, &format!("/api/v1/pipelines/{pid}/board?limit=3&column={first}&cursor={c}")).await;
        let col = &page.body["columns"][0];
        seen.extend(col["deals"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()));
        cursor = col["next_cursor"].as_str().map(str::to_owned);
    }
    seen.sort();
    let mut all = ids.clone();
    all.push(usd["id"].as_i64().unwrap());
    all.sort();
    assert_eq!(seen, all);

    // With a rate the total is in the base currency; filters apply to counts too.
    assert_eq!(s.post(&admin, "/api/v1/exchange_rates", json!({"currency": "USD", "rate": "92.5", "valid_from": "2020-01-01"})).await.status, StatusCode::CREATED);
    let board = s.get(&member, &format!("/api/v1/pipelines/{pid}/board?owner_id={}", member.id)).await;
    assert_eq!(board.body["columns"][0]["count"], 7);
    let board = s.get(&member, &format!("/api/v1/pipelines/{pid}/board")).await;
    assert_eq!(board.body["columns"][0]["total"]["amount"], "1625.70");

    // Moving: versions, lost reasons, positions, stages of other pipelines.
    let d = ids[0];
    let path = format!("/api/v1/deals/{d}/move");
    let r = s.post(&member, &path, json!({"stage_id": st[1]["id"], "version": 1})).await;
    assert_eq!((r.status, r.body["version"].as_i64()), (StatusCode::OK, Some(2)));
    assert_eq!(s.post(&member, &path, json!({"stage_id": st[2]["id"], "version": 1})).await.status, StatusCode::CONFLICT);
    let r = s.post(&member, &path, json!({"stage_id": lost, "version": 2})).await;
    assert_eq!(r.field_errors(), vec!["lost_reason_id"]);
    let reasons = s.get(&member, "/api/v1/lost_reasons").await.body;
    let needs_comment = reasons.as_array().unwrap().iter().find(|r| r["requires_comment"] == true).unwrap()["id"].clone();
    assert_eq!(s.post(&member, &path, json!({"stage_id": lost, "version": 2, "lost_reason_id": needs_comment})).await.field_errors(), vec!["lost_comment"]);
    let r = s.post(&member, &path, json!({"stage_id": lost, "version": 2, "lost_reason_id": needs_comment, "lost_comment": "ушли к конкурентам"})).await;
    assert_eq!((r.body["status"].as_str(), r.body["closed_at"].is_string()), (Some("lost"), true), "{}", r.body);
    // Reopening is a move like any other; the reason goes, the history keeps it.
    let r = s.post(&member, &path, json!({"stage_id": first, "version": 3})).await;
    assert_eq!((r.body["status"].as_str(), r.body["lost_reason_id"].is_null(), r.body["closed_at"].is_null()), (Some("open"), true, true));
    let stays = s.get(&member, &format!("/api/v1/deals/{d}/stage_history")).await.body;
    assert_eq!(stays.as_array().unwrap().len(), 4);
    assert!(stays[3]["left_at"].is_null());
    let timeline = s.get(&member, &format!("/api/v1/deals/{d}/timeline")).await.body;
    assert_eq!(timeline["data"].as_array().unwrap().iter().filter(|e| e["kind"] == "stage").count(), 3);

    // Placing a card below another.
    let (a, b) = (ids[1], ids[2]);
    let r = s.post(&member, &format!("/api/v1/deals/{a}/move"), json!({"stage_id": first, "version": 1, "after_id": b})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let order: Vec<i64> = s.get(&member, &format!("/api/v1/pipelines/{pid}/board?limit=50")).await.body["columns"][0]["deals"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    let (pa, pb) = (order.iter().position(|x| *x == a).unwrap(), order.iter().position(|x| *x == b).unwrap());
    assert_eq!(pa, pb + 1, "{order:?}");

    // Totals follow every kind of change: trash, restore, owner, currency, amount.
    let d5 = format!("/api/v1/deals/{}", ids[5]);
    assert_eq!(s.delete(&member, &d5).await.status, StatusCode::NO_CONTENT);
    totals_agree(&s, &admin, pid).await;
    assert_eq!(s.call(Some(&member), Method::POST, &format!("{d5}/restore"), None).await.status, StatusCode::OK);
    assert_eq!(s.patch(&admin, &d5, json!({"owner_id": admin.id, "currency": "USD", "amount": "7.77"})).await.status, StatusCode::OK);
    totals_agree(&s, &admin, pid).await;
    totals_agree(&s, &member, pid).await;

    // A stage of another pipeline is refused.
    let other = s.post(&admin, "/api/v1/pipelines", json!({"names": {"ru": "Другая"}, "stages": [{"names": {"ru": "A"}, "kind": "open"}, {"names": {"ru": "B"}, "kind": "won"}, {"names": {"ru": "C"}, "kind": "lost"}]})).await;
    let foreign_stage = other.body["stages"][0]["id"].clone();
    let r = s.post(&member, &format!("/api/v1/deals/{}/move", ids[3]), json!({"stage_id": foreign_stage, "version": 1})).await;
    assert_eq!(r.field_errors(), vec!["stage_id"]);
    let r = s.post(&member, &format!("/api/v1/deals/{}/move", ids[3]), json!({"stage_id": 9_999_999, "version": 1})).await;
    assert_eq!(r.field_errors(), vec!["stage_id"]);
}

async fn post_form(s: &Server, key: &str, body: &str, from: &str) -> (StatusCode, Value) {
    let resp = s
        .http
        .post(format!("{}/api/v1/forms/{key}", s.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", from)
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn web_form_lead_to_deal(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let existing = s.company(&member, json!({"name": "Ромашка", "inn": "7725088527"})).await;
    let form = s.post(&admin, "/api/v1/web_forms", json!({"name": "Сайт", "owner_id": member.id, "source": "site"})).await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);
    let key = form.body["form_key"].as_str().unwrap().to_owned();
    assert_eq!(s.post(&member, "/api/v1/web_forms", json!({"name": "x"})).await.status, StatusCode::FORBIDDEN);

    let body = "name=%D0%9F%D1%91%D1%82%D1%80+%D0%A1%D0%B8%D0%B4%D0%BE%D1%80%D0%BE%D0%B2&email=petr%40example.ru&phone=8+926+111-22-33&company=%D0%A0%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0&inn=7725088527&utm_source=yandex&city=Tver";
    let (status, answer) = post_form(&s, &key, body, "198.51.100.1").await;
    assert_eq!((status, answer), (StatusCode::CREATED, json!({"status": "received"})));
    // A bot filling the honeypot is told the same and leaves nothing.
    assert_eq!(post_form(&s, &key, "name=Bot&_hp=http%3A%2F%2Fspam", "198.51.100.1").await.0, StatusCode::CREATED);
    assert_eq!(post_form(&s, "wf_unknown", "name=X", "198.51.100.1").await.0, StatusCode::NOT_FOUND);
    let (status, bad) = post_form(&s, &key, "email=not-an-email", "198.51.100.1").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.to_string().find("workspace").is_none() && bad["errors"][0]["field"] == "email", "{bad}");
    let leads = s.get(&member, "/api/v1/leads").await.body["data"].as_array().unwrap().clone();
    assert_eq!(leads.len(), 1);
    let lead = &leads[0];
    assert_eq!((lead["name"].as_str(), lead["phone"].as_str(), lead["source"].as_str(), lead["utm"]["source"].as_str()), (Some("Пётр Сидоров"), Some("+79261112233"), Some("site"), Some("yandex")));
    assert!(lead["message"].as_str().unwrap().contains("city: Tver"));

    // A flood from one address is cut off.
    let mut last = StatusCode::OK;
    for _ in 0..10 {
        last = post_form(&s, &key, "name=Flood", "203.0.113.9").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);

    // Conversion: the company is found by INN, the contact and deal are created.
    let (_, st) = stages(&s, &member).await;
    let lead_id = lead["id"].as_i64().unwrap();
    let r = s.post(&member, &format!("/api/v1/leads/{lead_id}/convert"), json!({"deal": {"stage_id": st[1]["id"], "amount": "50000"}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.body["company_id"].as_i64(), r.body["company_created"].as_bool(), r.body["contact_created"].as_bool()), (Some(existing), Some(false), Some(true)));
    assert_eq!(r.body["lead"]["status"], "qualified");
    let deal = s.get(&member, &format!("/api/v1/deals/{}", r.body["deal_id"])).await.body;
    assert_eq!((deal["lead_id"].as_i64(), deal["company_id"].as_i64(), deal["amount"].as_str()), (Some(lead_id), Some(existing), Some("50000.00")));
    let contact = s.get(&member, &format!("/api/v1/contacts/{}", r.body["contact_id"])).await.body;
    assert_eq!((contact["first_name"].as_str(), contact["last_name"].as_str(), contact["primary_company_id"].as_i64()), (Some("Пётр"), Some("Сидоров"), Some(existing)));
    assert_eq!(s.post(&member, &format!("/api/v1/leads/{lead_id}/convert"), json!({})).await.status, StatusCode::CONFLICT);
    let company_timeline = s.get(&member, &format!("/api/v1/companies/{existing}/timeline")).await.body;
    assert!(company_timeline["data"].as_array().unwrap().iter().any(|e| e["kind"] == "deal"));

    // A bad deal in the conversion changes nothing, and names the field under `deal.`.
    let second = s.post(&member, "/api/v1/leads", json!({"name": "Анна", "email": "anna@example.ru"})).await;
    assert_eq!(second.status, StatusCode::CREATED);
    let before = s.count_rows("contacts").await;
    let r = s.post(&member, &format!("/api/v1/leads/{}/convert", second.id()), json!({"deal": {"stage_id": 9_999_999}})).await;
    assert_eq!(r.field_errors(), vec!["deal.stage_id"]);
    assert_eq!(s.count_rows("contacts").await, before, "the conversion is one transaction");
    let r = s.patch(&member, &format!("/api/v1/leads/{}", second.id()), json!({"status": "qualified"})).await;
    assert_eq!(r.field_errors(), vec!["status"]);
    let r = s.patch(&member, &format!("/api/v1/leads/{}", second.id()), json!({"status": "disqualified"})).await;
    assert_eq!(r.field_errors(), vec!["disqualify_reason"]);
}

async fn activities_tasks_and_reminders(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let contact = s.contact(&member, json!({"last_name": "Петров"})).await;
    let d = deal(&s, &member, json!({"title": "Сделка"})).await;
    let call = s.post(&member, "/api/v1/activities", json!({"kind": "call", "direction": "outbound", "duration_seconds": 180, "outcome": "connected", "body": "Обсудили", "contact_id": contact, "deal_id": d["id"]})).await;
    assert_eq!(call.status, StatusCode::CREATED, "{}", call.body);
    assert_eq!(call.body["status"], "done");
    for path in [format!("/api/v1/contacts/{contact}/timeline"), format!("/api/v1/deals/{}/timeline", d["id"])] {
        let t = s.get(&member, &path).await.body;
        assert!(t["data"].as_array().unwrap().iter().any(|e| e["kind"] == "activity" && e["ref_id"] == call.body["id"]), "{path}: {t}");
    }
    let bad = s.post(&member, "/api/v1/activities", json!({"kind": "meeting", "starts_at": "2026-11-25T12:00", "ends_at": "2026-11-25T11:00", "duration_seconds": 5})).await;
    let fields = bad.field_errors();
    assert!(fields.contains(&"ends_at".to_owned()) && fields.contains(&"duration_seconds".to_owned()), "{fields:?}");
    // In the trash, it leaves the timelines.
    assert_eq!(s.delete(&member, &format!("/api/v1/activities/{}", call.id())).await.status, StatusCode::NO_CONTENT);
    let t = s.get(&member, &format!("/api/v1/contacts/{contact}/timeline")).await.body;
    assert!(!t["data"].as_array().unwrap().iter().any(|e| e["kind"] == "activity"));

    // A reminder that fell due (as if Accord had been down) is delivered once, even by two
    // workers at the same time.
    let due = chrono::Utc::now() + chrono::Duration::minutes(10);
    let task = s.post(&member, "/api/v1/tasks", json!({"title": "Перезвонить", "due_at": due.to_rfc3339(), "remind_before_minutes": 30, "contact_id": contact, "recurrence": "weekly"})).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let now = accord_storage::now_ms();
    let (a, b) = tokio::join!(accord_storage::notifications::deliver_due(&s.db, now), accord_storage::notifications::deliver_due(&s.db, now));
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(accord_storage::notifications::deliver_due(&s.db, now + 1000).await.unwrap(), 0);
    let n = s.get(&member, "/api/v1/notifications").await.body;
    assert_eq!((n["unread_count"].as_i64(), n["data"][0]["payload"]["title"].as_str()), (Some(1), Some("Перезвонить")));
    assert_eq!(s.get(&admin, "/api/v1/notifications/unread_count").await.body["unread_count"], 0, "notifications are personal");
    let nid = n["data"][0]["id"].as_i64().unwrap();
    assert_eq!(s.call(Some(&admin), Method::POST, &format!("/api/v1/notifications/{nid}/read"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.call(Some(&member), Method::POST, &format!("/api/v1/notifications/{nid}/read"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&member, "/api/v1/notifications/unread_count").await.body["unread_count"], 0);
    // Editing the task after its reminder fired does not fire it again.
    assert_eq!(s.patch(&member, &format!("/api/v1/tasks/{}", task.id()), json!({"description": "подробности"})).await.status, StatusCode::OK);
    assert_eq!(accord_storage::notifications::deliver_due(&s.db, now + 2000).await.unwrap(), 0);

    // Completing a weekly task plans the next one a week later, at the same local time.
    let done = s.patch(&member, &format!("/api/v1/tasks/{}", task.id()), json!({"status": "done"})).await;
    assert!(done.body["completed_at"].is_string(), "{}", done.body);
    let open = s.get(&member, &format!("/api/v1/tasks?status=open&owner_id={}", member.id)).await.body;
    let next = &open["data"][0];
    let next_due = chrono::DateTime::parse_from_rfc3339(next["due_at"].as_str().unwrap()).unwrap();
    assert_eq!((next_due.timestamp() - due.timestamp()) / 3600, 7 * 24);
    assert_eq!(next["recurrence"], "weekly");

    // Local due times are the assignee's.
    let local = s.post(&member, "/api/v1/tasks", json!({"title": "Утро", "due_at": "2027-03-01T09:00"})).await;
    assert_eq!(local.body["due_at"], "2027-03-01T06:00:00.000Z");
    let bad = s.post(&member, "/api/v1/tasks", json!({"title": "X", "remind_before_minutes": 10})).await;
    assert_eq!(bad.field_errors(), vec!["remind_before_minutes"]);
}

async fn calendar_feed(engine: Engine) {
    let (s, _admin, member) = setup(engine).await;
    s.post(&member, "/api/v1/activities", json!({"kind": "meeting", "subject": "Встреча; важная, с запятой", "starts_at": (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339(), "place": "Тверская, 1"})).await;
    s.post(&member, "/api/v1/tasks", json!({"title": "Отправить КП", "due_at": (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()})).await;
    let feed = s.call(Some(&member), Method::POST, "/api/v1/calendar_feeds", None).await;
    assert_eq!(feed.status, StatusCode::CREATED);
    let url = format!("{}{}", s.base, feed.body["url"].as_str().unwrap());
    let resp = s.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/calendar"));
    let ics = resp.text().await.unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR") && ics.matches("BEGIN:VEVENT").count() == 2, "{ics}");
    assert!(ics.contains("Встреча\\; важная\\, с запятой"), "{ics}");
    if let Ok(dir) = std::env::var("ACCORD_ICS_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(format!("feed-{engine:?}.ics")), &ics).unwrap();
    }
    // A new feed replaces the old URL; revoking ends the new one.
    let again = s.call(Some(&member), Method::POST, "/api/v1/calendar_feeds", None).await;
    assert_eq!(s.http.get(&url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&member, &format!("/api/v1/calendar_feeds/{}", again.id())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.http.get(format!("{}{}", s.base, again.body["url"].as_str().unwrap())).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

async fn sales_visibility(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Видимость").await;
    let (m1, m2) = (s.user(ws, Role::Manager, "m1").await, s.user(ws, Role::Member, "m2").await);
    let (outsider, reader) = (s.user(ws, Role::Manager, "m3").await, s.user(ws, Role::ReadOnly, "ro").await);
    s.team(ws, "Москва", &[&m1, &m2]).await;
    let other_ws = s.workspace("Чужие").await;
    let foreigner = s.user(other_ws, Role::Owner, "f").await;
    let (pid, st) = stages(&s, &m2).await;
    let mine = deal(&s, &m2, json!({"title": "Моя", "amount": "10"})).await;
    let foreign = deal(&s, &foreigner, json!({"title": "Чужая", "amount": "1000"})).await;
    let move_body = json!({"stage_id": st[1]["id"], "version": 1});

    // The teammate manager sees and moves it; the other team's manager does not see it.
    assert_eq!(s.get(&m1, &format!("/api/v1/pipelines/{pid}/board")).await.body["columns"][0]["count"], 1);
    assert_eq!(s.get(&outsider, &format!("/api/v1/pipelines/{pid}/board")).await.body["columns"][0]["count"], 0);
    assert_eq!(s.post(&outsider, &format!("/api/v1/deals/{}/move", mine["id"]), move_body.clone()).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.post(&reader, &format!("/api/v1/deals/{}/move", mine["id"]), move_body.clone()).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.post(&m1, &format!("/api/v1/deals/{}/move", mine["id"]), move_body.clone()).await.status, StatusCode::OK);
    // Another workspace's deal, stage and pipeline are not there.
    assert_eq!(s.post(&m1, &format!("/api/v1/deals/{}/move", foreign["id"]), move_body).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&m1, &format!("/api/v1/deals/{}", foreign["id"])).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&m1, &format!("/api/v1/deals/{}/stage_history", foreign["id"])).await.status, StatusCode::NOT_FOUND);
    let foreign_pipeline = foreign["pipeline_id"].as_i64().unwrap();
    assert_eq!(s.get(&m1, &format!("/api/v1/pipelines/{foreign_pipeline}/board")).await.status, StatusCode::NOT_FOUND);
    let r = s.post(&m1, "/api/v1/deals", json!({"title": "X", "stage_id": foreign["stage_id"]})).await;
    assert_eq!(r.field_errors(), vec!["stage_id"]);
    let r = s.post(&m1, "/api/v1/tasks", json!({"title": "X", "deal_id": foreign["id"]})).await;
    assert_eq!(r.field_errors(), vec!["deal_id"]);
    // Team filter on the deal list.
    let team_deals = s.get(&m1, &format!("/api/v1/deals?team_id={}", s.get(&m1, "/api/v1/teams").await.body[0]["id"])).await;
    assert_eq!(team_deals.body["data"].as_array().unwrap().len(), 1, "{}", team_deals.body);
    // Read-only users create nothing.
    assert_eq!(s.post(&reader, "/api/v1/tasks", json!({"title": "X"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.post(&reader, "/api/v1/leads/1/convert", json!({})).await.status, StatusCode::NOT_FOUND);
}

/// Price lists: a deal that follows one takes its lines' prices from it; a line may name its
/// own; the list must be in the deal's currency; only admins keep lists; one in use stays.
async fn price_lists_price_the_lines(engine: Engine) {
    let (s, admin, member) = setup(engine).await;
    let table = s.post(&admin, "/api/v1/products", json!({"name": "Стол", "sku": "T-1", "price": "12000", "vat_rate": "none"})).await.id();
    let chair = s.post(&admin, "/api/v1/products", json!({"name": "Стул", "sku": "C-1", "price": "3000", "vat_rate": "none"})).await.id();
    assert_eq!(s.post(&member, "/api/v1/price_lists", json!({"names": {"ru": "Опт"}, "currency": "RUB"})).await.status, StatusCode::FORBIDDEN);
    let bad = s.post(&admin, "/api/v1/price_lists", json!({"names": {}, "currency": "рубли"})).await;
    assert_eq!(bad.field_errors(), ["names.ru", "currency"]);
    let wholesale = s.post(&admin, "/api/v1/price_lists", json!({"names": {"ru": "Опт", "en": "Wholesale"}, "currency": "RUB"})).await;
    assert_eq!(wholesale.status, StatusCode::CREATED, "{}", wholesale.body);
    let list = wholesale.id();
    let usd = s.post(&admin, "/api/v1/price_lists", json!({"names": {"en": "Export"}, "currency": "USD"})).await.id();
    let set = s.call(Some(&admin), reqwest::Method::PUT, &format!("/api/v1/price_lists/{list}/prices/{table}"), Some(json!({"price": "10000"}))).await;
    assert_eq!((set.status, set.body["price"].as_str()), (StatusCode::OK, Some("10000")), "{}", set.body);
    assert_eq!(s.call(Some(&admin), reqwest::Method::PUT, &format!("/api/v1/price_lists/{list}/prices/{table}"), Some(json!({"price": "-1"}))).await.field_errors(), ["price"]);
    assert_eq!(s.call(Some(&admin), reqwest::Method::PUT, &format!("/api/v1/price_lists/{list}/prices/999999"), Some(json!({"price": "1"}))).await.status, StatusCode::NOT_FOUND);
    let prices = s.get(&member, &format!("/api/v1/price_lists/{list}/prices")).await.body;
    assert_eq!(prices["data"], json!([{"product_id": table, "product_name": "Стол", "price": "10000"}]));

    // The table from the list, the chair (not in it) from the catalogue, a typed price kept.
    let d = deal(&s, &member, json!({"title": "Опт", "price_list_id": list, "items": [{"product_id": table, "quantity": 2}, {"product_id": chair, "quantity": 1}, {"product_id": table, "quantity": 1, "price": "11000"}]})).await;
    let prices: Vec<&str> = d["items"].as_array().unwrap().iter().map(|l| l["price"].as_str().unwrap()).collect();
    assert_eq!(prices, ["10000", "3000", "11000"], "{d}");
    assert_eq!((d["amount"].as_str(), d["price_list_id"].as_i64()), (Some("34000.00"), Some(list)));
    let other = s.post(&member, "/api/v1/deals", json!({"title": "X", "price_list_id": usd})).await;
    assert_eq!((other.status, other.body["errors"][0]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("other_currency")));
    assert_eq!(s.post(&member, "/api/v1/deals", json!({"title": "X", "price_list_id": 999999})).await.field_errors(), ["price_list_id"]);
    assert_eq!(s.get(&member, &format!("/api/v1/deals?price_list_id={list}")).await.body["data"].as_array().unwrap().len(), 1);

    assert_eq!(s.delete(&admin, &format!("/api/v1/price_lists/{list}")).await.status, StatusCode::CONFLICT, "a list deals follow stays");
    let off = s.patch(&admin, &format!("/api/v1/price_lists/{list}"), json!({"version": 1, "active": false})).await;
    assert_eq!((off.status, off.body["active"].as_bool()), (StatusCode::OK, Some(false)));
    assert_eq!(s.post(&member, "/api/v1/deals", json!({"title": "Y", "price_list_id": list})).await.body["errors"][0]["code"], "inactive_price_list");
    assert_eq!(s.delete(&admin, &format!("/api/v1/price_lists/{usd}")).await.status, StatusCode::NO_CONTENT);
    let outsider_ws = s.workspace("Чужие цены").await;
    let outsider = s.user(outsider_ws, Role::Owner, "outsider").await;
    assert_eq!(s.get(&outsider, &format!("/api/v1/price_lists/{list}/prices")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&outsider, "/api/v1/price_lists").await.body, json!([]));
}
