//! The demo workspace: users in two teams with different roles, and a few hundred
//! realistic Russian and English contacts and companies. Deterministic, so every fresh
//! start shows the same data.
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
        records::create(db, &owner, Entity::Contact, &create(input), &[], &opts).await.map_err(|e| anyhow::anyhow!("demo contact {i}: {e:?}"))?;
    }
    println!("demo workspace \"{WORKSPACE}\" created: {COMPANIES} companies, {CONTACTS} contacts, {} users in 2 teams", USERS.len());
    print_credentials();
    Ok(())
}

fn print_credentials() {
    println!("Demo sign-in (password for all: {PASSWORD}):");
    for (email, name, role, team) in USERS {
        println!("  {email:<26} {name:<18} {:<9} {}", role.as_str(), team.unwrap_or(""));
    }
}

