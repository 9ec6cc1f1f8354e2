//! Which column of a file fills which field: the targets each kind of record offers, and the
//! automatic match of headers to targets, with the presets of other CRMs' exports
//! (`presets.json`).
use crate::entities::Entity;
use crate::text;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

/// What a mapped column gives the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text(&'static str),
    /// A fixed list of codes; `presets.json` `values` translates the words other programs use.
    Code(&'static str),
    Int(&'static str),
    Percent(&'static str),
    Money(&'static str),
    Bool(&'static str),
    Date(&'static str),
    DateTime(&'static str),
    Currency,
    Email(Option<&'static str>),
    Phone(Option<&'static str>),
    /// An address part, of an address of this type (else the record's usual one).
    Address(Option<&'static str>, &'static str),
    FullName,
    Tags,
    Ref(RefKind),
    Line(&'static str),
    ExternalId,
    CreatedAt,
    DealStatus,
}

/// A reference written as text that the import resolves to a record or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    Owner,
    Company,
    CompanyInn,
    /// The company's domain or website.
    CompanyDomain,
    CompanyExternalId,
    Contact,
    ContactExternalId,
    Deal,
    Pipeline,
    Stage,
    LostReason,
    Product,
}

#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub id: &'static str,
    pub kind: Kind,
}

const fn t(id: &'static str, kind: Kind) -> Target {
    Target { id, kind }
}

/// The targets of one address: `address.PART`, or `address.TYPE.PART` for a second one.
const fn address(kind: Option<&'static str>, ids: [&'static str; 6]) -> [Target; 6] {
    [
        t(ids[0], Kind::Address(kind, "street")),
        t(ids[1], Kind::Address(kind, "city")),
        t(ids[2], Kind::Address(kind, "region")),
        t(ids[3], Kind::Address(kind, "postal_code")),
        t(ids[4], Kind::Address(kind, "country")),
        t(ids[5], Kind::Address(kind, "text")),
    ]
}

const ADDRESS: [Target; 6] = address(None, ["address.street", "address.city", "address.region", "address.postal_code", "address.country", "address.text"]);
const WORK_ADDRESS: [Target; 6] = address(Some("work"), ["address.work.street", "address.work.city", "address.work.region", "address.work.postal_code", "address.work.country", "address.work.text"]);
const LEGAL_ADDRESS: [Target; 6] = address(Some("legal"), ["address.legal.street", "address.legal.city", "address.legal.region", "address.legal.postal_code", "address.legal.country", "address.legal.text"]);
const POSTAL_ADDRESS: [Target; 6] =
    address(Some("postal"), ["address.postal.street", "address.postal.city", "address.postal.region", "address.postal.postal_code", "address.postal.country", "address.postal.text"]);

const CONTACT: &[Target] = &[
    t("first_name", Kind::Text("first_name")),
    t("last_name", Kind::Text("last_name")),
    t("middle_name", Kind::Text("middle_name")),
    t("full_name", Kind::FullName),
    t("position", Kind::Text("position")),
    t("email", Kind::Email(None)),
    t("email.work", Kind::Email(Some("work"))),
    t("email.personal", Kind::Email(Some("personal"))),
    t("email.other", Kind::Email(Some("other"))),
    t("phone", Kind::Phone(None)),
    t("phone.mobile", Kind::Phone(Some("mobile"))),
    t("phone.work", Kind::Phone(Some("work"))),
    t("phone.home", Kind::Phone(Some("home"))),
    t("phone.fax", Kind::Phone(Some("fax"))),
    t("phone.other", Kind::Phone(Some("other"))),
    ADDRESS[0], ADDRESS[1], ADDRESS[2], ADDRESS[3], ADDRESS[4], ADDRESS[5],
    WORK_ADDRESS[0], WORK_ADDRESS[1], WORK_ADDRESS[2], WORK_ADDRESS[3], WORK_ADDRESS[4], WORK_ADDRESS[5],
    t("birthday", Kind::Date("birthday")),
    t("source", Kind::Text("source")),
    t("description", Kind::Text("description")),
    t("tags", Kind::Tags),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("company", Kind::Ref(RefKind::Company)),
    t("company_inn", Kind::Ref(RefKind::CompanyInn)),
    t("company_domain", Kind::Ref(RefKind::CompanyDomain)),
    t("company_external_id", Kind::Ref(RefKind::CompanyExternalId)),
    t("external_id", Kind::ExternalId),
    t("created_at", Kind::CreatedAt),
];

const COMPANY: &[Target] = &[
    t("name", Kind::Text("name")),
    t("legal_name", Kind::Text("legal_name")),
    t("inn", Kind::Text("inn")),
    t("kpp", Kind::Text("kpp")),
    t("ogrn", Kind::Text("ogrn")),
    t("website", Kind::Text("website")),
    t("domain", Kind::Text("domain")),
    t("industry", Kind::Text("industry")),
    t("employees", Kind::Int("employees")),
    t("email", Kind::Email(None)),
    t("email.work", Kind::Email(Some("work"))),
    t("phone", Kind::Phone(None)),
    t("phone.work", Kind::Phone(Some("work"))),
    t("phone.fax", Kind::Phone(Some("fax"))),
    ADDRESS[0], ADDRESS[1], ADDRESS[2], ADDRESS[3], ADDRESS[4], ADDRESS[5],
    LEGAL_ADDRESS[0], LEGAL_ADDRESS[1], LEGAL_ADDRESS[2], LEGAL_ADDRESS[3], LEGAL_ADDRESS[4], LEGAL_ADDRESS[5],
    POSTAL_ADDRESS[0], POSTAL_ADDRESS[1], POSTAL_ADDRESS[2], POSTAL_ADDRESS[3], POSTAL_ADDRESS[4], POSTAL_ADDRESS[5],
    t("description", Kind::Text("description")),
    t("tags", Kind::Tags),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("external_id", Kind::ExternalId),
    t("created_at", Kind::CreatedAt),
];

const DEAL: &[Target] = &[
    t("title", Kind::Text("title")),
    t("amount", Kind::Money("amount")),
    t("currency", Kind::Currency),
    t("pipeline", Kind::Ref(RefKind::Pipeline)),
    t("stage", Kind::Ref(RefKind::Stage)),
    t("status", Kind::DealStatus),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("company", Kind::Ref(RefKind::Company)),
    t("company_inn", Kind::Ref(RefKind::CompanyInn)),
    t("company_domain", Kind::Ref(RefKind::CompanyDomain)),
    t("company_external_id", Kind::Ref(RefKind::CompanyExternalId)),
    t("contact", Kind::Ref(RefKind::Contact)),
    t("contact_external_id", Kind::Ref(RefKind::ContactExternalId)),
    t("expected_close_date", Kind::Date("expected_close_date")),
    t("closed_at", Kind::DateTime("closed_at")),
    t("created_at", Kind::CreatedAt),
    t("source", Kind::Text("source")),
    t("lost_reason", Kind::Ref(RefKind::LostReason)),
    t("lost_comment", Kind::Text("lost_comment")),
    t("description", Kind::Text("description")),
    t("tags", Kind::Tags),
    t("probability", Kind::Percent("probability")),
    t("product", Kind::Ref(RefKind::Product)),
    t("quantity", Kind::Line("quantity")),
    t("unit_price", Kind::Line("price")),
    t("discount_percent", Kind::Line("discount_percent")),
    t("external_id", Kind::ExternalId),
];

const PRODUCT: &[Target] = &[
    t("name", Kind::Text("name")),
    t("sku", Kind::Text("sku")),
    t("kind", Kind::Code("product.kind")),
    t("unit", Kind::Code("product.unit")),
    t("price", Kind::Money("price")),
    t("currency", Kind::Currency),
    t("vat_rate", Kind::Text("vat_rate")),
    t("active", Kind::Bool("active")),
    t("description", Kind::Text("description")),
    t("tags", Kind::Tags),
    t("external_id", Kind::ExternalId),
];

const LEAD: &[Target] = &[
    t("name", Kind::Text("name")),
    t("email", Kind::Text("email")),
    t("phone", Kind::Text("phone")),
    t("company_name", Kind::Text("company_name")),
    t("inn", Kind::Text("inn")),
    t("message", Kind::Text("message")),
    t("source", Kind::Text("source")),
    t("status", Kind::Code("lead.status")),
    t("tags", Kind::Tags),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("external_id", Kind::ExternalId),
    t("created_at", Kind::CreatedAt),
];

const ACTIVITY: &[Target] = &[
    t("kind", Kind::Code("activity.kind")),
    t("subject", Kind::Text("subject")),
    t("body", Kind::Text("body")),
    t("direction", Kind::Code("activity.direction")),
    t("duration_seconds", Kind::Int("duration_seconds")),
    t("outcome", Kind::Text("outcome")),
    t("starts_at", Kind::DateTime("starts_at")),
    t("ends_at", Kind::DateTime("ends_at")),
    t("place", Kind::Text("place")),
    t("done_at", Kind::DateTime("done_at")),
    t("contact", Kind::Ref(RefKind::Contact)),
    t("company", Kind::Ref(RefKind::Company)),
    t("deal", Kind::Ref(RefKind::Deal)),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("tags", Kind::Tags),
    t("external_id", Kind::ExternalId),
];

const TASK: &[Target] = &[
    t("title", Kind::Text("title")),
    t("description", Kind::Text("description")),
    t("due_at", Kind::DateTime("due_at")),
    t("priority", Kind::Code("task.priority")),
    t("status", Kind::Code("task.status")),
    t("contact", Kind::Ref(RefKind::Contact)),
    t("company", Kind::Ref(RefKind::Company)),
    t("deal", Kind::Ref(RefKind::Deal)),
    t("owner", Kind::Ref(RefKind::Owner)),
    t("tags", Kind::Tags),
    t("external_id", Kind::ExternalId),
];

/// The kinds of record a file can be imported into.
pub const ENTITIES: [Entity; 7] = [Entity::Contact, Entity::Company, Entity::Deal, Entity::Product, Entity::Lead, Entity::Activity, Entity::Task];

pub fn targets(entity: Entity) -> &'static [Target] {
    match entity {
        Entity::Contact => CONTACT,
        Entity::Company => COMPANY,
        Entity::Deal => DEAL,
        Entity::Product => PRODUCT,
        Entity::Lead => LEAD,
        Entity::Activity => ACTIVITY,
        Entity::Task => TASK,
    }
}

pub fn target(entity: Entity, id: &str) -> Option<&'static Target> {
    targets(entity).iter().find(|t| t.id == id)
}

/// A column's destination: one of the entity's targets or a custom field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    Target(&'static str),
    Custom(String),
}

impl Mapped {
    /// `first_name`, `cf.<key>`; anything else is not a destination of this entity.
    pub fn parse(entity: Entity, s: &str) -> Option<Mapped> {
        match s.strip_prefix("cf.") {
            Some(key) if !key.is_empty() => Some(Mapped::Custom(key.to_owned())),
            Some(_) => None,
            None => target(entity, s).map(|t| Mapped::Target(t.id)),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Mapped::Target(id) => (*id).to_owned(),
            Mapped::Custom(key) => format!("cf.{key}"),
        }
    }
}

#[derive(Deserialize)]
struct PresetFile {
    generic: HashMap<String, HashMap<String, Vec<String>>>,
    presets: Vec<PresetDef>,
    values: HashMap<String, HashMap<String, String>>,
}

#[derive(Deserialize)]
struct PresetDef {
    name: String,
    label: String,
    signature: Vec<String>,
    entities: HashMap<String, HashMap<String, Vec<String>>>,
}

/// Header key → target id, per entity name.
type Aliases = HashMap<String, HashMap<String, &'static str>>;

struct IndexedPreset {
    name: String,
    label: String,
    signature: Vec<String>,
    aliases: Aliases,
}

struct Presets {
    generic: Aliases,
    presets: Vec<IndexedPreset>,
    values: HashMap<String, HashMap<String, String>>,
}

/// A header reduced to its letters and digits, lower-case: `E-mail 1 - Value` → `email1value`.
pub fn header_key(h: &str) -> String {
    text::fold(h).replace('ё', "е").chars().filter(|c| c.is_alphanumeric()).collect()
}

fn index(entity: &str, aliases: &HashMap<String, Vec<String>>) -> HashMap<String, &'static str> {
    let Some(e) = Entity::parse(entity) else { return HashMap::new() };
    let mut out = HashMap::new();
    for (target_id, names) in aliases {
        let Some(t) = target(e, target_id) else { continue };
        for n in names {
            out.entry(header_key(n)).or_insert(t.id);
        }
    }
    out
}

fn presets() -> &'static Presets {
    static P: OnceLock<Presets> = OnceLock::new();
    P.get_or_init(|| {
        let file: PresetFile = serde_json::from_str(include_str!("presets.json")).unwrap_or_else(|_| PresetFile { generic: HashMap::new(), presets: Vec::new(), values: HashMap::new() });
        Presets {
            generic: file.generic.iter().map(|(e, a)| (e.clone(), index(e, a))).collect(),
            presets: file
                .presets
                .iter()
                .map(|p| IndexedPreset { name: p.name.clone(), label: p.label.clone(), signature: p.signature.iter().map(|s| header_key(s)).collect(), aliases: p.entities.iter().map(|(e, a)| (e.clone(), index(e, a))).collect() })
                .collect(),
            values: file.values.iter().map(|(k, m)| (k.clone(), m.iter().map(|(w, c)| (text::fold(w), c.clone())).collect())).collect(),
        }
    })
}

/// The code a word of another program stands for (`Звонок` → `call`), or the word itself
/// folded, for validation to accept or name.
pub fn code(values_key: &str, raw: &str) -> String {
    let folded = text::fold(raw.trim());
    presets().values.get(values_key).and_then(|m| m.get(&folded)).cloned().unwrap_or(folded)
}

/// The export format a header row comes from, by its signature columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Preset {
    pub name: String,
    pub label: String,
}

pub fn detect_preset(headers: &[String]) -> Option<Preset> {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    presets()
        .presets
        .iter()
        .map(|p| (p.signature.iter().filter(|s| keys.contains(s)).count(), p))
        .filter(|(n, _)| *n >= 2)
        .max_by_key(|(n, _)| *n)
        .map(|(_, p)| Preset { name: p.name.clone(), label: p.label.clone() })
}

/// A destination for each header: the preset's alias first, then the generic one, then a
/// custom field whose key or label is the header. A target already taken by an earlier
/// column is not given again unless it collects several values (e-mails, phones, tags).
pub fn auto_map(entity: Entity, headers: &[String], preset: Option<&Preset>, custom: &[(String, String)]) -> Vec<Option<Mapped>> {
    let p = presets();
    let e = entity.as_str();
    let from_preset = preset.and_then(|pr| p.presets.iter().find(|x| x.name == pr.name)).and_then(|x| x.aliases.get(e));
    let generic = p.generic.get(e);
    let mut taken: Vec<&'static str> = Vec::new();
    headers
        .iter()
        .map(|h| {
            let key = header_key(h);
            if key.is_empty() {
                return None;
            }
            let found = from_preset.and_then(|m| m.get(&key)).or_else(|| generic.and_then(|m| m.get(&key))).copied();
            if let Some(id) = found {
                let repeatable = target(entity, id).is_some_and(|t| matches!(t.kind, Kind::Email(_) | Kind::Phone(_) | Kind::Tags));
                if repeatable || !taken.contains(&id) {
                    taken.push(id);
                    return Some(Mapped::Target(id));
                }
                return None;
            }
            custom.iter().find(|(k, label)| header_key(k) == key || header_key(label) == key).map(|(k, _)| Mapped::Custom(k.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entity: Entity, headers: &[&str]) -> (Option<String>, Vec<Option<String>>) {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let preset = detect_preset(&h);
        let m = auto_map(entity, &h, preset.as_ref(), &[("vip_level".into(), "Уровень VIP".into())]);
        (preset.map(|p| p.name), m.into_iter().map(|m| m.map(|m| m.as_string())).collect())
    }

    #[test]
    fn every_alias_names_a_target() {
        let file: PresetFile = serde_json::from_str(include_str!("presets.json")).unwrap();
        let check = |e: &str, aliases: &HashMap<String, Vec<String>>| {
            let entity = Entity::parse(e).unwrap_or_else(|| panic!("unknown entity {e}"));
            for id in aliases.keys() {
                assert!(target(entity, id).is_some(), "{e}.{id} is not a target");
            }
        };
        for (e, a) in &file.generic {
            check(e, a);
        }
        for p in &file.presets {
            for (e, a) in &p.entities {
                check(e, a);
            }
        }
    }

    #[test]
    fn presets_of_other_crms() {
        let (p, m) = map(Entity::Contact, &["Person - Name", "Person - Organization", "Person - Email - Work", "Person - Phone - Mobile", "Person - Label"]);
        assert_eq!(p.as_deref(), Some("pipedrive"));
        assert_eq!(m, vec![Some("full_name".into()), Some("company".into()), Some("email.work".into()), Some("phone.mobile".into()), Some("tags".into())]);
        let (p, m) = map(Entity::Deal, &["Id", "AccountId", "Name", "StageName", "Amount", "CloseDate", "OwnerId", "IsDeleted"]);
        assert_eq!(p.as_deref(), Some("salesforce"));
        assert_eq!(m[..7], [Some("external_id".into()), Some("company_external_id".into()), Some("title".into()), Some("stage".into()), Some("amount".into()), Some("expected_close_date".into()), Some("owner".into())]);
        let (p, m) = map(Entity::Contact, &["Имя", "Фамилия", "Отчество", "Должность", "Организация", "Адрес эл. почты", "Телефон переносной", "Уровень VIP", "Любимый цвет"]);
        assert_eq!(p.as_deref(), Some("outlook"));
        assert_eq!(m, vec![Some("first_name".into()), Some("last_name".into()), Some("middle_name".into()), Some("position".into()), Some("company".into()), Some("email".into()), Some("phone.mobile".into()), Some("cf.vip_level".into()), None]);
        let (_, m) = map(Entity::Contact, &["Имя", "Организация", "Улица (раб. адрес)", "Город (раб. адрес)", "Улица (дом. адрес)", "Город (дом. адрес)", "Телефон переносной"]);
        assert_eq!(m[2..6], [Some("address.work.street".into()), Some("address.work.city".into()), Some("address.street".into()), Some("address.city".into())], "Outlook's business and home addresses stay apart");
        let (p, m) = map(Entity::Deal, &["Название сделки", "Бюджет", "Ответственный", "Статус сделки", "Основной контакт", "Компания контакта", "Дата закрытия"]);
        assert_eq!(p.as_deref(), Some("amocrm"));
        assert_eq!(m, vec![Some("title".into()), Some("amount".into()), Some("owner".into()), Some("stage".into()), Some("contact".into()), Some("company".into()), Some("closed_at".into())]);
        let (p, _) = map(Entity::Contact, &["First Name", "Last Name"]);
        assert_eq!(p, None, "two generic headers are no signature");
    }

    #[test]
    fn codes() {
        assert_eq!(code("activity.kind", "Звонок"), "call");
        assert_eq!(code("product.unit", "шт."), "pcs");
        assert_eq!(code("task.priority", "Whatever"), "whatever");
    }
}
