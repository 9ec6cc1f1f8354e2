use crate::both_engines;
use crate::harness::{Engine, start};
use accord_domain::permissions::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;

both_engines!(concurrent_duplicates_make_one_record, contact_lifecycle, side_rows_follow_updates, company_identifiers_and_contacts, duplicates_merge_and_undo, custom_fields_typed_and_filterable, notes_and_timeline, trash_retention);

async fn contact_lifecycle(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let r = s
        .post(
            &u,
            "/api/v1/contacts",
            json!({
                "last_name": "  Иванов ", "first_name": "Иван", "middle_name": "Иванович", "position": "Директор",
                "emails": [{"value": "Ivanov@ПОЧТА.РФ", "type": "work"}], "phones": ["8 (916) 123-45-67"],
                "addresses": [{"type": "work", "city": "Москва"}], "birthday": "1980-05-17", "tags": ["VIP"],
                "marketing_consent": {"given": true, "at": "2025-01-02T03:04:05+03:00", "method": "web form"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    assert_eq!(r.body["last_name"], "Иванов");
    assert_eq!(r.body["emails"][0]["value"], "Ivanov@почта.рф");
    assert_eq!(r.body["phones"][0]["e164"], "+79161234567");
    assert_eq!(r.body["phones"][0]["original"], "8 (916) 123-45-67");
    assert_eq!(r.body["marketing_consent"]["at"], "2025-01-02T00:04:05.000Z", "stored in UTC");
    assert_eq!(r.body["tags"], json!(["vip"]));
    assert_eq!(r.body["owner_id"], u.id);
    assert_eq!(r.body["version"], 1);
    assert_eq!(r.headers["etag"], "\"1\"");
    assert_eq!(r.headers["location"], format!("/api/v1/contacts/{id}").as_str());

    let path = format!("/api/v1/contacts/{id}");
    let r = s.patch(&u, &path, json!({"position": "Коммерческий директор", "version": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["version"], 2);
    assert_eq!(r.body["emails"][0]["value"], "Ivanov@почта.рф", "a patch keeps what it does not name");
    // A stale version changes nothing.
    let stale = s.patch(&u, &path, json!({"position": "Уборщик", "version": 1})).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.body["code"], "version_conflict");
    assert_eq!(stale.body["current_version"], 2);
    let mut req = s.http.patch(format!("{}{path}", s.base)).bearer_auth(&u.token).header("if-match", "\"1\"").json(&json!({"position": "Уборщик"}));
    assert_eq!(req.send().await.expect("patch").status(), StatusCode::CONFLICT);
    req = s.http.patch(format!("{}{path}", s.base)).bearer_auth(&u.token).header("if-match", "\"2\"").json(&json!({"first_name": "Пётр"}));
    assert_eq!(req.send().await.expect("patch").status(), StatusCode::OK);
    assert_eq!(s.get(&u, &path).await.body["position"], "Коммерческий директор");

    // History has old and new values of each change.
    let h = s.get(&u, &format!("{path}/history")).await;
    let actions: Vec<&str> = h.body["data"].as_array().expect("data").iter().map(|e| e["action"].as_str().expect("action")).collect();
    assert_eq!(actions, vec!["update", "update", "create"]);
    assert_eq!(h.body["data"][1]["changes"]["position"], json!(["Директор", "Коммерческий директор"]));
    assert_eq!(h.body["data"][0]["actor_id"], u.id);

    // Delete goes to the trash; restore brings it back, identifiers included.
    assert_eq!(s.delete(&u, &path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&u, &path).await.status, StatusCode::NOT_FOUND);
    assert!(s.all_ids(&u, "/api/v1/contacts").await.is_empty());
    assert_eq!(s.all_ids(&u, "/api/v1/contacts/trash").await, vec![id]);
    assert!(s.get(&u, "/api/v1/search?q=Иванов").await.body["data"].as_array().expect("hits").is_empty());
    let r = s.post(&u, &format!("{path}/restore"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["deleted_at"], serde_json::Value::Null);
    assert_eq!(s.get(&u, "/api/v1/search?q=Иванов").await.body["data"][0]["id"], id);
    assert_eq!(s.post(&u, "/api/v1/contacts", json!({"last_name": "Другой", "phones": ["+7 916 123 45 67"]})).await.status, StatusCode::CONFLICT, "identifiers are back after restore");
    // Purge is for admins, and only from the trash.
    let admin = s.user(ws, Role::Admin, "root").await;
    assert_eq!(s.post(&admin, &format!("{path}/purge"), json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&u, &path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.post(&u, &format!("{path}/purge"), json!({})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.post(&admin, &format!("{path}/purge"), json!({})).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.post(&admin, &format!("{path}/restore"), json!({})).await.status, StatusCode::NOT_FOUND);
    let audit = s.get(&admin, "/api/v1/audit?limit=3").await;
    assert_eq!(audit.body["data"][0]["action"], "purge");
    assert_eq!(s.get(&u, "/api/v1/audit").await.status, StatusCode::FORBIDDEN);
}

/// Keys, tags and the search document are rewritten only when an update changes them: an
/// edit that leaves them alone keeps them working, one that changes them leaves nothing
/// of the old values behind.
async fn side_rows_follow_updates(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let r = s.post(&u, "/api/v1/contacts", json!({"last_name": "Сидорова", "emails": ["sid@oldmail.ru"], "tags": ["опт"]})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (id, path) = (r.id(), format!("/api/v1/contacts/{}", r.id()));
    let hits = |q: &str| format!("/api/v1/search?q={q}");
    let r = s.patch(&u, &path, json!({"position": "Бухгалтер"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.get(&u, &hits("oldmail")).await.body["data"][0]["id"], id);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?tag=опт").await, vec![id]);
    assert_eq!(s.post(&u, "/api/v1/contacts", json!({"last_name": "Другая", "emails": ["sid@oldmail.ru"]})).await.status, StatusCode::CONFLICT);

    let r = s.patch(&u, &path, json!({"last_name": "Петрова", "emails": ["sid@newmail.ru"], "tags": ["розница"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(s.get(&u, &hits("oldmail")).await.body["data"].as_array().expect("hits").is_empty());
    assert!(s.get(&u, &hits("Сидорова")).await.body["data"].as_array().expect("hits").is_empty());
    let found = s.get(&u, &hits("newmail")).await;
    assert_eq!(found.body["data"][0]["id"], id);
    assert_eq!(found.body["data"][0]["display_name"], "Петрова");
    assert!(s.all_ids(&u, "/api/v1/contacts?tag=опт").await.is_empty());
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?tag=розница").await, vec![id]);
    assert_eq!(s.post(&u, "/api/v1/contacts", json!({"last_name": "Другая", "emails": ["sid@oldmail.ru"]})).await.status, StatusCode::CREATED);
    assert_eq!(s.post(&u, "/api/v1/contacts", json!({"last_name": "Третья", "emails": ["sid@newmail.ru"]})).await.status, StatusCode::CONFLICT);
}

async fn company_identifiers_and_contacts(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let r = s
        .post(
            &u,
            "/api/v1/companies",
            json!({"name": "Ромашка", "legal_name": "ООО «Ромашка»", "inn": "7725088527", "kpp": "773301001", "ogrn": "1027812400868",
                   "bank": {"bik": "044525225", "correspondent_account": "30101810400000000225", "settlement_account": "40702810200000012345", "bank_name": "Сбербанк"},
                   "website": "www.Romashka.ru", "employees": 120, "annual_revenue": {"amount": "1234567.89", "currency": "rub"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let company = r.id();
    assert_eq!(r.body["domain"], "romashka.ru");
    assert_eq!(r.body["annual_revenue"], json!({"amount": "1234567.89", "currency": "RUB"}));
    let ip = s.post(&u, "/api/v1/companies", json!({"name": "ИП Петров", "kind": "sole_proprietor", "inn": "500100732259", "ogrn": "304500116000157"})).await;
    assert_eq!(ip.status, StatusCode::CREATED, "{}", ip.body);
    let bad = s
        .post(&u, "/api/v1/companies", json!({"name": "X", "inn": "7725088528", "kpp": "7733az001", "ogrn": "1027812400869", "bank": {"bik": "044525225", "settlement_account": "40702810200000012346"}}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_errors(), vec!["inn", "kpp", "ogrn", "bank.settlement_account"]);
    let wrong_kind = s.post(&u, "/api/v1/companies", json!({"name": "X", "kind": "sole_proprietor", "inn": "7725088527"})).await;
    assert_eq!(wrong_kind.field_errors(), vec!["inn"], "a sole proprietor has a 12-digit INN");
    // The company's contacts: primary or other company.
    let a = s.contact(&u, json!({"last_name": "Первый", "primary_company_id": company})).await;
    let b = s.contact(&u, json!({"last_name": "Второй", "company_ids": [company]})).await;
    s.contact(&u, json!({"last_name": "Чужой"})).await;
    let mut ids = s.all_ids(&u, &format!("/api/v1/contacts?company_id={company}&sort=id")).await;
    ids.sort_unstable();
    assert_eq!(ids, vec![a, b]);
    // A purged company leaves its contacts, audited.
    let admin = s.user(ws, Role::Admin, "root").await;
    let gone = s.company(&u, json!({"name": "Закрытая"})).await;
    let linked = s.contact(&u, json!({"last_name": "Связанный", "primary_company_id": gone, "company_ids": [company]})).await;
    assert_eq!(s.delete(&u, &format!("/api/v1/companies/{gone}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.post(&admin, &format!("/api/v1/companies/{gone}/purge"), json!({})).await.status, StatusCode::NO_CONTENT);
    let after = s.get(&u, &format!("/api/v1/contacts/{linked}")).await;
    assert_eq!(after.body["primary_company_id"], serde_json::Value::Null);
    assert_eq!(after.body["company_ids"], json!([company]));
    assert_eq!(s.get(&u, &format!("/api/v1/contacts/{linked}/history?limit=1")).await.body["data"][0]["changes"]["primary_company_id"], json!([gone, null]));
    let missing = s.post(&u, "/api/v1/contacts", json!({"last_name": "Y", "primary_company_id": 999_999})).await;
    assert_eq!(missing.field_errors(), vec!["primary_company_id"]);
    // INN search and filter.
    assert_eq!(s.get(&u, "/api/v1/search?q=7725088527").await.body["data"][0]["id"], company);
    assert_eq!(s.all_ids(&u, "/api/v1/companies?inn=7725088527").await, vec![company]);
    assert_eq!(s.all_ids(&u, "/api/v1/companies?annual_revenue[gte]=1000000&annual_revenue[lt]=2000000").await, vec![company]);
}

async fn duplicates_merge_and_undo(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Manager, "ann").await;
    let first = s.post(&u, "/api/v1/contacts", json!({"last_name": "Иванов", "first_name": "Иван", "emails": ["ivan@example.com"], "phones": ["+7 916 123-45-67"], "tags": ["a"]})).await;
    let keep = first.id();
    let dup = s.post(&u, "/api/v1/contacts", json!({"last_name": "Иванов", "emails": ["IVAN@example.com"]})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.body["code"], "duplicate");
    assert_eq!(dup.body["duplicates"][0]["id"], keep);
    assert_eq!(dup.body["duplicates"][0]["matched_on"], "email");
    let dup_phone = s.post(&u, "/api/v1/contacts", json!({"last_name": "Иванов", "phones": ["89161234567"]})).await;
    assert_eq!(dup_phone.body["duplicates"][0]["matched_on"], "phone");
    let other = s.post(&u, "/api/v1/contacts?allow_duplicates=true", json!({"last_name": "Иванов-Второй", "position": "Закупщик", "emails": ["ivan@example.com", "ivan2@example.com"], "tags": ["b"]})).await;
    assert_eq!(other.status, StatusCode::CREATED);
    let gone = other.id();
    let note = s.post(&u, &format!("/api/v1/contacts/{gone}/notes"), json!({"body": "Звонил **вчера**"})).await;
    assert_eq!(note.status, StatusCode::CREATED);

    let m = s.post(&u, &format!("/api/v1/contacts/{keep}/merge"), json!({"merged_id": gone, "take_from_merged": ["last_name", "position"]})).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.body);
    let merge_id = m.body["merge_id"].as_i64().expect("merge id");
    let merged = &m.body["record"];
    assert_eq!(merged["last_name"], "Иванов-Второй");
    assert_eq!(merged["first_name"], "Иван");
    assert_eq!(merged["position"], "Закупщик");
    assert_eq!(merged["emails"].as_array().expect("emails").len(), 2, "e-mails are united: {merged}");
    assert_eq!(merged["tags"], json!(["a", "b"]));
    assert_eq!(s.get(&u, &format!("/api/v1/contacts/{gone}")).await.status, StatusCode::NOT_FOUND);
    let notes = s.get(&u, &format!("/api/v1/contacts/{keep}/notes")).await;
    assert_eq!(notes.body[0]["body"], "Звонил **вчера**", "notes move to the survivor");

    let undo = s.post(&u, &format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(undo.status, StatusCode::OK, "{}", undo.body);
    assert_eq!(undo.body["last_name"], "Иванов");
    assert_eq!(undo.body["position"], serde_json::Value::Null);
    let back = s.get(&u, &format!("/api/v1/contacts/{gone}")).await;
    assert_eq!(back.status, StatusCode::OK);
    assert_eq!(back.body["position"], "Закупщик");
    assert_eq!(s.get(&u, &format!("/api/v1/contacts/{gone}/notes")).await.body[0]["body"], "Звонил **вчера**");
    assert_eq!(s.get(&u, &format!("/api/v1/contacts/{keep}/notes")).await.body, json!([]));
    assert_eq!(s.post(&u, &format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.status, StatusCode::NOT_FOUND, "undone once");
    // An undo that would discard a later edit is refused.
    let m2 = s.post(&u, &format!("/api/v1/contacts/{keep}/merge"), json!({"merged_id": gone})).await;
    let m2_id = m2.body["merge_id"].as_i64().expect("merge id");
    s.patch(&u, &format!("/api/v1/contacts/{keep}"), json!({"position": "Позже"})).await;
    assert_eq!(s.post(&u, &format!("/api/v1/merges/{m2_id}/undo"), json!({})).await.status, StatusCode::CONFLICT);
    assert_eq!(s.post(&u, &format!("/api/v1/contacts/{keep}/merge"), json!({"merged_id": keep})).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn custom_fields_typed_and_filterable(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let admin = s.user(ws, Role::Admin, "root").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let def = |key: &str, t: &str, extra: serde_json::Value| {
        let mut v = json!({"entity": "contact", "key": key, "label": key, "field_type": t});
        if let (Some(o), Some(x)) = (v.as_object_mut(), extra.as_object()) {
            o.extend(x.clone());
        }
        v
    };
    assert_eq!(s.post(&u, "/api/v1/custom_fields", def("region", "select", json!({"options": ["Север", "Юг"]}))).await.status, StatusCode::FORBIDDEN);
    for body in [
        def("region", "select", json!({"options": ["Север", "Юг"]})),
        def("budget", "money", json!({})),
        def("club_card", "text", json!({"unique": true})),
        def("next_call", "date_time", json!({})),
        def("vip", "boolean", json!({})),
    ] {
        let r = s.post(&admin, "/api/v1/custom_fields", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let bad_def = s.post(&admin, "/api/v1/custom_fields", def("Bad Key", "select", json!({}))).await;
    assert_eq!(bad_def.field_errors(), vec!["key", "options"]);
    let a = s.contact(&u, json!({"last_name": "A", "custom_fields": {"region": "Север", "budget": {"amount": "1500.50", "currency": "RUB"}, "club_card": "C-1", "vip": true}})).await;
    let b = s.contact(&u, json!({"last_name": "B", "custom_fields": {"region": "Юг", "budget": {"amount": "99", "currency": "RUB"}, "club_card": "C-2"}})).await;
    let c = s.contact(&u, json!({"last_name": "C"})).await;
    let bad = s.post(&u, "/api/v1/contacts", json!({"last_name": "D", "custom_fields": {"region": "Запад", "budget": {"amount": "x"}, "vip": "yes", "next_call": "tomorrow", "nope": 1}})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = bad.field_errors();
    fields.sort();
    assert_eq!(fields, vec!["custom_fields.budget", "custom_fields.next_call", "custom_fields.nope", "custom_fields.region", "custom_fields.vip"]);
    let dup = s.post(&u, "/api/v1/contacts", json!({"last_name": "E", "custom_fields": {"club_card": "c-1"}})).await;
    assert_eq!(dup.field_errors(), vec!["custom_fields.club_card"], "unique values compare case-insensitively");
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?cf.region=Север").await, vec![a]);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?cf.budget[gt]=100").await, vec![a]);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?cf.vip=true").await, vec![a]);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?cf.region[empty]=true").await, vec![c]);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?cf.budget[gt]=0&sort=cf.budget").await, vec![b, a]);
    assert_eq!(s.all_ids(&u, "/api/v1/contacts?sort=-cf.budget&limit=1").await, vec![a, b, c], "sorted descending, empty last, page by page");
    // Deleting a field takes its values out of the records, audited.
    let fields = s.get(&admin, "/api/v1/custom_fields").await;
    let region = fields.body.as_array().expect("fields").iter().find(|f| f["key"] == "region").expect("region")["id"].as_i64().expect("id");
    assert_eq!(s.delete(&admin, &format!("/api/v1/custom_fields/{region}")).await.status, StatusCode::NO_CONTENT);
    let after = s.get(&u, &format!("/api/v1/contacts/{a}")).await;
    assert!(after.body["custom_fields"].get("region").is_none(), "{}", after.body);
    assert_eq!(after.body["custom_fields"]["vip"], true);
    let h = s.get(&u, &format!("/api/v1/contacts/{a}/history?limit=1")).await;
    assert_eq!(h.body["data"][0]["changes"]["custom_fields"][0]["region"], "Север");
    assert_eq!(s.get(&u, "/api/v1/contacts?cf.region=Север").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.patch(&u, &format!("/api/v1/contacts/{a}"), json!({"last_name": "A2"})).await.status, StatusCode::OK);
    // A new required field cannot be added once records exist.
    let req = s.post(&admin, "/api/v1/custom_fields", def("inn_required", "text", json!({"required": true}))).await;
    assert_eq!(req.field_errors(), vec!["required"]);
}

async fn notes_and_timeline(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let id = s.contact(&u, json!({"last_name": "Хронологов"})).await;
    let path = format!("/api/v1/contacts/{id}");
    for i in 0..3 {
        assert_eq!(s.post(&u, &format!("{path}/notes"), json!({"body": format!("Заметка {i} <script>alert(1)</script>")})).await.status, StatusCode::CREATED);
        s.patch(&u, &path, json!({"position": format!("Должность {i}")})).await;
    }
    assert_eq!(s.post(&u, &format!("{path}/notes"), json!({"body": "   "})).await.field_errors(), vec!["body"]);
    let t = s.get(&u, &format!("{path}/timeline?limit=4")).await;
    let kinds: Vec<&str> = t.body["data"].as_array().expect("data").iter().map(|e| e["kind"].as_str().expect("kind")).collect();
    assert_eq!(kinds, vec!["change", "note", "change", "note"], "newest first");
    let cursor = t.body["next_cursor"].as_str().expect("more");
    let rest = s.get(&u, &format!("{path}/timeline?limit=4&cursor={cursor}")).await;
    assert_eq!(rest.body["data"].as_array().expect("data").len(), 3);
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);
    assert_eq!(s.get(&u, &format!("{path}/timeline?cursor=garbage")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let notes = s.get(&u, &format!("{path}/notes")).await;
    assert_eq!(notes.body[0]["body"], "Заметка 2 <script>alert(1)</script>", "the Markdown is kept as written");
    let html = notes.body[0]["body_html"].as_str().expect("html");
    assert!(html.contains("Заметка 2") && !html.contains("<script"), "{html}");
    let note_id = notes.body[0]["id"].as_i64().expect("note id");
    let stranger = s.user(ws, Role::ReadOnly, "ro").await;
    assert_eq!(s.call(Some(&stranger), Method::DELETE, &format!("/api/v1/notes/{note_id}"), None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.delete(&u, &format!("/api/v1/notes/{note_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(&u, &format!("{path}/notes")).await.body.as_array().expect("notes").len(), 2);
}

/// Ten clients create the same person at once: exactly one record results.
async fn concurrent_duplicates_make_one_record(e: Engine) {
    let s = std::sync::Arc::new(start(e).await);
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (s, u) = (s.clone(), u.clone());
        tasks.push(tokio::spawn(async move { s.post(&u, "/api/v1/contacts", json!({"last_name": format!("Гонка {i}"), "emails": ["race@example.com"]})).await.status }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.expect("task") {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(s.count_rows("contacts").await, 1);
}

/// Trash older than each workspace's retention is purged; newer trash, live records and
/// other workspaces' trash within their own retention stay.
async fn trash_retention(e: Engine) {
    let s = start(e).await;
    let (acme, other) = (s.workspace("Acme").await, s.workspace("Other").await);
    let (ann, bob) = (s.user(acme, Role::Member, "ann").await, s.user(other, Role::Member, "bob").await);
    let old = s.contact(&ann, json!({"last_name": "Старый"})).await;
    let recent = s.contact(&ann, json!({"last_name": "Недавний"})).await;
    let live = s.contact(&ann, json!({"last_name": "Живой"})).await;
    let elsewhere = s.contact(&bob, json!({"last_name": "Чужой"})).await;
    for (u, id) in [(&ann, old), (&ann, recent), (&bob, elsewhere)] {
        assert_eq!(s.delete(u, &format!("/api/v1/contacts/{id}")).await.status, StatusCode::NO_CONTENT);
    }
    let day = 86_400_000i64;
    let now = accord_storage::now_ms();
    accord_storage::query("UPDATE workspaces SET trash_retention_days = $1 WHERE id = $2").bind(30i64).bind(acme).execute(&s.db).await.expect("retention");
    accord_storage::query("UPDATE workspaces SET trash_retention_days = $1 WHERE id = $2").bind(90i64).bind(other).execute(&s.db).await.expect("retention");
    for (id, days) in [(old, 31), (recent, 29), (elsewhere, 31)] {
        accord_storage::query("UPDATE contacts SET deleted_at = $1 WHERE id = $2").bind(now - days * day).bind(id).execute(&s.db).await.expect("age");
    }
    assert_eq!(accord_storage::records::purge_expired(&s.db).await.expect("purge"), 1);
    let trash = s.all_ids(&ann, "/api/v1/contacts/trash").await;
    assert_eq!(trash, vec![recent], "only the contact past 30 days is gone");
    assert_eq!(s.all_ids(&ann, "/api/v1/contacts").await, vec![live]);
    assert_eq!(s.all_ids(&bob, "/api/v1/contacts/trash").await, vec![elsewhere], "31 days is within the other workspace's 90");
}
