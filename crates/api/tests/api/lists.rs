use crate::both_engines;
use crate::harness::{Engine, start};
use accord_domain::permissions::Role;
use reqwest::StatusCode;
use serde_json::json;

both_engines!(saved_views_personal_and_shared, tags_renamed_merged_and_removed, keyset_pages_cover_everything_once, filters_and_sorting, search_finds_names_emails_phones, search_is_not_crowded_out_by_other_workspaces);

async fn keyset_pages_cover_everything_once(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let names = ["Яковлев", "Абрамов", "ёлкин", "Ёжиков", "Борисов", "абрамова", "Smith", "smith", "Zed", "Ánder"];
    let mut ids = Vec::new();
    for (i, n) in names.iter().cycle().take(37).enumerate() {
        // Some contacts share a last name and some have none, to exercise ties and NULLs.
        let body = if i % 9 == 0 { json!({"first_name": format!("Без фамилии {i}")}) } else { json!({"last_name": n, "first_name": format!("№{i}")}) };
        ids.push(s.contact(&u, body).await);
    }
    for sort in ["last_name", "-last_name", "id", "-id", "updated_at", "-created_at", "birthday"] {
        for limit in [1, 5, 50] {
            let mut got = s.all_ids(&u, &format!("/api/v1/contacts?sort={sort}&limit={limit}")).await;
            assert_eq!(got.len(), ids.len(), "sort={sort} limit={limit}");
            got.sort_unstable();
            let mut want = ids.clone();
            want.sort_unstable();
            assert_eq!(got, want, "sort={sort} limit={limit}");
        }
    }
    // Case- and ё-insensitive order, empty last.
    let r = s.get(&u, "/api/v1/contacts?sort=last_name&limit=500&fields=last_name").await;
    let order: Vec<String> = r.body["data"].as_array().expect("data").iter().map(|c| c["last_name"].as_str().unwrap_or("").to_lowercase()).collect();
    let non_empty: Vec<&String> = order.iter().filter(|s| !s.is_empty()).collect();
    assert!(order.iter().rev().take_while(|s| s.is_empty()).count() >= 4, "empty last names come last: {order:?}");
    let folded: Vec<String> = non_empty.iter().map(|s| s.replace('ё', "е")).collect();
    let mut sorted = folded.clone();
    sorted.sort();
    assert_eq!(folded, sorted);
    assert!(r.body["data"][0].get("phones").is_none(), "only the asked fields come back");
    assert!(r.body["data"][0].get("version").is_some());
    let counted = s.get(&u, "/api/v1/contacts?count=true&limit=1").await;
    assert_eq!(counted.body["count"], 37);
    assert_eq!(counted.body["count_capped"], false);
    assert!(s.get(&u, "/api/v1/contacts").await.body.get("count").is_none(), "no count unless asked");
    let other_sort = s.get(&u, "/api/v1/contacts?sort=id&limit=1").await.body["next_cursor"].as_str().expect("cursor").to_owned();
    assert_eq!(s.get(&u, &format!("/api/v1/contacts?sort=-id&cursor={other_sort}")).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn filters_and_sorting(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let a = s.user(ws, Role::Member, "ann").await;
    let b = s.user(ws, Role::Member, "bob").await;
    let ivanov = s.contact(&a, json!({"last_name": "Иванов", "tags": ["VIP", "опт"], "birthday": "1980-01-01", "emails": ["i@corp.ru"], "source": "web"})).await;
    let ivanova = s.contact(&a, json!({"last_name": "Иванова", "tags": ["опт"], "birthday": "1990-06-15", "phones": ["+7 495 123-45-67"]})).await;
    let petrov = s.contact(&b, json!({"last_name": "Петров", "tags": ["vip"], "source": "web"})).await;
    let ids = |path: &'static str| {
        let s = &s;
        let a = &a;
        async move {
            let mut v = s.all_ids(a, path).await;
            v.sort_unstable();
            v
        }
    };
    assert_eq!(ids("/api/v1/contacts?last_name[contains]=иван").await, vec![ivanov, ivanova]);
    assert_eq!(ids("/api/v1/contacts?last_name=ИВАНОВ").await, vec![ivanov]);
    assert_eq!(ids("/api/v1/contacts?tag=vip").await, vec![ivanov, petrov]);
    assert_eq!(ids("/api/v1/contacts?tag=vip&tag=опт").await, vec![ivanov], "filters combine with AND");
    assert_eq!(ids("/api/v1/contacts?tag[in]=vip,опт").await, vec![ivanov, ivanova, petrov]);
    let owner = format!("/api/v1/contacts?owner_id={}&tag=vip", b.id);
    let mut got = s.all_ids(&a, &owner).await;
    got.sort_unstable();
    assert_eq!(got, vec![petrov]);
    assert_eq!(ids("/api/v1/contacts?birthday[gte]=1985-01-01").await, vec![ivanova]);
    assert_eq!(ids("/api/v1/contacts?birthday[empty]=true").await, vec![petrov]);
    assert_eq!(ids("/api/v1/contacts?email[contains]=corp").await, vec![ivanov]);
    assert_eq!(ids("/api/v1/contacts?phone=84951234567").await, vec![ivanova]);
    assert_eq!(ids("/api/v1/contacts?phone[empty]=true").await, vec![ivanov, petrov]);
    assert_eq!(ids("/api/v1/contacts?source[ne]=web").await, vec![ivanova]);
    assert_eq!(ids("/api/v1/contacts?last_name[contains]=%25").await, Vec::<i64>::new(), "LIKE wildcards are literal");
    assert_eq!(ids("/api/v1/contacts?last_name[contains]=_").await, Vec::<i64>::new());
    // Injection attempts are values or unknown fields, never SQL.
    for bad in ["/api/v1/contacts?owner_id=1%20OR%201=1", "/api/v1/contacts?sort=id;DROP%20TABLE%20contacts", "/api/v1/contacts?last_name%5Bcontains%5D%5D=x", "/api/v1/contacts?password=x", "/api/v1/contacts?limit=0", "/api/v1/contacts?cf.nope=1", "/api/v1/contacts?birthday[contains]=19"] {
        let r = s.get(&a, bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", r.body);
        assert!(!r.field_errors().is_empty());
    }
    let r = s.get(&a, "/api/v1/contacts?last_name='%20OR%20''='").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["data"], json!([]));
    assert_eq!(s.count_rows("contacts").await, 3);
}

async fn search_finds_names_emails_phones(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Acme").await;
    let u = s.user(ws, Role::Member, "ann").await;
    let ivanov = s.contact(&u, json!({"last_name": "Иванов", "first_name": "Пётр", "emails": ["p.ivanov@romashka.ru"], "phones": ["8 (916) 555-12-34"], "tags": ["ключевой"]})).await;
    let smith = s.contact(&u, json!({"last_name": "Smith", "first_name": "John", "emails": ["john.smith@contoso.com"]})).await;
    let company = s.company(&u, json!({"name": "Ромашка", "inn": "7725088527"})).await;
    let hits = |q: &str| {
        let url = format!("/api/v1/search?q={}", q.replace(' ', "%20").replace('+', "%2B"));
        let s = &s;
        let u = &u;
        async move { s.get(u, &url).await.body["data"].as_array().expect("hits").iter().map(|h| (h["entity"].as_str().unwrap_or("").to_owned(), h["id"].as_i64().unwrap_or(0))).collect::<Vec<_>>() }
    };
    assert_eq!(hits("Ива").await, vec![("contact".into(), ivanov)], "prefix");
    assert_eq!(hits("иванов пётр").await, vec![("contact".into(), ivanov)]);
    assert_eq!(hits("ПЕТР").await, vec![("contact".into(), ivanov)], "ё and case fold");
    assert_eq!(hits("romashka").await, vec![("contact".into(), ivanov)]);
    assert_eq!(hits("john.smith@contoso.com").await, vec![("contact".into(), smith)]);
    assert_eq!(hits("smi").await, vec![("contact".into(), smith)]);
    for phone in ["+7 916 555-12-34", "89165551234", "(916) 555", "5551234"] {
        assert_eq!(hits(phone).await, vec![("contact".into(), ivanov)], "{phone}");
    }
    assert_eq!(hits("7725088527").await, vec![("company".into(), company)]);
    assert_eq!(hits("Ромаш").await[0], ("company".into(), company));
    assert_eq!(hits("ключ").await, vec![("contact".into(), ivanov)], "tags");
    assert!(hits("\"*) OR 1=1 --").await.is_empty());
    assert!(hits("").await.is_empty());
    let only_companies = s.get(&u, "/api/v1/search?q=ромашка&entity=company").await;
    assert_eq!(only_companies.body["data"].as_array().expect("hits").len(), 1);
}

/// Another workspace's many newer matches must not hide ours.
async fn search_is_not_crowded_out_by_other_workspaces(e: Engine) {
    let s = start(e).await;
    let mine = s.workspace("Acme").await;
    let theirs = s.workspace("Globex").await;
    let me = s.user(mine, Role::Member, "ann").await;
    let id = s.contact(&me, json!({"last_name": "Общинов"})).await;
    let them = s.user(theirs, Role::Owner, "bob").await;
    let principal = accord_storage::accounts::principal_for(&s.db, theirs, them.id).await.expect("principal");
    let many: Vec<serde_json::Map<String, serde_json::Value>> = (0..600).map(|i| json!({"last_name": format!("Общинов {i}")}).as_object().cloned().expect("object")).collect();
    accord_storage::records::create_many(&s.db, &principal, accord_domain::entities::Entity::Contact, &many, &[], "import").await.expect("bulk");
    let hits = s.get(&me, "/api/v1/search?q=общин").await.body["data"].clone();
    assert_eq!(hits.as_array().expect("hits").len(), 1, "{hits}");
    assert_eq!(hits[0]["id"], id);
    assert_eq!(s.get(&them, "/api/v1/search?q=общин&limit=100").await.body["data"].as_array().expect("hits").len(), 100);
}

async fn saved_views_personal_and_shared(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Виды").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let ann = s.user(ws, Role::Member, "ann").await;
    let bob = s.user(ws, Role::Member, "bob").await;
    for (title, amount, who) in [("Крупная", "500000", &ann), ("Мелкая", "1000", &ann), ("Чужая", "900000", &bob)] {
        assert_eq!(s.post(who, "/api/v1/deals", json!({"title": title, "amount": amount})).await.status, StatusCode::CREATED);
    }
    let mine = s.post(&ann, "/api/v1/views", json!({"entity": "deals", "name": " Мои крупные ", "params": {"owner_id": ann.id, "amount[gte]": "100000", "sort": "-amount"}, "columns": ["title", "amount", "stage_id"]})).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    assert_eq!((mine.body["name"].as_str(), mine.body["editable"].as_bool(), mine.body["shared"].as_bool()), (Some("Мои крупные"), Some(true), Some(false)));
    // The view's parameters are the list's own: applied, they give the view's records.
    let query: Vec<(String, String)> = mine.body["params"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
    let url = format!("/api/v1/deals?{}", serde_urlencoded::to_string(&query).unwrap());
    let found = s.get(&ann, &url).await.body["data"].as_array().unwrap().iter().map(|d| d["title"].clone()).collect::<Vec<_>>();
    assert_eq!(found, [json!("Крупная")]);

    let bad = s.post(&ann, "/api/v1/views", json!({"entity": "deals", "name": "", "params": {"nope": "1", "limit": "5"}, "columns": ["salary"]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.field_errors(), ["name", "params.limit", "params.nope", "columns[0]"]);
    assert_eq!(s.post(&ann, "/api/v1/views", json!({"entity": "deals", "name": "Для всех", "shared": true})).await.status, StatusCode::FORBIDDEN, "members do not share");
    let shared = s.post(&admin, "/api/v1/views", json!({"entity": "deals", "name": "Открытые", "params": {"status": "open"}, "shared": true})).await;
    assert_eq!(shared.status, StatusCode::CREATED, "{}", shared.body);

    let names = |v: serde_json::Value| v.as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(s.get(&ann, "/api/v1/views?entity=deals").await.body), ["Открытые", "Мои крупные"], "shared first, then one's own");
    assert_eq!(names(s.get(&bob, "/api/v1/views?entity=deals").await.body), ["Открытые"], "another's personal view is not shown");
    assert_eq!(s.get(&ann, "/api/v1/views?entity=contacts").await.body, json!([]));
    assert_eq!(s.patch(&ann, &format!("/api/v1/views/{}", shared.id()), json!({"version": 1, "name": "x"})).await.status, StatusCode::FORBIDDEN);
    assert_eq!(s.patch(&bob, &format!("/api/v1/views/{}", mine.id()), json!({"version": 1, "name": "x"})).await.status, StatusCode::NOT_FOUND);

    let renamed = s.patch(&ann, &format!("/api/v1/views/{}", mine.id()), json!({"version": 1, "name": "Крупные"})).await;
    assert_eq!((renamed.status, renamed.body["version"].as_i64(), renamed.body["columns"].clone()), (StatusCode::OK, Some(2), json!(["title", "amount", "stage_id"])));
    assert_eq!(s.patch(&ann, &format!("/api/v1/views/{}", mine.id()), json!({"version": 1, "name": "Снова"})).await.status, StatusCode::CONFLICT);

    let other_ws = s.workspace("Другое").await;
    let stranger = s.user(other_ws, Role::Owner, "stranger").await;
    assert_eq!(s.delete(&stranger, &format!("/api/v1/views/{}", shared.id())).await.status, StatusCode::NOT_FOUND);
    assert_eq!(s.delete(&ann, &format!("/api/v1/views/{}", mine.id())).await.status, StatusCode::NO_CONTENT);
    assert_eq!(names(s.get(&ann, "/api/v1/views?entity=deals").await.body), ["Открытые"]);
}

async fn tags_renamed_merged_and_removed(e: Engine) {
    let s = start(e).await;
    let ws = s.workspace("Теги").await;
    let admin = s.user(ws, Role::Admin, "admin").await;
    let ann = s.user(ws, Role::Member, "ann").await;
    let a = s.contact(&ann, json!({"last_name": "А", "tags": ["VIP", "опт"]})).await;
    let b = s.contact(&ann, json!({"last_name": "Б", "tags": ["vip"]})).await;
    let c = s.contact(&ann, json!({"last_name": "В", "tags": ["ключевой"]})).await;
    let counts = s.get(&admin, "/api/v1/tags?entity=contacts").await;
    assert_eq!(counts.body, json!([{"tag": "vip", "records": 2}, {"tag": "ключевой", "records": 1}, {"tag": "опт", "records": 1}]));
    assert_eq!(s.get(&ann, "/api/v1/tags?entity=contacts").await.status, StatusCode::FORBIDDEN);

    // "ключевой" merges into "vip"; "опт" is renamed; the changes are the records' own edits.
    let merged = s.post(&admin, "/api/v1/tags/change", json!({"entity": "contacts", "tag": "Ключевой", "rename_to": "VIP"})).await;
    assert_eq!(merged.body["records"], 1, "{}", merged.body);
    assert_eq!(s.post(&admin, "/api/v1/tags/change", json!({"entity": "contacts", "tag": "опт", "rename_to": "оптовик"})).await.body["records"], 1);
    let tags_of = |id: i64| {
        let s = &s;
        let admin = &admin;
        async move { s.get(admin, &format!("/api/v1/contacts/{id}")).await.body["tags"].clone() }
    };
    assert_eq!((tags_of(a).await, tags_of(c).await), (json!(["vip", "оптовик"]), json!(["vip"])));
    let history = s.get(&admin, &format!("/api/v1/contacts/{c}/history")).await.body;
    assert!(history.to_string().contains("ключевой"), "audited as an edit: {history}");
    assert_eq!(s.get(&admin, "/api/v1/tags?entity=contacts").await.body[0], json!({"tag": "vip", "records": 3}));

    let removed = s.post(&admin, "/api/v1/tags/change", json!({"entity": "contacts", "tag": "vip"})).await;
    assert_eq!(removed.body["records"], 3);
    assert_eq!(tags_of(b).await, json!([]));
    assert_eq!(s.post(&admin, "/api/v1/tags/change", json!({"entity": "contacts", "tag": "x", "rename_to": " "})).await.field_errors(), ["rename_to"]);
    assert_eq!(s.get(&admin, "/api/v1/tags?entity=nope").await.field_errors(), ["entity"]);
}
