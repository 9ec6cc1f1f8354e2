//! Imports and exports over HTTP on both engines: real export files of other CRMs, a Russian
//! spreadsheet in windows-1251 with the usual flaws, upsert, undo, and an export read back.
use crate::both_engines;
use crate::harness::{Engine, Server, User, start};
use accord_domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;

both_engines!(import_check_run_undo, rows_written_together, deal_lines_over_several_rows, companies_found_by_domain, import_other_crms_files, export_round_trip, export_of_many_pages, import_resumes_after_a_stop, vcards_in_and_out, duplicate_finder_and_bulk_merge);

pub(crate) async fn upload(s: &Server, u: &User, entity: &str, name: &str, bytes: Vec<u8>) -> Value {
    let resp = s.http.post(format!("{}/api/v1/imports?entity={entity}&file_name={name}", s.base)).bearer_auth(&u.token).body(bytes).send().await.unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// Starts the check or run and waits for it to finish.
pub(crate) async fn finish(s: &Server, u: &User, id: i64, step: &str) -> Value {
    let r = s.post(u, &format!("/api/v1/imports/{id}/{step}"), json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    wait(s, u, id).await
}

/// Waits for the check or run under way to end.
async fn wait(s: &Server, u: &User, id: i64) -> Value {
    for _ in 0..3000 {
        let r = s.get(u, &format!("/api/v1/imports/{id}")).await;
        if !matches!(r.body["status"].as_str(), Some("checking" | "running")) {
            assert_ne!(r.body["status"], "failed", "{}", r.body);
            return r.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

pub(crate) async fn rows(s: &Server, u: &User, id: i64, phase: &str) -> Vec<Value> {
    s.get(u, &format!("/api/v1/imports/{id}/rows?phase={phase}&limit=500")).await.body["data"].as_array().unwrap().clone()
}

fn problem_codes(row: &Value) -> Vec<String> {
    row["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect()
}

/// New records of one batch are checked and written together, yet each row ends as it would
/// alone: a row sharing a phone with an earlier row of the same batch is that row's duplicate,
/// as is one sharing a phone with a record there, a row matching a record updates it in its
/// place in the file, and the others are created. The check foretells each row's outcome.
async fn rows_written_together(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Пакет").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let existing = s.contact(&admin, json!({ "last_name": "Старый", "emails": ["old@example.ru"] })).await;
    let by_phone = s.contact(&admin, json!({ "last_name": "Занятый", "phones": ["+7 916 000-00-01"] })).await;
    let csv = "Фамилия;E-mail;Телефон\nПервый;first@example.ru;+7 916 111-22-33\nСтарый;old@example.ru;+7 916 444-55-66\nВторой;second@example.ru;8 (916) 111-22-33\nТретий;third@example.ru;+7 916 777-88-99\nЧетвёртый;fourth@example.ru;+7 916 000-00-01\n";
    let doc = upload(&s, &admin, "contacts", "batch.csv", csv.as_bytes().to_vec()).await;
    let id = doc["id"].as_i64().unwrap();
    let outcomes = |report: &[Value]| report.iter().map(|r| (r["line"].as_i64().unwrap(), r["action"].as_str().unwrap().to_owned())).collect::<Vec<_>>();
    let checked = finish(&s, &admin, id, "check").await;
    assert_eq!((checked["check"]["created"].as_i64(), checked["check"]["updated"].as_i64(), checked["check"]["failed"].as_i64()), (Some(2), Some(1), Some(2)), "{:?}", rows(&s, &admin, id, "check").await);
    let check = rows(&s, &admin, id, "check").await;
    // What the check cannot know yet (the record an earlier row will become) it names by line;
    // the values the messages name come along for their translations.
    let in_file = &check.iter().find(|r| r["line"] == 4).unwrap()["problems"][0];
    assert_eq!((in_file["code"].as_str(), &in_file["params"]), (Some("duplicate_of_line"), &json!({ "line": 2, "value": "+79161112233" })), "{check:?}");
    let there = &check.iter().find(|r| r["line"] == 6).unwrap()["problems"][0];
    assert_eq!((there["code"].as_str(), &there["params"]), (Some("duplicate"), &json!({ "id": by_phone, "name": "Занятый", "value": "+79160000001" })), "{check:?}");
    assert_eq!((in_file["column"].as_str(), there["column"].as_str()), (Some("Телефон"), Some("Телефон")), "the column that holds the phone");
    let done = finish(&s, &admin, id, "run").await;
    assert_eq!((done["run"]["created"].as_i64(), done["run"]["updated"].as_i64(), done["run"]["failed"].as_i64()), (Some(2), Some(1), Some(2)), "{:?}", rows(&s, &admin, id, "run").await);
    let report = rows(&s, &admin, id, "run").await;
    assert_eq!(outcomes(&check), outcomes(&report), "the check said what the run did");
    let first = report.iter().find(|r| r["line"] == 2).unwrap()["record_id"].as_i64().unwrap();
    let second = report.iter().find(|r| r["line"] == 4).unwrap();
    assert_eq!(problem_codes(second), vec!["duplicate"]);
    assert!(second["problems"][0]["message"].as_str().unwrap().contains(&format!("#{first}")), "{second}");
    assert_eq!(report.iter().find(|r| r["line"] == 3).unwrap()["record_id"].as_i64(), Some(existing));
    let updated = s.get(&admin, &format!("/api/v1/contacts/{existing}")).await.body;
    assert_eq!(updated["phones"][0]["e164"], "+79164445566", "{updated}");
    let third = report.iter().find(|r| r["line"] == 5).unwrap()["record_id"].as_i64().unwrap();
    let found = s.get(&admin, "/api/v1/search?q=third%40example.ru").await.body;
    assert!(found.to_string().contains(&format!("\"id\":{third}")), "a new record is searchable: {found}");
    let history = s.get(&admin, &format!("/api/v1/contacts/{third}/history")).await;
    assert_eq!(history.body["data"][0]["action"], "create", "{}", history.body);
}

/// A contact's company by its domain or website, or by the domain of the contact's e-mail
/// (not a public mail service's), as other CRMs associate them.
async fn companies_found_by_domain(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Домены").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let romashka = s.company(&admin, json!({ "name": "Ромашка", "website": "https://www.romashka.ru/about" })).await;
    let lutik = s.company(&admin, json!({ "name": "Лютик", "domain": "lutik.ru" })).await;
    let csv = "Фамилия;E-mail;Сайт компании\nИванов;ivan@romashka.ru;\nПетров;petr@mail.ru;\nСидоров;sid@example.org;http://lutik.ru\n";
    let company_of = |c: &Value| c["primary_company_id"].as_i64();
    let doc = upload(&s, &admin, "contacts", "people.csv", csv.as_bytes().to_vec()).await;
    assert_eq!(doc["mapping"], json!(["last_name", "email", "company_domain"]));
    let done = finish(&s, &admin, doc["id"].as_i64().unwrap(), "run").await;
    assert_eq!(done["run"]["created"], 3, "{done}");
    let people = s.get(&admin, "/api/v1/contacts?sort=last_name").await.body["data"].as_array().unwrap().clone();
    let by_name = |n: &str| people.iter().find(|c| c["last_name"] == n).cloned().unwrap();
    assert_eq!(company_of(&by_name("Иванов")), Some(romashka), "the e-mail's domain");
    assert_eq!(company_of(&by_name("Петров")), None, "mail.ru says nothing about a company");
    assert_eq!(company_of(&by_name("Сидоров")), Some(lutik), "the company's website column");

    // The user may turn the e-mail rule off.
    let doc = upload(&s, &admin, "contacts", "more.csv", "Фамилия;E-mail\nКозлов;kozlov@romashka.ru\n".as_bytes().to_vec()).await;
    let id = doc["id"].as_i64().unwrap();
    let mut options = doc["options"].clone();
    options["company_by_email_domain"] = json!(false);
    assert_eq!(s.patch(&admin, &format!("/api/v1/imports/{id}"), json!({ "version": doc["version"], "options": options })).await.status, StatusCode::OK);
    finish(&s, &admin, id, "run").await;
    let kozlov = s.get(&admin, "/api/v1/contacts?last_name=Козлов").await.body["data"][0].clone();
    assert_eq!(company_of(&kozlov), None);
}

/// A deal's products one per row, under the deal's old id (as Bitrix24 and amoCRM export
/// them): the rows make one deal with every line, and undo removes it whole.
async fn deal_lines_over_several_rows(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Строки").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    for (name, sku, price) in [("Стол офисный", "ST-1", "12000"), ("Кресло", "KR-2", "5000"), ("Доставка", "DL-3", "1500")] {
        assert_eq!(s.post(&admin, "/api/v1/products", json!({"name": name, "sku": sku, "price": price, "vat_rate": "none"})).await.status, StatusCode::CREATED);
    }
    let csv = "ID;Название;Товар;Количество;Цена\n101;Мебель для офиса;ST-1;2;\n101;Мебель для офиса;KR-2;4;4500\n102;Доставка в Тверь;DL-3;1;\n101;Мебель для офиса;DL-3;abc;\n";
    let doc = upload(&s, &admin, "deals", "deals.csv", csv.as_bytes().to_vec()).await;
    let id = doc["id"].as_i64().unwrap();
    let checked = finish(&s, &admin, id, "check").await;
    assert_eq!(checked["check"], json!({"created": 2, "updated": 0, "skipped": 0, "failed": 1, "lines": 1}), "{checked}");
    let done = finish(&s, &admin, id, "run").await;
    assert_eq!(done["run"], json!({"created": 2, "updated": 0, "skipped": 0, "failed": 1, "lines": 1}), "the bad quantity fails its row only: {done}");
    let failed = rows(&s, &admin, id, "run").await.into_iter().find(|r| r["action"] == "fail").unwrap();
    assert_eq!((failed["line"].as_i64(), failed["problems"][0]["column"].as_str()), (Some(5), Some("Количество")), "{failed}");
    let deals = s.get(&admin, "/api/v1/deals?sort=title").await.body["data"].as_array().unwrap().clone();
    assert_eq!(deals.len(), 2);
    let office = deals.iter().find(|d| d["title"] == "Мебель для офиса").unwrap();
    let lines: Vec<(&str, &str)> = office["items"].as_array().unwrap().iter().map(|l| (l["sku"].as_str().unwrap(), l["total"].as_str().unwrap())).collect();
    assert_eq!(lines, [("ST-1", "24000.00"), ("KR-2", "18000.00")]);
    assert_eq!(office["amount"], "42000.00");
    let undo = s.post(&admin, &format!("/api/v1/imports/{id}/undo"), json!({})).await;
    assert_eq!((undo.status, undo.body["removed"].as_i64(), undo.body["changed_since"].clone()), (StatusCode::OK, Some(2), json!([])), "{}", undo.body);
    assert_eq!(s.get(&admin, "/api/v1/deals").await.body["data"], json!([]));
}

async fn import_check_run_undo(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Импорт").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let anna_id = accord_storage::accounts::create_user(&s.db, "anna@example.com", "Анна Петрова", crate::harness::PASSWORD).await.unwrap();
    accord_storage::accounts::add_member(&s.db, ws, anna_id, Role::Member).await.unwrap();
    let existing = s.contact(&admin, json!({ "last_name": "Сидоров", "first_name": "Пётр", "emails": ["sidorov@romashka.ru"], "position": "Менеджер" })).await;
    let romashka = s.company(&admin, json!({ "name": "ООО Ромашка", "inn": "7707083893" })).await;

    // What Russian Excel writes as CSV: windows-1251, semicolons, Russian headers, a quoted
    // cell over two lines, a bad e-mail, an unknown owner, a duplicate inside the file, and a
    // footer under the table.
    let text = "Фамилия;Имя;E-mail;Мобильный телефон;Компания;Ответственный;Должность;Комментарий\r\n\
        Иванов;Иван;ivanov@romashka.ru;+7 916 123-45-67;ООО Ромашка;Анна Петрова;Директор;\"Первая строка\r\nвторая строка\"\r\n\
        Сидоров;Пётр;SIDOROV@romashka.ru;;ООО Ромашка;;Коммерческий директор;\r\n\
        Кузнецова;Ольга;не-почта;;;;;\r\n\
        Смирнов;Олег;smirnov@example.ru;;;Нет Такого;;\r\n\
        Иванов;Иван;ivanov@romashka.ru;;;;;повтор\r\n\
        \r\n\
        Итого: 5 строк\r\n";
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(text);
    let up = upload(&s, &admin, "contacts", "контакты.csv", bytes.into_owned()).await;
    let id = up["id"].as_i64().unwrap();
    assert_eq!(up["detected"]["encoding"], "windows-1251");
    assert_eq!(up["detected"]["delimiter"], ";");
    assert_eq!(up["total_rows"], 6);
    assert_eq!(up["mapping"], json!(["last_name", "first_name", "email", "phone.mobile", "company", "owner", "position", "description"]));

    // A check writes nothing and says what a run would do, row by row.
    let checked = finish(&s, &admin, id, "check").await;
    assert_eq!(checked["status"], "checked");
    assert_eq!(checked["check"], json!({ "created": 1, "updated": 1, "skipped": 2, "failed": 2 }));
    let report = rows(&s, &admin, id, "check").await;
    let by_line = |line: i64| report.iter().find(|r| r["line"] == line).unwrap_or_else(|| panic!("no line {line} in {report:?}")).clone();
    assert_eq!(by_line(2)["action"], "create");
    assert_eq!(by_line(4)["action"], "update");
    assert_eq!(by_line(4)["record_id"], existing);
    assert_eq!(problem_codes(&by_line(5)), vec!["invalid_email"]);
    assert_eq!(by_line(5)["problems"][0]["column"], "E-mail");
    assert_eq!(problem_codes(&by_line(6)), vec!["unknown_user"]);
    assert_eq!(by_line(6)["problems"][0]["column"], "Ответственный");
    assert_eq!(problem_codes(&by_line(7)), vec!["duplicate_in_file"]);
    assert_eq!(problem_codes(&by_line(9)), vec!["not_a_record"]);
    assert_eq!(s.get(&admin, "/api/v1/contacts?limit=50").await.body["data"].as_array().unwrap().len(), 1, "a check writes nothing");
    let csv = s.http.get(format!("{}/api/v1/imports/{id}/rows?phase=check&format=csv", s.base)).bearer_auth(&admin.token).send().await.unwrap().text().await.unwrap();
    assert!(csv.contains("5,fail,,E-mail,emails[0].value,invalid_email"), "{csv}");

    // The unknown owner goes to the importer when the user says so; then the run writes.
    let changed = s.patch(&admin, &format!("/api/v1/imports/{id}"), json!({ "version": checked["version"], "options": { "unknown_owner_to_me": true } })).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let done = finish(&s, &admin, id, "run").await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["run"], json!({ "created": 2, "updated": 1, "skipped": 2, "failed": 1 }));
    let run = rows(&s, &admin, id, "run").await;
    let ivanov = run.iter().find(|r| r["line"] == 2).unwrap()["record_id"].as_i64().unwrap();
    let c = s.get(&admin, &format!("/api/v1/contacts/{ivanov}")).await.body;
    assert_eq!(c["primary_company_id"], romashka, "the company found by name");
    assert_eq!(c["owner_id"], anna_id, "the owner found by name");
    assert_eq!(c["phones"][0]["e164"], "+79161234567");
    assert_eq!(c["description"], "Первая строка\r\nвторая строка");
    let sidorov = s.get(&admin, &format!("/api/v1/contacts/{existing}")).await.body;
    assert_eq!(sidorov["position"], "Коммерческий директор", "matched by e-mail, updated");
    assert_eq!(sidorov["primary_company_id"], romashka);
    let smirnov = run.iter().find(|r| r["line"] == 6).unwrap()["record_id"].as_i64().unwrap();
    assert_eq!(s.get(&admin, &format!("/api/v1/contacts/{smirnov}")).await.body["owner_id"], admin.id);
    assert_eq!(s.post(&admin, &format!("/api/v1/imports/{id}/run"), json!({})).await.status, StatusCode::CONFLICT, "a run happens once");

    // Someone edits one imported contact; undo takes back the rest and lists that one.
    let v = s.get(&admin, &format!("/api/v1/contacts/{smirnov}")).await.body["version"].clone();
    assert_eq!(s.patch(&admin, &format!("/api/v1/contacts/{smirnov}"), json!({ "version": v, "position": "Инженер" })).await.status, StatusCode::OK);
    let undo = s.post(&admin, &format!("/api/v1/imports/{id}/undo"), json!({})).await;
    assert_eq!(undo.status, StatusCode::OK, "{}", undo.body);
    assert_eq!(undo.body, json!({ "removed": 1, "restored": 1, "changed_since": [smirnov] }));
    assert_eq!(s.get(&admin, &format!("/api/v1/contacts/{ivanov}")).await.status, StatusCode::NOT_FOUND, "in the trash");
    let back = s.get(&admin, &format!("/api/v1/contacts/{existing}")).await.body;
    assert_eq!((back["position"].as_str(), back["primary_company_id"].clone()), (Some("Менеджер"), Value::Null), "the update is taken back");
    assert_eq!(s.get(&admin, &format!("/api/v1/imports/{id}")).await.body["status"], "undone");

    // Another workspace's import is not there; a read-only member may not import.
    let other = s.workspace("Другая").await;
    let stranger = s.user(other, Role::Owner, "stranger").await;
    assert_eq!(s.get(&stranger, &format!("/api/v1/imports/{id}")).await.status, StatusCode::NOT_FOUND);
    let reader = s.user(ws, Role::ReadOnly, "reader").await;
    let r = s.http.post(format!("{}/api/v1/imports?entity=contacts", s.base)).bearer_auth(&reader.token).body("a\n1\n").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A PDF chosen by mistake is refused as such, instead of read as windows-1251 gibberish.
    let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<</Length 8/Filter/FlateDecode>>stream\nx\x9C\x03\x00\x00\x00\x00\x01\nendstream\n".to_vec();
    let r = s.http.post(format!("{}/api/v1/imports?entity=contacts&file_name=contacts.pdf", s.base)).bearer_auth(&admin.token).body(pdf).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!((problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()), (Some("file"), Some("bad_file")), "{problem}");
    let audit = s.get(&admin, "/api/v1/audit?limit=200").await.body;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().filter(|e| e["entity"] == "import").filter_map(|e| e["action"].as_str()).collect();
    assert!(["upload", "run", "done", "undo"].iter().all(|a| actions.contains(a)), "{actions:?}");
}

fn testdata(rel: &str) -> Option<std::path::PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata").join(rel);
    if p.exists() {
        Some(p)
    } else {
        println!("SKIP: {} is absent", p.display());
        None
    }
}

async fn import_other_crms_files(engine: Engine) {
    let Some(dir) = testdata("crm-import-formats") else { return };
    let s = start(engine).await;
    let ws = s.workspace("Миграция").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    // HubSpot: companies first, then contacts linked to them by HubSpot's own ids, then deals.
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();
    let companies = upload(&s, &admin, "companies", "companies.csv", read("hubspot/companies.csv")).await;
    assert_eq!(companies["detected"]["preset"]["name"], "hubspot");
    let id = companies["id"].as_i64().unwrap();
    // The sample's phone (888-…) has no country code, and the workspace's region is Russia:
    // the check names it; the column is left out.
    let checked = finish(&s, &admin, id, "check").await;
    assert_eq!(checked["check"]["failed"], 1);
    assert_eq!(rows(&s, &admin, id, "check").await[0]["problems"][0]["column"], "Phone Number");
    let mut mapping = companies["mapping"].as_array().unwrap().clone();
    mapping[2] = Value::Null;
    let r = s.patch(&admin, &format!("/api/v1/imports/{id}"), json!({ "version": checked["version"], "mapping": mapping, "options": { "unknown_owner_to_me": true } })).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = finish(&s, &admin, id, "run").await;
    let rows_c = rows(&s, &admin, id, "run").await;
    assert_eq!(done["run"]["failed"], 0, "{rows_c:?}");
    let hubspot_id = rows_c[0]["record_id"].as_i64().unwrap();
    assert_eq!(s.get(&admin, &format!("/api/v1/companies/{hubspot_id}")).await.body["domain"], "hubspot.com");

    let contacts = upload(&s, &admin, "contacts", "contacts.csv", read("hubspot/contacts_sample_import-1.csv")).await;
    let id = contacts["id"].as_i64().unwrap();
    let mut mapping = contacts["mapping"].as_array().unwrap().clone();
    let headers: Vec<&str> = contacts["headers"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
    // Fictional 555 numbers are not valid anywhere: leave the column out; keep the colour.
    mapping[headers.iter().position(|h| *h == "Phone Number").unwrap()] = Value::Null;
    s.patch(&admin, &format!("/api/v1/imports/{id}"), json!({ "version": contacts["version"], "mapping": mapping, "options": { "unknown_owner_to_me": true, "create_custom_fields": true } })).await;
    let done = finish(&s, &admin, id, "run").await;
    let report = rows(&s, &admin, id, "run").await;
    assert_eq!(done["run"]["failed"], 0, "{report:?}");
    assert_eq!(done["run"]["created"], 11);
    let leslie = report[0]["record_id"].as_i64().unwrap();
    let c = s.get(&admin, &format!("/api/v1/contacts/{leslie}")).await.body;
    assert_eq!(c["primary_company_id"], hubspot_id, "company_id of the file is the company's HubSpot id");
    assert_eq!(c["custom_fields"]["favorite_color"], "Blue");
    assert_eq!(c["emails"][0]["value"], "leslie.knope@cocaola.com");

    // Every other file is read and checked without an error of the server; each header row
    // finds a mapping for most of its columns.
    for (file, entity) in [("hubspot/Sample_Deal_Import-1.csv", "deals"), ("krayin/persons.csv", "contacts"), ("krayin/leads.csv", "deals"), ("krayin/products.csv", "products"), ("thunderbird/basic_csv_addressbook.csv", "contacts"), ("thunderbird/csv_semicolon.csv", "contacts")] {
        let up = upload(&s, &admin, entity, file, read(file)).await;
        let mapped = up["mapping"].as_array().unwrap().iter().filter(|m| !m.is_null()).count();
        assert!(mapped >= 3.min(up["headers"].as_array().unwrap().len()), "{file}: {}", up["mapping"]);
        let checked = finish(&s, &admin, up["id"].as_i64().unwrap(), "check").await;
        let c = &checked["check"];
        let total: u64 = ["created", "updated", "skipped", "failed"].iter().map(|k| c[*k].as_u64().unwrap()).sum();
        assert_eq!(total, checked["total_rows"].as_u64().unwrap(), "{file}");
        // Thunderbird's test addresses are at doe.invalid, a domain that receives no mail.
        let expected_failure = if file.starts_with("thunderbird") { Some("invalid_email") } else { None };
        if file.starts_with("thunderbird") || file == "krayin/products.csv" {
            for r in rows(&s, &admin, up["id"].as_i64().unwrap(), "check").await.iter().filter(|r| r["action"] == "fail") {
                assert_eq!(problem_codes(r).first().map(String::as_str), expected_failure, "{file}: {r}");
            }
        }
    }
}

async fn export_round_trip(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Экспорт").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let member = s.user(ws, Role::Member, "member").await;
    s.contact(&admin, json!({ "last_name": "Формулов", "first_name": "=HYPERLINK(\"http://x\")", "emails": ["f@example.ru"], "phones": ["+7 916 000-00-01"], "tags": ["vip"] })).await;
    s.contact(&admin, json!({ "last_name": "Обычный", "first_name": "Иван", "emails": ["i@example.ru"] })).await;
    s.contact(&member, json!({ "last_name": "Свой", "emails": ["own@example.ru"] })).await;

    let csv = s.http.get(format!("{}/api/v1/exports/contacts?tag=vip", s.base)).bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("accord-contacts.csv"));
    let text = csv.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 1, "the list's filter applies");
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&records[0][col("first_name")], "'=HYPERLINK(\"http://x\")", "formula neutralized");
    assert_eq!(&records[0][col("phones")], "'+7 916 000-00-01");
    assert_eq!(&records[0][col("owner")], admin.email.as_str());
    // The same view as a workbook, read back by the importer's own XLSX reader.
    let xlsx = s.http.get(format!("{}/api/v1/exports/contacts?tag=vip&format=xlsx&columns=last_name,first_name,owner", s.base)).bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(xlsx.status(), StatusCode::OK);
    let book = accord_domain::imports::source::open(&xlsx.bytes().await.unwrap()).unwrap();
    let sheet: Vec<Vec<String>> = book.rows().map(|r| r.unwrap().cells).collect();
    assert_eq!(sheet, [vec!["last_name".to_owned(), "first_name".into(), "owner".into()], vec!["Формулов".into(), "'=HYPERLINK(\"http://x\")".into(), admin.email.clone()]]);
    assert_eq!(s.get(&admin, "/api/v1/exports/contacts?format=pdf").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.get(&admin, "/api/v1/exports/contacts?columns=nope").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // What a member exports is what they may see; an owner's full export imports into another
    // workspace with every name, e-mail, phone and tag.
    let all = s.http.get(format!("{}/api/v1/exports/contacts", s.base)).bearer_auth(&admin.token).send().await.unwrap().bytes().await.unwrap().to_vec();
    let other = s.workspace("Копия").await;
    let owner2 = s.user(other, Role::Owner, "owner2").await;
    let up = upload(&s, &owner2, "contacts", "accord-contacts.csv", all).await;
    let id = up["id"].as_i64().unwrap();
    s.patch(&owner2, &format!("/api/v1/imports/{id}"), json!({ "version": up["version"], "options": { "unknown_owner_to_me": true } })).await;
    let done = finish(&s, &owner2, id, "run").await;
    assert_eq!(done["run"]["created"], 3, "{:?}", rows(&s, &owner2, id, "run").await);
    let copy = s.get(&owner2, "/api/v1/contacts?sort=last_name").await.body["data"].as_array().unwrap().clone();
    let f = copy.iter().find(|c| c["last_name"] == "Формулов").unwrap();
    assert_eq!(f["first_name"], "=HYPERLINK(\"http://x\")", "the guard is taken off on import");
    assert_eq!(f["phones"][0]["e164"], "+79160000001");
    assert_eq!(f["tags"], json!(["vip"]));
    let audit = s.get(&admin, "/api/v1/audit?limit=50").await.body;
    assert!(audit["data"].as_array().unwrap().iter().any(|e| e["entity"] == "export" && e["changes"]["entity"] == "contact"), "exports are audited");

    // Two companies of one name: the export's INN column tells them apart when it comes back.
    let first = s.company(&admin, json!({ "name": "ИП Козлов", "kind": "sole_proprietor", "inn": "500100732259" })).await;
    let second = s.company(&admin, json!({ "name": "ИП Козлов", "kind": "sole_proprietor", "inn": "772575316286" })).await;
    let linked = s.contact(&admin, json!({ "last_name": "Козлов", "emails": ["kozlov@example.ru"], "primary_company_id": second })).await;
    let file = s.http.get(format!("{}/api/v1/exports/contacts?email=kozlov@example.ru", s.base)).bearer_auth(&admin.token).send().await.unwrap().bytes().await.unwrap().to_vec();
    let up = upload(&s, &admin, "contacts", "kozlov.csv", file).await;
    let done = finish(&s, &admin, up["id"].as_i64().unwrap(), "run").await;
    assert_eq!(done["run"]["updated"], 1, "{:?}", rows(&s, &admin, up["id"].as_i64().unwrap(), "run").await);
    let company = s.get(&admin, &format!("/api/v1/contacts/{linked}")).await.body["primary_company_id"].clone();
    assert_eq!((company.clone(), company != first), (json!(second), true));
}

/// An export longer than a page, whose pages refer to more companies than one lookup takes:
/// every record once, each with its own company's name and INN, lists and addresses as
/// text, and a member's export holding only what they may see.
async fn export_of_many_pages(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Много").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let member = s.user(ws, Role::Member, "member").await;
    let as_admin = accord_storage::accounts::principal_for(&s.db, ws, admin.id).await.unwrap();
    let as_member = accord_storage::accounts::principal_for(&s.db, ws, member.id).await.unwrap();
    let inn = |i: usize| {
        let mut digits = [0u32; 9];
        for (d, c) in digits.iter_mut().zip(format!("{:09}", 500_000_000 + i).chars()) {
            *d = c.to_digit(10).unwrap();
        }
        accord_domain::ru_ids::inn10_complete(&digits)
    };
    for (key, field_type, extra) in [("region", "select", json!(["Север", "Юг"])), ("vip", "boolean", json!([]))] {
        let r = s.post(&admin, "/api/v1/custom_fields", json!({ "entity": "contact", "key": key, "label": key, "field_type": field_type, "options": extra })).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let custom = |i: usize| if i.is_multiple_of(2) { json!({ "region": "Юг", "vip": true }) } else { json!({}) };
    let companies: Vec<_> = (0..150).map(|i| json!({ "name": format!("ООО Фирма {i}"), "inn": inn(i) }).as_object().unwrap().clone()).collect();
    let company_ids = accord_storage::records::create_many(&s.db, &as_admin, accord_domain::entities::Entity::Company, &companies, &[], "test").await.unwrap();
    // Created together, the contacts share their creation time: pages follow the ids among equals.
    let contact = |i: usize| json!({ "last_name": format!("Фамилия{i:04}"), "emails": [format!("a{i}@example.ru"), format!("b{i}@example.ru")], "addresses": [{ "type": "work", "postal_code": "101000", "city": "Москва", "street": format!("ул. Мира, {i}") }], "primary_company_id": company_ids[i % company_ids.len()], "tags": ["опт", "VIP"], "custom_fields": custom(i) }).as_object().unwrap().clone();
    let defs = accord_storage::custom_fields::for_entity(&s.db, ws, accord_domain::entities::Entity::Contact).await.unwrap();
    let admins: Vec<_> = (0..1150).map(contact).collect();
    accord_storage::records::create_many(&s.db, &as_admin, accord_domain::entities::Entity::Contact, &admins, &defs, "test").await.unwrap();
    let members: Vec<_> = (1150..1160).map(contact).collect();
    accord_storage::records::create_many(&s.db, &as_member, accord_domain::entities::Entity::Contact, &members, &defs, "test").await.unwrap();

    let export = |u: &User, query: &str| {
        let url = format!("{}/api/v1/exports/contacts?{query}", s.base);
        let token = u.token.clone();
        let http = s.http.clone();
        async move {
            let text = http.get(url).bearer_auth(token).send().await.unwrap().text().await.unwrap();
            let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
            let headers = reader.headers().unwrap().clone();
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            (headers, rows)
        }
    };
    for sort in ["id", "-created_at", "last_name", "-updated_at"] {
        let (headers, rows) = export(&admin, &format!("sort={sort}")).await;
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        assert_eq!(rows.len(), 1160, "sort={sort}");
        let mut names: Vec<&str> = rows.iter().map(|r| &r[col("last_name")]).collect();
        if sort == "id" || sort == "last_name" {
            assert!(names.is_sorted(), "sort={sort}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 1160, "every contact once, sort={sort}");
        for r in &rows {
            let i: usize = r[col("last_name")].trim_start_matches("Фамилия").parse().unwrap();
            assert_eq!(&r[col("company")], format!("ООО Фирма {}", i % 150), "{r:?}");
            assert_eq!(&r[col("company_inn")], inn(i % 150));
            assert_eq!(&r[col("emails")], format!("a{i}@example.ru; b{i}@example.ru"));
            assert_eq!(&r[col("addresses")], format!("101000, Москва, ул. Мира, {i}"));
            assert_eq!(&r[col("tags")], "опт; vip");
            let (region, vip) = if i.is_multiple_of(2) { ("Юг", "true") } else { ("", "") };
            assert_eq!((&r[col("cf.region")], &r[col("cf.vip")]), (region, vip));
        }
    }
    // The same rows page by page through the list: ties in the creation time follow the ids.
    let listed = s.all_ids(&admin, "/api/v1/contacts?sort=created_at&limit=7").await;
    let mut sorted = listed.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!((listed.len(), sorted.len()), (1160, 1160));

    // Members who read only their own records export only those, and no name of a company
    // they may not see.
    assert_eq!(s.call(Some(&admin), reqwest::Method::PUT, "/api/v1/roles/member", Some(json!({ "read": "own", "edit": "own" }))).await.status, StatusCode::OK);
    let (headers, rows) = export(&member, "sort=last_name").await;
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows.iter().map(|r| r[col("last_name")].to_owned()).collect::<Vec<_>>(), (1150..1160).map(|i| format!("Фамилия{i}")).collect::<Vec<_>>());
    assert_eq!(&rows[0][col("owner")], member.email.as_str());
    assert!(rows.iter().all(|r| r[col("company")].is_empty() && r[col("company_inn")].is_empty()));
}

/// A run stopped after its first batch (as when Accord stops) is taken up again by a worker
/// once its lease runs out, from the first uncommitted row; one stopped by an error goes on
/// when the user asks: every row is imported once.
async fn import_resumes_after_a_stop(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Возобновление").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let p = accord_storage::accounts::principal_for(&s.db, ws, admin.id).await.unwrap();
    let batch = accord_storage::imports::BATCH_ROWS as i64;
    let mut text = String::from("Фамилия,Имя,Email\n");
    for i in 0..batch * 5 / 2 {
        text.push_str(&format!("Фамилия{i},Имя{i},person{i}@example.ru\n"));
    }
    let info = accord_storage::imports::create(&s.db, &p, accord_domain::entities::Entity::Contact, "big.csv", text.as_bytes()).await.unwrap();
    accord_storage::imports::start(&s.db, &p, info.id, true).await.unwrap();
    assert!(accord_storage::imports::claim(&s.db, info.id).await.unwrap());
    let mut batches = 0;
    accord_storage::imports::process(&s.db, info.id, &mut |_| {
        batches += 1;
        if batches == 2 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })
    .await
    .unwrap();
    let stopped = s.get(&admin, &format!("/api/v1/imports/{}", info.id)).await.body;
    assert_eq!((stopped["status"].as_str(), stopped["processed_rows"].as_i64()), (Some("running"), Some(batch)), "{stopped}");
    assert!(!accord_storage::imports::work(&s.db).await.unwrap(), "the lease of the stopped worker still holds");
    accord_storage::query("UPDATE imports SET lease_until = 0 WHERE id = $1").bind(info.id).execute(&s.db).await.unwrap();
    let mut batches = 0;
    assert!(accord_storage::imports::claim(&s.db, info.id).await.unwrap(), "another worker takes it up");
    accord_storage::imports::process(&s.db, info.id, &mut |_| {
        batches += 1;
        if batches == 2 { std::ops::ControlFlow::Break(()) } else { std::ops::ControlFlow::Continue(()) }
    })
    .await
    .unwrap();
    // A run that stopped on an error (the database went away, say) continues when asked.
    accord_storage::query("UPDATE imports SET status = 'failed', error = 'database unreachable', lease_until = NULL WHERE id = $1").bind(info.id).execute(&s.db).await.unwrap();
    assert_eq!(s.get(&admin, &format!("/api/v1/imports/{}", info.id)).await.body["processed_rows"], 2 * batch);
    let resumed = s.post(&admin, &format!("/api/v1/imports/{}/run", info.id), json!({})).await;
    assert_eq!(resumed.status, StatusCode::ACCEPTED, "{}", resumed.body);
    assert_eq!(resumed.body["processed_rows"], 2 * batch, "it goes on from where it stopped");
    wait(&s, &admin, info.id).await;
    let done = s.get(&admin, &format!("/api/v1/imports/{}", info.id)).await.body;
    assert_eq!(done["status"], "done");
    assert_eq!(done["run"]["created"], batch * 5 / 2);
    // More rows than a list counts exactly: counted in the database.
    let count = accord_storage::query("SELECT COUNT(*) AS n FROM contacts WHERE workspace_id = $1 AND deleted_at IS NULL").bind(ws).fetch_one(&s.db).await.unwrap();
    assert_eq!(count.try_get::<i64, _>("n").unwrap(), batch * 5 / 2, "no row twice, none lost");
}

/// Every vCard file of other programs imports: each card becomes a contact with its names,
/// e-mails, phones, address, organization and notes, or fails with the reason named; the
/// contacts export as vCard 4.0 and import again unchanged.
async fn vcards_in_and_out(engine: Engine) {
    let Some(dir) = testdata("vcard") else { return };
    let s = start(engine).await;
    let ws = s.workspace("Визитки").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "vcf")).collect();
    files.sort();
    let mut imported = 0;
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let up = upload(&s, &admin, "contacts", name, std::fs::read(path).unwrap()).await;
        assert_eq!(up["detected"]["format"], "vcard", "{name}");
        let id = up["id"].as_i64().unwrap();
        // Most cards are American: numbers without a country code are read as US numbers; the
        // samples' made-up numbers (555-…) are kept in the description.
        let r = s.patch(&admin, &format!("/api/v1/imports/{id}"), json!({ "version": up["version"], "options": { "create_missing": ["company"], "phone_region": "US", "allow_duplicates": true, "match_on": [], "keep_invalid_values": true } })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let done = finish(&s, &admin, id, "run").await;
        for row in rows(&s, &admin, id, "run").await {
            match row["action"].as_str() {
                Some("create") => imported += 1,
                _ => {
                    let p = &row["problems"][0];
                    assert!(p["message"].as_str().is_some_and(|m| !m.is_empty()), "{name} line {}: a rejected card says why: {row}", row["line"]);
                }
            }
        }
        assert!(done["run"]["created"].as_u64().unwrap() > 0 || name.contains("outlook-2003"), "{name}: {:?}", rows(&s, &admin, id, "run").await);
    }
    // A card of the iPhone sample, field by field.
    let found = s.get(&admin, "/api/v1/contacts?last_name=Doe&limit=100").await.body["data"].as_array().unwrap().clone();
    let iphone = found.iter().find(|c| c["addresses"][0]["street"].as_str().is_some_and(|a| a.starts_with("Silicon Alley 5")) && c["emails"][0]["value"] == "john.doe@ibm.com").expect("the iPhone card");
    assert_eq!((iphone["first_name"].as_str(), iphone["middle_name"].as_str()), (Some("John"), Some("Richter,James")));
    assert_eq!(iphone["emails"][0]["value"], "john.doe@ibm.com");
    let phones = iphone["phones"].as_array().unwrap().len();
    let kept = iphone["description"].as_str().unwrap().matches("Phone: ").count();
    assert_eq!(phones + kept, 7, "every number, valid or kept as text: {iphone}");
    assert_eq!(iphone["addresses"][0]["city"], "New York");
    assert!(iphone["description"].as_str().unwrap().contains("Nickname: Johny"));
    let company = s.get(&admin, &format!("/api/v1/companies/{}", iphone["primary_company_id"])).await.body;
    assert_eq!(company["name"], "IBM");

    // Out as vCard 4.0 and into another workspace: the same people.
    let vcf = s.http.get(format!("{}/api/v1/exports/contacts?format=vcf", s.base)).bearer_auth(&admin.token).send().await.unwrap();
    assert_eq!(vcf.headers()["content-type"], "text/vcard; charset=utf-8");
    let vcf = vcf.bytes().await.unwrap().to_vec();
    assert_eq!(String::from_utf8_lossy(&vcf).matches("BEGIN:VCARD").count(), imported);
    let other = s.workspace("Копия визиток").await;
    let owner2 = s.user(other, Role::Owner, "owner2").await;
    let up = upload(&s, &owner2, "contacts", "accord.vcf", vcf).await;
    let id = up["id"].as_i64().unwrap();
    s.patch(&owner2, &format!("/api/v1/imports/{id}"), json!({ "version": up["version"], "options": { "create_missing": ["company"], "allow_duplicates": true, "match_on": [] } })).await;
    let done = finish(&s, &owner2, id, "run").await;
    assert_eq!(done["run"]["created"], imported, "{:?}", rows(&s, &owner2, id, "run").await.iter().filter(|r| r["action"] != "create").collect::<Vec<_>>());
    let copy = s.get(&owner2, "/api/v1/contacts?last_name=Doe&limit=100").await.body["data"].as_array().unwrap().clone();
    let again = copy.iter().find(|c| c["description"] == iphone["description"] && c["middle_name"] == iphone["middle_name"]).unwrap();
    for field in ["first_name", "middle_name", "last_name", "emails", "description", "birthday"] {
        assert_eq!(again[field], iphone[field], "{field}");
    }
    let company2 = s.get(&owner2, &format!("/api/v1/companies/{}", again["primary_company_id"])).await.body;
    assert_eq!(company2["name"], "IBM", "the organization goes out and comes back");
    let e164 = |c: &Value| c["phones"].as_array().unwrap().iter().map(|p| p["e164"].clone()).collect::<Vec<_>>();
    assert_eq!(e164(again), e164(iphone));
    assert_eq!(s.get(&admin, "/api/v1/exports/companies?format=vcf").await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// The duplicate finder groups records by shared identifiers and by names that match across
/// alphabets and word order; reviewed groups merge in bulk, each merge undoable; another
/// workspace's records are never offered.
async fn duplicate_finder_and_bulk_merge(engine: Engine) {
    let s = start(engine).await;
    let ws = s.workspace("Дубли").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let petr = s.contact(&admin, json!({ "last_name": "Иванов", "first_name": "Пётр", "emails": ["petr@example.ru"] })).await;
    let petr_latin = s.contact(&admin, json!({ "last_name": "Ivanov", "first_name": "Petr", "phones": ["+7 916 111-22-33"] })).await;
    let petr_phone = s.contact(&admin, json!({ "last_name": "Петя", "phones": ["8 (916) 111-22-33"] })).await;
    let other = s.contact(&admin, json!({ "last_name": "Сидорова", "first_name": "Анна" })).await;
    let romashka = s.company(&admin, json!({ "name": "ООО «Ромашка»" })).await;
    let romashka_llc = s.company(&admin, json!({ "name": "Romashka LLC" })).await;

    let groups = s.get(&admin, "/api/v1/duplicates/contacts").await;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    let groups = groups.body.as_array().unwrap().clone();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let ids: Vec<i64> = groups[0]["records"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![petr, petr_latin, petr_phone], "the name joins the first two, the phone the third");
    assert_eq!(groups[0]["reasons"], json!(["same_phone", "same_name"]));
    assert_eq!(groups[0]["score"], 90);
    assert!(!ids.contains(&other));
    let companies = s.get(&admin, "/api/v1/duplicates/companies").await.body;
    let company_ids: Vec<i64> = companies[0]["records"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(company_ids, vec![romashka, romashka_llc], "legal forms and alphabets set aside");
    assert_eq!(companies[0]["reasons"], json!(["same_name"]));
    let typo_a = s.contact(&admin, json!({ "last_name": "Константинова", "first_name": "Мария" })).await;
    let typo_b = s.contact(&admin, json!({ "last_name": "Констатинова", "first_name": "Мария" })).await;
    let groups = s.get(&admin, "/api/v1/duplicates/contacts").await.body;
    let typo = groups.as_array().unwrap().iter().find(|g| g["reasons"] == json!(["similar_name"])).unwrap_or_else(|| panic!("no typo group in {groups}"));
    let typo_ids: Vec<i64> = typo["records"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!((typo_ids, typo["score"].as_i64()), (vec![typo_a, typo_b], Some(45)), "one letter apart, the weakest reason");
    for id in [typo_a, typo_b] {
        assert_eq!(s.delete(&admin, &format!("/api/v1/contacts/{id}")).await.status, StatusCode::NO_CONTENT);
    }

    // Another workspace is offered nothing of this one.
    let outsider_ws = s.workspace("Чужое").await;
    let outsider = s.user(outsider_ws, Role::Owner, "outsider").await;
    assert_eq!(s.get(&outsider, "/api/v1/duplicates/contacts").await.body, json!([]));
    assert_eq!(s.get(&admin, "/api/v1/duplicates/deals").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let merged = s.post(&admin, "/api/v1/duplicates/contacts/merge", json!({ "groups": [{ "survivor_id": petr, "merged_ids": [petr_latin, petr_phone] }] })).await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    let results = merged.body.as_array().unwrap().clone();
    assert!(results.iter().all(|r| r["merge_id"].is_i64()), "{results:?}");
    let survivor = s.get(&admin, &format!("/api/v1/contacts/{petr}")).await.body;
    assert_eq!(survivor["last_name"], "Иванов", "the survivor's values win");
    assert_eq!(survivor["phones"][0]["e164"], "+79161112233", "lists are united");
    assert_eq!(s.get(&admin, &format!("/api/v1/contacts/{petr_latin}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.get(&admin, "/api/v1/duplicates/contacts").await.body, json!([]));
    // The report of incomplete records: Анна has no e-mail or phone, nobody has a company.
    let quality = s.get(&admin, "/api/v1/data_quality/contacts").await;
    assert_eq!(quality.status, StatusCode::OK, "{}", quality.body);
    let finding = |check: &str| quality.body.as_array().unwrap().iter().find(|f| f["check"] == check).unwrap().clone();
    assert_eq!(finding("no_way_to_reach")["sample"], json!([other]));
    assert_eq!(finding("no_company")["count"], 2);
    assert_eq!(finding("inactive_owner")["count"], 0);
    assert_eq!(s.get(&admin, "/api/v1/data_quality/companies").await.body[1]["count"], 2, "no INN");
    let undo = s.post(&admin, &format!("/api/v1/merges/{}/undo", results[1]["merge_id"]), json!({})).await;
    assert_eq!(undo.status, StatusCode::OK, "{}", undo.body);
    assert_eq!(s.get(&admin, &format!("/api/v1/contacts/{petr_phone}")).await.status, StatusCode::OK, "the merge is undone");
}
