//! The demo workspace: users in two teams with different roles, a few hundred realistic
//! Russian and English contacts and companies, a catalogue, and two years of sales — deals
//! won, lost and open, leads, activities and tasks. Deterministic apart from the dates,
//! which are relative to the day it is loaded.
use accord_domain::entities::Entity;
use accord_domain::permissions::Role;
use accord_domain::ru_ids;
use accord_domain::sample::Seq;
use accord_storage::records::{self, WriteOptions};
use accord_storage::{Db, accounts};

use serde_json::{Map, Value, json};

pub const WORKSPACE: &str = "Демо";
pub const PASSWORD: &str = "demo-password";
const CONTACTS: usize = 320;
const COMPANIES: usize = 90;

const USERS: [(&str, &str, Role, Option<&str>); 8] = [
    ("owner@example.com", "Анна Смирнова", Role::Owner, None),
    ("admin@example.com", "Игорь Волков", Role::Admin, None),
    ("manager.msk@example.com", "Ольга Кузнецова", Role::Manager, Some("Москва")),
    ("sales1.msk@example.com", "Дмитрий Орлов", Role::Member, Some("Москва")),
    ("sales2.msk@example.com", "Emily Carter", Role::Member, Some("Москва")),
    ("manager.spb@example.com", "Сергей Павлов", Role::Manager, Some("Санкт-Петербург")),
    ("sales1.spb@example.com", "Мария Лебедева", Role::Member, Some("Санкт-Петербург")),
    ("auditor@example.com", "Виктор Зайцев", Role::ReadOnly, None),
];

const RU_LAST_M: [&str; 20] = ["Иванов", "Петров", "Сидоров", "Смирнов", "Кузнецов", "Попов", "Васильев", "Соколов", "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов"];
const RU_FIRST_M: [&str; 12] = ["Александр", "Алексей", "Андрей", "Дмитрий", "Евгений", "Иван", "Максим", "Михаил", "Никита", "Олег", "Павел", "Сергей"];
const RU_FIRST_F: [&str; 12] = ["Анна", "Екатерина", "Елена", "Ирина", "Мария", "Наталья", "Ольга", "Светлана", "Татьяна", "Юлия", "Дарья", "Ксения"];
const RU_MIDDLE_M: [&str; 8] = ["Александрович", "Сергеевич", "Иванович", "Петрович", "Дмитриевич", "Андреевич", "Николаевич", "Викторович"];
const RU_MIDDLE_F: [&str; 8] = ["Александровна", "Сергеевна", "Ивановна", "Петровна", "Дмитриевна", "Андреевна", "Николаевна", "Викторовна"];
const EN_LAST: [&str; 12] = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Anderson", "Thomas", "Moore"];
const EN_FIRST: [&str; 12] = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Susan", "Daniel", "Sarah"];
const TRANSLIT: [(char, &str); 33] = [
    ('а', "a"), ('б', "b"), ('в', "v"), ('г', "g"), ('д', "d"), ('е', "e"), ('ё', "e"), ('ж', "zh"), ('з', "z"), ('и', "i"), ('й', "y"), ('к', "k"), ('л', "l"), ('м', "m"), ('н', "n"), ('о', "o"), ('п', "p"),
    ('р', "r"), ('с', "s"), ('т', "t"), ('у', "u"), ('ф', "f"), ('х', "kh"), ('ц', "ts"), ('ч', "ch"), ('ш', "sh"), ('щ', "shch"), ('ъ', ""), ('ы', "y"), ('ь', ""), ('э', "e"), ('ю', "yu"), ('я', "ya"),
];
const RU_COMPANY_WORDS: [&str; 20] = ["Ромашка", "Вектор", "Север", "Альфа-Строй", "ТехноПром", "Гранит", "Меридиан", "Восход", "Радуга", "Союз", "Лотос", "Импульс", "Эталон", "Кристалл", "Аврора", "Балтика", "Орион", "Сфера", "Горизонт", "Спектр"];
const RU_COMPANY_KINDS: [&str; 4] = ["Торговый дом", "Логистика", "Системы", "Агро"];
const EN_COMPANIES: [&str; 10] = ["Northwind Traders", "Contoso", "Fabrikam", "Tailspin Toys", "Litware", "Adventure Works", "Wide World Importers", "Proseware", "Alpine Ski House", "Blue Yonder Airlines"];
const INDUSTRIES: [&str; 8] = ["Розничная торговля", "Производство", "Логистика", "ИТ", "Строительство", "Сельское хозяйство", "Finance", "Healthcare"];
const POSITIONS: [&str; 10] = ["Генеральный директор", "Коммерческий директор", "Менеджер по закупкам", "Главный бухгалтер", "Руководитель отдела продаж", "Офис-менеджер", "IT Director", "Procurement Manager", "Head of Sales", "CFO"];
const SOURCES: [&str; 6] = ["website", "referral", "exhibition", "cold_call", "email_campaign", "partner"];
const TAGS: [&str; 8] = ["vip", "опт", "розница", "новый", "партнёр", "tender", "export", "постоянный"];
const CITIES: [&str; 6] = ["Москва", "Санкт-Петербург", "Новосибирск", "Екатеринбург", "Казань", "Нижний Новгород"];
const MOBILE_CODES: [&str; 10] = ["903", "905", "909", "910", "915", "916", "925", "926", "977", "985"];

fn translit(s: &str) -> String {
    s.to_lowercase().chars().map(|c| TRANSLIT.iter().find(|(r, _)| *r == c).map_or_else(|| c.to_string(), |(_, l)| (*l).to_owned())).collect()
}

fn phone(seq: &mut Seq) -> String {
    let n = seq.next_u64() % 10_000_000;
    format!("8 ({}) {:03}-{:02}-{:02}", seq.pick(&MOBILE_CODES), n / 10_000, n / 100 % 100, n % 100)
}

/// Creates the demo workspace unless one exists; prints how to sign in either way.
pub async fn load_if_empty(db: &Db) -> anyhow::Result<()> {
    if accounts::find_workspace(db, WORKSPACE).await?.is_some() {
        print_credentials();
        return Ok(());
    }
    load(db).await
}

pub async fn load(db: &Db) -> anyhow::Result<()> {
    if accounts::find_workspace(db, WORKSPACE).await?.is_some() {
        anyhow::bail!("the demo workspace exists already");
    }
    let ws = accounts::create_workspace(db, WORKSPACE, "RU").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut ids = Vec::new();
    for (email, name, role, _) in USERS {
        let id = match accounts::find_user(db, email).await? {
            Some(id) => id,
            None => accounts::create_user(db, email, name, PASSWORD).await.map_err(|e| anyhow::anyhow!("{e}"))?,
        };
        accounts::add_member(db, ws, id, role).await?;
        ids.push(id);
    }
    for team in ["Москва", "Санкт-Петербург"] {
        let members: Vec<i64> = USERS.iter().zip(&ids).filter(|((_, _, _, t), _)| *t == Some(team)).map(|(_, id)| *id).collect();
        accounts::save_team(db, ws, None, team, &members).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let owner = accounts::principal_for(db, ws, ids[0]).await?;
    // Records belong to the salespeople and managers, as in a real team.
    let sellers: Vec<i64> = USERS.iter().zip(&ids).filter(|((_, _, r, _), _)| matches!(r, Role::Manager | Role::Member)).map(|(_, id)| *id).collect();
    let mut seq = Seq(2026);
    let create = |input: Value| -> Map<String, Value> { input.as_object().cloned().unwrap_or_default() };
    let opts = WriteOptions { allow_duplicates: true };

    let mut companies: Vec<(i64, String)> = Vec::new();
    for i in 0..COMPANIES {
        let russian = i % 5 != 4;
        let owner_id = sellers[seq.below(sellers.len())];
        let input = if russian {
            let word = RU_COMPANY_WORDS[i % RU_COMPANY_WORDS.len()];
            let name = if i < RU_COMPANY_WORDS.len() { word.to_owned() } else { format!("{word} {}", RU_COMPANY_KINDS[i % RU_COMPANY_KINDS.len()]) };
            let digits: [u32; 9] = std::array::from_fn(|k| if k < 2 { [7, 7][k] } else { (seq.next_u64() % 10) as u32 });
            let inn = ru_ids::inn10_complete(&digits);
            let domain = format!("{}.ru", translit(&name).replace(' ', "-"));
            json!({
                "name": name, "legal_name": format!("ООО «{name}»"), "kind": "legal_entity",
                "inn": inn, "kpp": format!("{}01001", &inn[..4]), "ogrn": ru_ids::ogrn_complete(102_770_000_000 + seq.next_u64() % 99_999_999),
                "website": format!("https://{domain}"), "industry": seq.pick(&INDUSTRIES), "employees": 5 + seq.below(2000),
                "annual_revenue": {"amount": format!("{}.00", 1_000_000 + seq.next_u64() % 900_000_000), "currency": "RUB"},
                "phones": [{"value": format!("8 (495) {:03}-{:02}-{:02}", seq.below(1000), seq.below(100), seq.below(100)), "type": "work"}],
                "emails": [{"value": format!("info@{domain}"), "type": "work"}],
                "addresses": [{"type": "legal", "city": seq.pick(&CITIES), "street": format!("ул. Ленина, д. {}", 1 + seq.below(120))}],
                "tags": [seq.pick(&TAGS)], "owner_id": owner_id,
            })
        } else {
            let name = EN_COMPANIES[(i / 5) % EN_COMPANIES.len()].to_owned() + if i / 5 >= EN_COMPANIES.len() { " Europe" } else { "" };
            let domain = format!("{}.com", name.to_lowercase().replace(' ', ""));
            json!({
                "name": name, "legal_name": format!("{name} Ltd"), "kind": "other", "website": format!("https://{domain}"),
                "industry": seq.pick(&INDUSTRIES), "employees": 20 + seq.below(5000),
                "annual_revenue": {"amount": format!("{}", 100_000 + seq.next_u64() % 50_000_000), "currency": "USD"},
                "emails": [{"value": format!("sales@{domain}"), "type": "work"}], "tags": ["export"], "owner_id": owner_id,
            })
        };
        let rec = records::create(db, &owner, Entity::Company, &create(input), &[], &opts).await.map_err(|e| anyhow::anyhow!("demo company {i}: {e:?}"))?;
        let domain = rec.fields.get("domain").and_then(Value::as_str).unwrap_or("example.com").to_owned();
        companies.push((rec.id, domain));
    }

    let mut contacts: Vec<(i64, i64)> = Vec::new();
    for i in 0..CONTACTS {
        let russian = i % 4 != 3;
        let female = seq.chance(50);
        let (last, first, middle) = if russian {
            let last = seq.pick(&RU_LAST_M);
            let last = if female { format!("{last}а") } else { last.to_owned() };
            let (first, middle) = if female { (seq.pick(&RU_FIRST_F), seq.pick(&RU_MIDDLE_F)) } else { (seq.pick(&RU_FIRST_M), seq.pick(&RU_MIDDLE_M)) };
            (last, first.to_owned(), Some(middle.to_owned()))
        } else {
            (seq.pick(&EN_LAST).to_owned(), seq.pick(&EN_FIRST).to_owned(), None)
        };
        let (company_id, domain) = companies[seq.below(companies.len())].clone();
        let owner_id = sellers[seq.below(sellers.len())];
        let email = format!("{}.{}{}@{domain}", translit(&first), translit(&last), i);
        let consent = seq.chance(40);
        let mut input = json!({
            "last_name": last, "first_name": first, "middle_name": middle,
            "position": seq.pick(&POSITIONS), "primary_company_id": company_id,
            "emails": [{"value": email, "type": "work"}], "phones": [{"value": phone(&mut seq), "type": "mobile"}],
            "source": seq.pick(&SOURCES), "tags": [seq.pick(&TAGS)], "owner_id": owner_id,
            "addresses": [{"type": "work", "city": seq.pick(&CITIES)}],
        });
        if seq.chance(60) {
            input["birthday"] = json!(format!("{}-{:02}-{:02}", 1960 + seq.below(40), 1 + seq.below(12), 1 + seq.below(28)));
        }
        if consent {
            input["marketing_consent"] = json!({"given": true, "at": "2025-03-01T10:00:00Z", "method": "web form"});
        }
        if seq.chance(20) {
            input["description"] = json!("Предпочитает связь по почте. Интересуется оптовыми поставками.");
        }
        let rec = records::create(db, &owner, Entity::Contact, &create(input), &[], &opts).await.map_err(|e| anyhow::anyhow!("demo contact {i}: {e:?}"))?;
        contacts.push((rec.id, company_id));
    }
    let sales = load_sales(db, &owner, &sellers, &contacts, &mut seq).await?;
    println!("demo workspace \"{WORKSPACE}\" created: {COMPANIES} companies, {CONTACTS} contacts, {sales}, {} users in 2 teams", USERS.len());
    print_credentials();
    Ok(())
}

const DAY: i64 = 86_400_000;
const DEALS: usize = 500;
const PRODUCTS: [(&str, &str, &str, &str, &str); 16] = [
    ("Стол офисный «Директор»", "ST-100", "good", "pcs", "24500"),
    ("Кресло эргономичное", "KR-210", "good", "pcs", "18900"),
    ("Шкаф для документов", "SH-040", "good", "pcs", "15600"),
    ("Стеллаж металлический", "ST-330", "good", "pcs", "7800"),
    ("Перегородка стеклянная", "PG-010", "good", "m2", "9200"),
    ("Ковровое покрытие", "KP-500", "good", "m2", "1450"),
    ("Бумага А4, 500 листов", "BM-A4", "good", "pack", "390"),
    ("Картридж лазерный", "KT-85A", "good", "pcs", "2900"),
    ("Сборка мебели", "SV-SB", "service", "hour", "1800"),
    ("Доставка по городу", "SV-DL", "service", "service", "2500"),
    ("Дизайн-проект офиса", "SV-DP", "service", "service", "45000"),
    ("Обслуживание оргтехники", "SV-OT", "service", "month", "12000"),
    ("Office desk “Manager”", "EX-DK1", "good", "pcs", "390"),
    ("Ergonomic chair", "EX-CH2", "good", "pcs", "310"),
    ("Installation", "EX-IN", "service", "hour", "45"),
    ("Consulting", "EX-CO", "service", "day", "600"),
];
const DEAL_WORDS: [&str; 8] = ["Оснащение офиса", "Поставка мебели", "Переезд", "Ремонт переговорной", "Канцтовары на год", "Обслуживание техники", "Office fit-out", "Furniture supply"];
const LEAD_MESSAGES: [&str; 5] = ["Нужен расчёт на 20 рабочих мест", "Пришлите прайс-лист", "Интересует доставка в регион", "Please send a quote for 10 chairs", "Хотим заказать дизайн-проект"];

/// Two years of selling: the catalogue, deals through the default pipeline with their
/// stage history, leads (some converted), activities and tasks.
async fn load_sales(db: &Db, owner: &accounts::Principal, sellers: &[i64], contacts: &[(i64, i64)], seq: &mut Seq) -> anyhow::Result<String> {
    use accord_storage::sales;
    let opts = WriteOptions { allow_duplicates: true };
    let now = accord_storage::now_ms();
    let err = |what: &'static str| move |e: accord_storage::Error| anyhow::anyhow!("demo {what}: {e:?}");
    let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
    let rub_products = PRODUCTS.iter().filter(|p| !p.1.starts_with("EX")).count();
    let mut products = Vec::new();
    for (i, (name, sku, kind, unit, price)) in PRODUCTS.iter().enumerate() {
        let export = i >= rub_products;
        let input = json!({"name": name, "sku": sku, "kind": kind, "unit": unit, "price": price, "currency": if export { "USD" } else { "RUB" }, "vat_rate": if export { "0" } else { "22" }, "tags": [if *kind == "good" { "мебель" } else { "услуги" }]});
        products.push(records::create(db, owner, Entity::Product, &obj(input), &[], &opts).await.map_err(err("product"))?.id);
    }
    let ws = owner.workspace_id;
    sales::add_exchange_rate(db, owner, sales::NewExchangeRate { currency: "USD".into(), rate: "92.50".into(), valid_from: "2024-01-01".into() }).await.map_err(err("rate"))?;
    let config = sales::config(db, ws).await.map_err(err("config"))?;
    let pipeline = config.pipelines.first().ok_or_else(|| anyhow::anyhow!("no pipeline"))?;
    let open: Vec<i64> = pipeline.stages.iter().filter(|s| s.kind == accord_domain::sales::StageKind::Open).map(|s| s.id).collect();
    let won = pipeline.stages.iter().find(|s| s.kind == accord_domain::sales::StageKind::Won).map(|s| s.id).unwrap_or_default();
    let lost = pipeline.stages.iter().find(|s| s.kind == accord_domain::sales::StageKind::Lost).map(|s| s.id).unwrap_or_default();
    let reasons: Vec<(i64, bool)> = config.lost_reasons.iter().map(|r| (r.id, r.requires_comment)).collect();

    let mut deals = Vec::new();
    for i in 0..DEALS {
        let created = now - (seq.below(730) as i64) * DAY - seq.below(86_400) as i64 * 1000;
        let age_days = (now - created) / DAY;
        let roll = seq.below(100);
        // Old deals are mostly decided; recent ones mostly still open.
        let outcome = if age_days > 60 { if roll < 45 { "won" } else if roll < 80 { "lost" } else { "open" } } else if roll < 15 { "won" } else if roll < 25 { "lost" } else { "open" };
        let cycle = 5 + seq.below(80) as i64;
        let closed = (created + cycle * DAY).min(now - DAY);
        let reached = match outcome {
            "won" => open.len(),
            "lost" => 1 + seq.below(open.len()),
            _ => 1 + seq.below(open.len()),
        };
        let mut path: Vec<i64> = open[..reached].to_vec();
        match outcome {
            "won" => path.push(won),
            "lost" => path.push(lost),
            _ => {}
        }
        let end = if outcome == "open" { now - seq.below(5) as i64 * DAY } else { closed };
        let step = ((end - created) / path.len() as i64).max(1);
        let stays: Vec<(i64, i64)> = path.iter().enumerate().map(|(k, s)| (*s, created + step * k as i64)).collect();
        let (contact, company) = contacts[seq.below(contacts.len())];
        let export = seq.chance(8);
        let pool = if export { &products[rub_products..] } else { &products[..rub_products] };
        let items: Vec<Value> = (0..1 + seq.below(3)).map(|_| json!({"product_id": pool[seq.below(pool.len())], "quantity": 1 + seq.below(20), "discount_percent": ([0, 0, 5, 10][seq.below(4)])})).collect();
        let mut input = json!({
            "title": format!("{} №{}", seq.pick(&DEAL_WORDS), 1000 + i), "stage_id": path.last(), "company_id": company,
            "contacts": [{"contact_id": contact, "role": "decision_maker"}], "items": items, "currency": if export { "USD" } else { "RUB" },
            "expected_close_date": chrono::DateTime::from_timestamp_millis(created + (cycle + 10) * DAY).unwrap_or_default().format("%Y-%m-%d").to_string(),
            "source": seq.pick(&SOURCES), "owner_id": sellers[seq.below(sellers.len())], "tags": [seq.pick(&TAGS)],
        });
        if outcome != "open" {
            input["closed_at"] = json!(chrono::DateTime::from_timestamp_millis(closed).unwrap_or_default().to_rfc3339());
        }
        if outcome == "lost" {
            let (reason, needs_comment) = reasons[seq.below(reasons.len())];
            input["lost_reason_id"] = json!(reason);
            if needs_comment || seq.chance(30) {
                input["lost_comment"] = json!("Клиент отложил закупку до следующего года");
            }
        }
        let rec = records::create(db, owner, Entity::Deal, &obj(input), &[], &opts).await.map_err(err("deal"))?;
        records::backdate(db, Entity::Deal, &[(rec.id, created)]).await.map_err(err("deal date"))?;
        sales::hooks::replace_stage_history(db, ws, rec.id, pipeline.id, &stays).await.map_err(err("stage history"))?;
        deals.push((rec.id, contact, company, created, rec.owner_id));
    }

    let mut leads = 0;
    for i in 0..60 {
        let (first, last) = (seq.pick(&RU_FIRST_M), seq.pick(&RU_LAST_M));
        let status = ["new", "new", "in_work", "in_work", "disqualified"][seq.below(5)];
        let mut input = json!({"name": format!("{first} {last}"), "email": format!("{}.{}{i}@mail.example.ru", translit(first), translit(last)), "phone": phone(seq),
            "company_name": format!("ИП {last}"), "message": seq.pick(&LEAD_MESSAGES), "source": (["web_form", "phone", "exhibition"][seq.below(3)]),
            "utm": {"source": (["yandex", "google", "vk"][seq.below(3)]), "campaign": (["office-2026", "chairs", "brand"][seq.below(3)])}, "status": status, "owner_id": sellers[seq.below(sellers.len())]});
        if status == "disqualified" {
            input["disqualify_reason"] = json!("Спам или нецелевой запрос");
        }
        let rec = records::create(db, owner, Entity::Lead, &obj(input), &[], &opts).await.map_err(err("lead"))?;
        records::backdate(db, Entity::Lead, &[(rec.id, now - seq.below(120) as i64 * DAY)]).await.map_err(err("lead date"))?;
        if i % 6 == 0 && status != "disqualified" {
            let req = sales::leads::ConvertRequest { contact_id: None, company_id: None, create_deal: true, deal: None };
            sales::leads::convert(db, owner, rec.id, req).await.map_err(err("lead conversion"))?;
        }
        leads += 1;
    }

    let mut activities = 0;
    for (deal, contact, company, created, deal_owner) in deals.iter().step_by(2) {
        for k in 0..1 + seq.below(3) {
            let kind = ["call", "call", "email", "meeting", "note"][seq.below(5)];
            let at = (created + (k as i64 + 1) * (2 + seq.below(10) as i64) * DAY).min(now - DAY);
            let when = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default().to_rfc3339();
            let mut input = json!({"kind": kind, "deal_id": deal, "contact_id": contact, "company_id": company, "owner_id": deal_owner});
            match kind {
                "call" => input.as_object_mut().map(|o| o.extend(obj(json!({"direction": "outbound", "duration_seconds": 60 + seq.below(900), "outcome": (["connected", "connected", "no_answer", "voicemail"][seq.below(4)]), "done_at": when, "body": "Обсудили условия поставки"})))),
                "email" => input.as_object_mut().map(|o| o.extend(obj(json!({"subject": "Коммерческое предложение", "direction": "outbound", "done_at": when})))),
                "meeting" => input.as_object_mut().map(|o| o.extend(obj(json!({"subject": "Встреча у клиента", "starts_at": when, "ends_at": chrono::DateTime::from_timestamp_millis(at + 3_600_000).unwrap_or_default().to_rfc3339(), "done_at": when, "place": "Офис клиента"})))),
                _ => input.as_object_mut().map(|o| o.extend(obj(json!({"body": "Клиент просит рассрочку на 3 месяца", "done_at": when})))),
            };
            let rec = records::create(db, owner, Entity::Activity, &obj(input), &[], &opts).await.map_err(err("activity"))?;
            records::backdate(db, Entity::Activity, &[(rec.id, at)]).await.map_err(err("activity date"))?;
            activities += 1;
        }
    }
    // What is coming: meetings and calls next week.
    for i in 0..30 {
        let (deal, contact, _, _, deal_owner) = deals[seq.below(deals.len())];
        let at = now + (1 + seq.below(10) as i64) * DAY + (i % 8) * 3_600_000;
        let when = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default().to_rfc3339();
        let input = if i % 2 == 0 {
            json!({"kind": "meeting", "subject": "Презентация образцов", "starts_at": when, "place": "Шоурум, Тверская 1", "deal_id": deal, "contact_id": contact, "owner_id": deal_owner, "remind_before_minutes": 60})
        } else {
            json!({"kind": "call", "due_at": when, "deal_id": deal, "contact_id": contact, "owner_id": deal_owner, "remind_before_minutes": 15})
        };
        records::create(db, owner, Entity::Activity, &obj(input), &[], &opts).await.map_err(err("planned activity"))?;
        activities += 1;
    }

    let mut tasks = 0;
    for i in 0..150 {
        let (deal, contact, _, _, deal_owner) = deals[seq.below(deals.len())];
        // Overdue, today, upcoming and done ones, for "my day".
        let due = now + (seq.below(21) as i64 - 7) * DAY + (9 + seq.below(9) as i64) * 3_600_000 - now % DAY;
        let status = if due < now && seq.chance(60) { "done" } else { "open" };
        let input = json!({"title": (["Позвонить клиенту", "Отправить счёт", "Подготовить КП", "Согласовать договор", "Follow up"][seq.below(5)]), "due_at": chrono::DateTime::from_timestamp_millis(due).unwrap_or_default().to_rfc3339(),
            "priority": (["low", "normal", "normal", "high"][seq.below(4)]), "status": status, "deal_id": deal, "contact_id": contact, "owner_id": deal_owner,
            "remind_before_minutes": if due > now { json!(30) } else { Value::Null }, "recurrence": if i % 25 == 0 { "weekly" } else { "none" }});
        records::create(db, owner, Entity::Task, &obj(input), &[], &opts).await.map_err(err("task"))?;
        tasks += 1;
    }
    Ok(format!("{} products, {DEALS} deals, {leads} leads, {activities} activities, {tasks} tasks", products.len()))
}

fn print_credentials() {
    println!("Demo sign-in (password for all: {PASSWORD}):");
    for (email, name, role, team) in USERS {
        println!("  {email:<26} {name:<18} {:<9} {}", role.as_str(), team.unwrap_or(""));
    }
}

