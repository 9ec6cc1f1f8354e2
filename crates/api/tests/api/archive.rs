//! The workspace archive on both engines: a workspace with a bit of everything is archived,
//! restored into a new empty workspace beside it, and the copy answers every list, record,
//! relation, history and board as the original does (ids aside, which are new).
use crate::both_engines;
use crate::harness::{Engine, Server, User, start};
use accord_domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

both_engines!(archive_restores_beside_its_original, archive_restore_refuses_what_it_cannot_take);

const ENTITIES: [&str; 7] = ["contacts", "companies", "products", "deals", "leads", "activities", "tasks"];

async fn download(s: &Server, u: &User) -> Vec<u8> {
    let resp = s.http.get(format!("{}/api/v1/workspace/archive", s.base)).bearer_auth(&u.token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    resp.bytes().await.unwrap().to_vec()
}

async fn restore(s: &Server, u: &User, archive: Vec<u8>) -> (StatusCode, Value) {
    let resp = s.http.post(format!("{}/api/v1/workspace/archive", s.base)).bearer_auth(&u.token).body(archive).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// Drops ids, which a restore renews, at any depth; what they pointed at is compared apart.
fn without_ids(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|k, _| k != "id" && !k.ends_with("_id") && !k.ends_with("_ids") && !k.ends_with("_by"));
            o.values_mut().for_each(without_ids);
        }
        Value::Array(a) => a.iter_mut().for_each(without_ids),
        _ => {}
    }
}

async fn records(s: &Server, u: &User, path: &str) -> Vec<Value> {
    let r = s.get(u, &format!("{path}?limit=100")).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

/// Everything the API shows of a workspace's records, trash, timelines, histories and
/// settings, without ids and sorted, so two workspaces can be compared whole.
async fn portrait(s: &Server, u: &User) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for e in ENTITIES {
        for (key, path) in [(e.to_owned(), format!("/api/v1/{e}")), (format!("{e} trash"), format!("/api/v1/{e}/trash"))] {
            let mut list = Vec::new();
            for mut rec in records(s, u, &path).await {
                let id = rec["id"].as_i64().unwrap();
                if !key.ends_with("trash") {
                    for sub in ["timeline", "history", "notes"] {
                        let mut got = s.get(u, &format!("/api/v1/{e}/{id}/{sub}")).await.body;
                        without_ids(&mut got);
                        rec[sub] = got;
                    }
                }
                without_ids(&mut rec);
                list.push(rec.to_string());
            }
            list.sort();
            out.insert(key, list);
        }
    }
    for path in
        ["/api/v1/pipelines", "/api/v1/lost_reasons", "/api/v1/custom_fields", "/api/v1/exchange_rates", "/api/v1/teams", "/api/v1/roles", "/api/v1/goals", "/api/v1/web_forms", "/api/v1/views?entity=deals", "/api/v1/price_lists"]
    {
        let mut got = s.get(u, path).await.body;
        without_ids(&mut got);
        // A form key taken by the original is renewed in a copy beside it.
        got.as_array_mut().into_iter().flatten().filter_map(Value::as_object_mut).for_each(|o| {
            o.remove("form_key");
        });
        out.insert(path.to_owned(), vec![got.to_string()]);
    }
    let mut ws = s.get(u, "/api/v1/workspace").await.body;
    without_ids(&mut ws);
    ws["name"] = Value::Null;
    out.insert("workspace".into(), vec![ws.to_string()]);
    out
}

async fn archive_restores_beside_its_original(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Оригинал").await;
    let owner = s.user(ws, Role::Owner, "owner").await;
    let anna = s.user(ws, Role::Member, "anna").await;
    s.team(ws, "Продажи", &[&anna]).await;
    assert_eq!(s.patch(&owner, "/api/v1/workspace", json!({"vat_rates": ["none", "22", "5"]})).await.status, StatusCode::OK);
    let field = s.post(&owner, "/api/v1/custom_fields", json!({"entity": "contact", "key": "region", "label": "Регион", "field_type": "select", "options": ["Север", "Юг"]})).await;
    assert_eq!(field.status, StatusCode::CREATED, "{}", field.body);
    assert_eq!(s.post(&owner, "/api/v1/exchange_rates", json!({"currency": "USD", "rate": "92.5", "valid_from": "2020-01-01"})).await.status, StatusCode::CREATED);

    let romashka = s.company(&anna, json!({"name": "ООО Ромашка", "inn": "7707083893", "tags": ["vip"]})).await;
    let ivan =
        s.contact(&anna, json!({"last_name": "Иванов", "first_name": "Иван", "emails": ["ivan@romashka.ru"], "company_ids": [romashka], "custom_fields": {"region": "Юг"}})).await;
    let gone = s.contact(&anna, json!({"last_name": "Удалённый"})).await;
    assert_eq!(s.delete(&anna, &format!("/api/v1/contacts/{gone}")).await.status, StatusCode::NO_CONTENT);
    let note = s.post(&anna, &format!("/api/v1/contacts/{ivan}/notes"), json!({"body": "Звонил **вчера**"})).await;
    assert_eq!(note.status, StatusCode::CREATED);
    let table = s.post(&owner, "/api/v1/products", json!({"name": "Стол офисный", "sku": "ST-1", "price": "12200", "vat_rate": "22"})).await.id();
    let list = s.post(&owner, "/api/v1/price_lists", json!({"names": {"ru": "Опт"}, "currency": "RUB"})).await.id();
    assert_eq!(s.call(Some(&owner), reqwest::Method::PUT, &format!("/api/v1/price_lists/{list}/prices/{table}"), Some(json!({"price": "11000"}))).await.status, StatusCode::OK);
    let deal = s
        .post(
            &anna,
            "/api/v1/deals",
            json!({"title": "Мебель для Ромашки", "company_id": romashka, "price_list_id": list, "contacts": [{"contact_id": ivan, "role": "decision_maker"}],
        "items": [{"product_id": table, "quantity": "3", "discount_percent": "10"}]}),
        )
        .await;
    assert_eq!(deal.status, StatusCode::CREATED, "{}", deal.body);
    let pipeline = s.get(&owner, "/api/v1/pipelines").await.body[0].clone();
    let moved = s.post(&anna, &format!("/api/v1/deals/{}/move", deal.id()), json!({"stage_id": pipeline["stages"][1]["id"], "version": 1})).await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let task = s.post(&anna, "/api/v1/tasks", json!({"title": "Выставить счёт", "deal_id": deal.id(), "due_at": "2030-01-15T09:00:00Z"})).await;
    assert_eq!(task.status, StatusCode::CREATED, "{}", task.body);
    let lead = s.post(&anna, "/api/v1/leads", json!({"name": "Пётр", "email": "petr@example.com", "source": "сайт"})).await;
    assert_eq!(lead.status, StatusCode::CREATED, "{}", lead.body);
    let view = s.post(&owner, "/api/v1/views", json!({"entity": "deals", "name": "Крупные", "params": {"amount[gte]": "1000"}, "shared": true})).await;
    assert_eq!(view.status, StatusCode::CREATED, "{}", view.body);
    let form = s.post(&owner, "/api/v1/web_forms", json!({"name": "Сайт"})).await;
    assert_eq!(form.status, StatusCode::CREATED, "{}", form.body);

    assert_eq!(s.http.get(format!("{}/api/v1/workspace/archive", s.base)).bearer_auth(&anna.token).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let archive = download(&s, &owner).await;
    assert!(archive.starts_with(b"PK"), "a ZIP file");

    let copy_ws = s.workspace("Копия").await;
    let copy_owner = s.user(copy_ws, Role::Owner, "copy-owner").await;
    let (status, report) = restore(&s, &copy_owner, archive.clone()).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["restored"]["contacts"], 2);
    assert_eq!(report["accounts_without_password"], json!([]), "members of this install keep their accounts");
    assert_eq!(report["web_forms_with_new_key"], json!(["Сайт"]), "the original keeps its form key");

    // The copy's members are the original's (plus its own owner); Anna signs in there too.
    let anna_there = s.token_for(copy_ws, anna.id, &anna.email, "read_write").await;
    let (before, after) = (portrait(&s, &owner).await, portrait(&s, &copy_owner).await);
    let sizes: Vec<usize> = ["contacts", "contacts trash", "companies", "products", "deals", "leads", "tasks"].iter().map(|k| before[*k].len()).collect();
    assert_eq!(sizes, [1, 1, 1, 1, 1, 1, 1]);
    assert!(before["/api/v1/views?entity=deals"][0].contains("Крупные"), "shared views travel too");
    assert!(before["contacts"][0].contains("Звонил") && before["deals"][0].contains("\"stage\""), "notes and stage changes are compared: {}", before["contacts"][0]);
    for (key, list) in &before {
        assert_eq!(Some(list), after.get(key), "{key} differs after the restore");
    }

    // References point at the copy's own records.
    let copied_deal = &records(&s, &anna_there, "/api/v1/deals").await[0];
    let copied_company = s.get(&anna_there, &format!("/api/v1/companies/{}", copied_deal["company_id"])).await;
    assert_eq!((copied_company.status, copied_company.body["name"].as_str()), (StatusCode::OK, Some("ООО Ромашка")));
    assert_ne!(copied_deal["company_id"], json!(romashka));
    let copied_product = s.get(&copy_owner, &format!("/api/v1/products/{}", copied_deal["items"][0]["product_id"])).await;
    let original_deal = s.get(&anna, &format!("/api/v1/deals/{}", deal.id())).await.body;
    assert_eq!(original_deal["price_list_id"], json!(list), "{original_deal}");
    let copied_prices = s.get(&copy_owner, &format!("/api/v1/price_lists/{}/prices", copied_deal["price_list_id"])).await.body;
    assert_eq!(copied_prices["data"][0]["price"], "11000", "the deal follows the copy's price list: {copied_prices}");
    assert_eq!(copied_deal["items"][0]["price"], "11000");
    assert_eq!(copied_product.body["sku"], "ST-1");
    let copied_ivan = s.get(&anna_there, &format!("/api/v1/contacts/{}", copied_deal["contacts"][0]["contact_id"])).await;
    assert_eq!(copied_ivan.body["company_ids"], json!([copied_deal["company_id"]]));
    let first = accord_storage::query("SELECT first_contact_id FROM deals WHERE id = $1").bind(copied_deal["id"].as_i64()).fetch_one(&s.db).await.unwrap();
    assert_eq!(first.try_get::<Option<i64>, _>("first_contact_id").unwrap(), copied_deal["contacts"][0]["contact_id"].as_i64(), "the customer reports' contact is the copy's own");
    let stays = s.get(&anna_there, &format!("/api/v1/deals/{}/stage_history", copied_deal["id"])).await.body;
    assert_eq!(stays.as_array().map(Vec::len), Some(2), "{stays}");
    let hits = s.get(&anna_there, "/api/v1/search?q=Иван").await.body["data"].clone();
    assert!(hits.as_array().unwrap().iter().any(|h| h["id"] == copied_ivan.body["id"]), "search finds the copy: {hits}");
    let original_hits = s.get(&anna, "/api/v1/search?q=Иван").await.body["data"].clone();
    assert!(original_hits.as_array().unwrap().iter().all(|h| h["id"] != copied_ivan.body["id"]), "and the original only its own");
    let copied_pipeline = s.get(&copy_owner, "/api/v1/pipelines").await.body[0]["id"].clone();
    let board = s.get(&copy_owner, &format!("/api/v1/pipelines/{copied_pipeline}/board")).await.body;
    let original_board = s.get(&owner, &format!("/api/v1/pipelines/{}/board", pipeline["id"])).await.body;
    let totals = |b: &Value| b["columns"].as_array().unwrap().iter().map(|c| (c["count"].clone(), c["total"].clone())).collect::<Vec<_>>();
    assert_eq!(totals(&board), totals(&original_board));

    // A restore is audited; the copy is not empty any more, so a second one is refused.
    let audit = s.get(&copy_owner, "/api/v1/audit?limit=100").await.body;
    assert!(audit["data"].as_array().unwrap().iter().any(|e| e["entity"] == "archive" && e["action"] == "restore"), "{audit}");
    let (status, again) = restore(&s, &copy_owner, archive).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
}

async fn archive_restore_refuses_what_it_cannot_take(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Пустой").await;
    let owner = s.user(ws, Role::Owner, "owner").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let (status, problem) = restore(&s, &owner, b"not a zip at all".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!((problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()), (Some("archive"), Some("not_an_archive")));
    let archive = download(&s, &owner).await;
    assert_eq!(restore(&s, &admin, archive.clone()).await.0, StatusCode::FORBIDDEN, "only owners restore");
    let pipelines = s.get(&owner, "/api/v1/pipelines").await.body;
    let (status, report) = restore(&s, &owner, archive).await;
    assert_eq!(status, StatusCode::OK, "an empty workspace restores its own archive: {report}");
    let mut after = s.get(&owner, "/api/v1/pipelines").await.body;
    let mut before = pipelines;
    without_ids(&mut before);
    without_ids(&mut after);
    assert_eq!(before, after);
}
