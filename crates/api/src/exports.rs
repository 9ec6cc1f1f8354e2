//! Exports of any list view — its filters, sort and chosen columns, through the caller's
//! visibility — to CSV (streamed page by page, so a million rows take constant memory) or
//! XLSX. Text that a spreadsheet would run as a formula is neutralized; every export is
//! audited.
use crate::auth::Auth;
use crate::problem::{ApiError, ApiResult};
use crate::state::AppState;
use accord_domain::entities::{ColKind, Entity};
use accord_domain::query;
use accord_storage::accounts::Principal;
use accord_storage::{Db, Row, Val, custom_fields, records};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashMap;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ExportParams {
    /// `csv` (default), `xlsx`, or for contacts `vcf` (vCard 4.0)
    format: Option<String>,
    /// Comma-separated columns (default all): fields of the record, `owner` (e-mail),
    /// `company`, `company_inn`, `pipeline`, `stage` (names), `cf.<key>`. Besides these, the list's filters
    /// and `sort`.
    columns: Option<String>,
}

/// The columns of an export of `entity`, in their default order.
fn default_columns(entity: Entity, custom: &[query::CustomField]) -> Vec<String> {
    let mut cols: Vec<String> = vec!["id".into()];
    cols.extend(entity.columns().iter().filter(|c| !c.kind.is_shadow() && c.name != "custom_fields").map(|c| c.name.to_owned()));
    cols.push("owner".into());
    let has = |n: &str| entity.columns().iter().any(|c| c.name == n);
    if has("company_id") || has("primary_company_id") {
        cols.extend(["company".into(), "company_inn".into()]);
    }
    if entity == Entity::Deal {
        cols.extend(["pipeline".into(), "stage".into()]);
    }
    cols.extend(["created_at".into(), "updated_at".into()]);
    cols.extend(custom.iter().map(|c| format!("cf.{}", c.def.key)));
    cols
}

/// Names the ids of the records stand for: owners' e-mails, pipelines and stages.
struct Names {
    owners: HashMap<i64, String>,
    pipelines: HashMap<i64, String>,
    stages: HashMap<i64, String>,
}

/// Name and INN of companies, by id.
type Companies = HashMap<i64, (String, String)>;

/// The column of a list's rows that holds a record's company.
fn company_column(row: &Row) -> Option<usize> {
    row.columns().iter().position(|c| c == "primary_company_id" || c == "company_id")
}

fn int_at(row: &Row, at: usize) -> Option<i64> {
    match row.value(at) {
        Some(Val::Int(i)) => *i,
        _ => None,
    }
}

/// Looks up the companies of a page not met before, through the caller's visibility: a
/// company they may not see stays nameless.
async fn load_companies(db: &Db, p: &Principal, known: &mut Companies, ids: &[i64]) -> Result<(), String> {
    let mut wanted: Vec<i64> = ids.iter().copied().filter(|id| !known.contains_key(id)).collect();
    wanted.sort_unstable();
    wanted.dedup();
    for chunk in wanted.chunks(query::MAX_IN_VALUES) {
        let params = [("id[in]".to_owned(), chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",")), ("limit".to_owned(), query::MAX_LIMIT.to_string()), ("fields".to_owned(), "name,inn".to_owned())];
        let q = query::parse(Entity::Company, &params, &[], &p.region).map_err(|e| format!("{e:?}"))?;
        let text = |c: &records::Record, k: &str| c.fields.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        for c in records::list(db, &p.viewer, Entity::Company, &q, false).await.map_err(|e| e.to_string())?.data {
            known.insert(c.id, (text(&c, "name"), text(&c, "inn")));
        }
    }
    for id in wanted {
        known.entry(id).or_default();
    }
    Ok(())
}

/// Where a column of the file takes its text from in a row of the list, found once from
/// the row's column names.
enum Source {
    /// A field of the record, shown as the API shows it.
    Field(usize, ColKind),
    Owner(usize),
    Company { at: usize, inn: bool },
    Pipeline(usize),
    Stage(usize),
    /// A custom field, from the record's `custom_fields` object.
    Custom { at: usize, key: String },
    /// A column the rows do not have (a company column of a record without companies).
    Empty,
}

fn sources(entity: Entity, row: &Row, columns: &[String]) -> Vec<Source> {
    let at = |name: &str| row.columns().iter().position(|c| c == name);
    let company = company_column(row);
    columns
        .iter()
        .map(|col| {
            let found = match col.as_str() {
                "owner" => at("owner_id").map(Source::Owner),
                "company" | "company_inn" => company.map(|at| Source::Company { at, inn: col == "company_inn" }),
                "pipeline" => at("pipeline_id").map(Source::Pipeline),
                "stage" => at("stage_id").map(Source::Stage),
                c => match c.strip_prefix("cf.") {
                    Some(key) => at("custom_fields").map(|at| Source::Custom { at, key: key.to_owned() }),
                    None => at(c).zip(records::column_kind(entity, c)).map(|(at, kind)| Source::Field(at, kind)),
                },
            };
            found.unwrap_or(Source::Empty)
        })
        .collect()
}

/// One cell: lists of e-mails, phones, tags or addresses as `; `-joined text, objects as JSON.
fn cell<'a>(source: &Source, row: &'a Row, names: &'a Names, companies: &'a Companies, custom: &'a OnceCell<serde_json::Map<String, Value>>) -> Cow<'a, str> {
    let name = |found: Option<&'a String>| found.map_or(Cow::Borrowed(""), |s| Cow::Borrowed(s.as_str()));
    match source {
        Source::Field(at, kind) => match (row.value(*at), kind) {
            (Some(Val::Text(Some(s))), ColKind::Json) => json_cell(s),
            (Some(Val::Text(Some(s))), _) => Cow::Borrowed(s),
            (Some(Val::Int(Some(i))), ColKind::Bool) => Cow::Borrowed(if *i != 0 { "true" } else { "false" }),
            (Some(Val::Int(Some(ms))), ColKind::Timestamp) => Cow::Owned(accord_storage::timeline::rfc3339(*ms)),
            (Some(Val::Int(Some(i))), _) => Cow::Owned(i.to_string()),
            (Some(Val::Real(Some(f))), _) => Cow::Owned(f.to_string()),
            _ => Cow::Borrowed(""),
        },
        Source::Owner(at) => name(int_at(row, *at).and_then(|id| names.owners.get(&id))),
        Source::Company { at, inn } => name(int_at(row, *at).and_then(|id| companies.get(&id)).map(|c| if *inn { &c.1 } else { &c.0 })),
        Source::Pipeline(at) => name(int_at(row, *at).and_then(|id| names.pipelines.get(&id))),
        Source::Stage(at) => name(int_at(row, *at).and_then(|id| names.stages.get(&id))),
        Source::Custom { at, key } => {
            let fields = custom.get_or_init(|| match row.value(*at) {
                Some(Val::Text(Some(s))) => serde_json::from_str(s).unwrap_or_default(),
                _ => serde_json::Map::new(),
            });
            fields.get(key).map_or(Cow::Borrowed(""), value_text)
        }
        Source::Empty => Cow::Borrowed(""),
    }
}

/// The text of a JSON column. Lists of e-mails, phones, tags and addresses, the usual case,
/// are read without building a JSON value for each item; anything else goes through
/// [`value_text`].
fn json_cell(text: &str) -> Cow<'_, str> {
    if text.starts_with('[')
        && let Ok(items) = serde_json::from_str::<Vec<Item<'_>>>(text)
    {
        return Cow::Owned(items.iter().map(|i| i.0.as_ref()).collect::<Vec<_>>().join("; "));
    }
    serde_json::from_str::<Value>(text).map_or(Cow::Borrowed(text), |v| Cow::Owned(value_text(&v).into_owned()))
}

/// A value as a cell: text as it is, lists joined by `; ` (an e-mail, phone or text item by
/// its value, an address by its parts), anything else as JSON.
fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => Cow::Borrowed(""),
        Value::String(s) => Cow::Borrowed(s),
        Value::Array(items) => Cow::Owned(
            items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Cow::Borrowed(s.as_str()),
                    Value::Object(o) => match ["value", "original", "text"].iter().find_map(|k| o.get(*k)) {
                        Some(Value::String(s)) => Cow::Borrowed(s.as_str()),
                        _ => address_text(ADDRESS_PARTS.iter().map(|k| o.get(*k).and_then(Value::as_str))).map_or_else(|| Cow::Owned(i.to_string()), Cow::Owned),
                    },
                    other => Cow::Owned(other.to_string()),
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => Cow::Owned(other.to_string()),
    }
}

const ADDRESS_PARTS: [&str; 5] = ["postal_code", "country", "region", "city", "street"];

/// An address's parts joined, or `None` when it has none (the object is not an address).
fn address_text<'a>(parts: impl Iterator<Item = Option<&'a str>>) -> Option<String> {
    let parts: Vec<&str> = parts.flatten().collect();
    if parts.is_empty() { None } else { Some(parts.join(", ")) }
}

/// The text of an item of a list in a JSON column, borrowed from the column's text where it
/// can be. Any shape [`value_text`] would show otherwise (a number, a non-text value, an
/// object of neither kind) fails to read, and the column goes through [`value_text`] instead.
struct Item<'a>(Cow<'a, str>);

/// Text borrowed from the JSON where it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("text")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> serde::Deserialize<'de> for Item<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Item<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("text or an object with a value or address parts")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Item<'de>, E> {
                Ok(Item(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Item<'de>, E> {
                Ok(Item(Cow::Owned(s.to_owned())))
            }
            // Ids (a contact's companies) as JSON writes them.
            fn visit_i64<E>(self, n: i64) -> Result<Item<'de>, E> {
                Ok(Item(Cow::Owned(n.to_string())))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Item<'de>, E> {
                Ok(Item(Cow::Owned(n.to_string())))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Item<'de>, A::Error> {
                // The first of value, original and text present wins, as in `value_text`.
                let mut value: [Option<Cow<'de, str>>; 3] = [None, None, None];
                let mut parts: [Option<Cow<'de, str>>; 5] = Default::default();
                while let Some(key) = map.next_key::<Text<'de>>()? {
                    let key = key.0;
                    if let Some(i) = ["value", "original", "text"].iter().position(|k| *k == key) {
                        value[i] = Some(map.next_value::<Text<'de>>()?.0);
                    } else if let Some(i) = ADDRESS_PARTS.iter().position(|k| *k == key) {
                        parts[i] = Some(map.next_value::<Text<'de>>()?.0);
                    } else {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                match value.into_iter().flatten().next() {
                    Some(v) => Ok(Item(v)),
                    None => address_text(parts.iter().map(|p| p.as_deref())).map(|a| Item(Cow::Owned(a))).ok_or_else(|| serde::de::Error::custom("neither a value nor an address")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Export a list view to CSV or XLSX
#[utoipa::path(get, path = "/api/v1/exports/{entity}", tag = "imports", params(("entity" = String, Path, description = "contacts, companies, deals, products, leads, activities or tasks"), ExportParams),
    responses((status = 200, description = "The file", content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))), (status = 422, body = crate::problem::Problem)))]
pub async fn export(State(s): State<AppState>, Auth(p): Auth, Path(entity): Path<String>, Query(params): Query<Vec<(String, String)>>) -> ApiResult<Response> {
    let entity = crate::imports::entity_of(&entity)?;
    let file = start(&s.db, p, entity, params).await?;
    Ok(crate::imports::streamed(file.chunks, file.content_type, &file.name))
}

/// An export being written: its chunks arrive as the pages are read.
pub struct ExportFile {
    pub chunks: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
    pub content_type: &'static str,
    pub name: String,
}

/// Checks the parameters (`format`, `columns`, the list's filters and sort), audits the
/// export and starts writing it. The API and `accord export` both come here.
pub async fn start(db: &Db, p: Principal, entity: Entity, params: Vec<(String, String)>) -> ApiResult<ExportFile> {
    let param = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let format = param("format").unwrap_or_else(|| "csv".into());
    match format.as_str() {
        "csv" | "xlsx" => {}
        "vcf" if entity == Entity::Contact => {}
        "vcf" => return Err(ApiError::field("format", "invalid_choice", "vCard (vcf) is a format of contacts")),
        _ => return Err(ApiError::field("format", "invalid_choice", "must be csv, xlsx or (contacts) vcf")),
    }
    let custom = custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let all = default_columns(entity, &custom);
    let columns: Vec<String> = match param("columns") {
        Some(c) => c.split(',').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect(),
        None => all.clone(),
    };
    if let Some(bad) = columns.iter().find(|c| !all.contains(c)) {
        return Err(ApiError::field("columns", "unknown_field", &format!("{bad:?} is not a column of this export")));
    }
    let mut list_params: Vec<(String, String)> = params.into_iter().filter(|(k, _)| !matches!(k.as_str(), "format" | "columns" | "limit" | "cursor" | "fields" | "count")).collect();
    // Pages as large as a list gives.
    list_params.push(("limit".into(), query::MAX_LIMIT.to_string()));
    // Checked before the first byte goes out, so a bad filter is a 422, not a broken file.
    query::parse(entity, &list_params, &custom, &p.region)?;
    let filters: Vec<Value> = list_params.iter().filter(|(k, _)| k != "limit").map(|(k, v)| json!([k, v])).collect();
    accord_storage::timeline::audit_action(db, &p, "export", 0, "export", json!({ "entity": entity.as_str(), "format": format, "filters": filters, "columns": columns })).await?;

    let config = accord_storage::sales::config(db, p.workspace_id).await?;
    let locale = p.user.locale.clone();
    let names = Names {
        owners: accord_storage::accounts::members(db, p.workspace_id).await?.into_iter().map(|m| (m.user_id, m.email)).collect(),
        pipelines: config.pipelines.iter().map(|pl| (pl.id, pl.names.for_locale(&locale).to_owned())).collect(),
        stages: config.pipelines.iter().flat_map(|pl| pl.stages.iter()).map(|st| (st.id, st.names.for_locale(&locale).to_owned())).collect(),
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let name = format!("accord-{}.{format}", entity.path());
    let content_type = match format.as_str() {
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "vcf" => "text/vcard; charset=utf-8",
        _ => "text/csv; charset=utf-8",
    };
    let pages = read_pages(db.clone(), p, Pages { entity, params: list_params, custom, done: false });
    accord_storage::spawn_long(async move {
        let result = match format.as_str() {
            "xlsx" => write_xlsx(entity, pages, columns, names, &tx).await,
            "vcf" => write_vcards(pages, &tx).await,
            _ => write_csv(entity, pages, columns, names, &tx).await,
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped");
            let _ = tx.send(Err(std::io::Error::other(e))).await;
        }
    });
    Ok(ExportFile { chunks: rx, content_type, name })
}

/// The pages of the view, one after another.
struct Pages {
    entity: Entity,
    params: Vec<(String, String)>,
    custom: Vec<query::CustomField>,
    done: bool,
}

impl Pages {
    async fn next(&mut self, db: &Db, p: &Principal) -> Result<Option<Vec<Row>>, String> {
        if self.done {
            return Ok(None);
        }
        let q = query::parse(self.entity, &self.params, &self.custom, &p.region).map_err(|e| format!("{e:?}"))?;
        let page = records::list_rows(db, &p.viewer, self.entity, &q, false).await.map_err(|e| e.to_string())?;
        self.params.retain(|(k, _)| k != "cursor");
        match page.next_cursor {
            Some(c) => self.params.push(("cursor".into(), c)),
            None => self.done = true,
        }
        Ok(Some(page.rows))
    }
}

/// A page of rows with the names of the companies they refer to.
struct Page {
    rows: Vec<Row>,
    companies: Companies,
}

type PageReceiver = tokio::sync::mpsc::Receiver<Result<Page, String>>;

/// Reads the pages on a thread of their own: the file is written from one page while the
/// next is read, on the other core.
fn read_pages(db: Db, p: Principal, mut pages: Pages) -> PageReceiver {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    accord_storage::spawn_long(async move {
        let mut known = Companies::new();
        loop {
            let rows = match pages.next(&db, &p).await {
                Ok(Some(rows)) => rows,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let ids: Vec<i64> = match rows.first().and_then(company_column) {
                Some(at) => rows.iter().filter_map(|r| int_at(r, at)).collect(),
                None => Vec::new(),
            };
            if let Err(e) = load_companies(&db, &p, &mut known, &ids).await {
                let _ = tx.send(Err(e)).await;
                return;
            }
            let companies = ids.iter().filter_map(|id| known.get(id).map(|c| (*id, c.clone()))).collect();
            // The names of the companies met so far save lookups; a bound keeps memory flat.
            if known.len() > 10_000 {
                known.clear();
            }
            if tx.send(Ok(Page { rows, companies })).await.is_err() {
                return;
            }
        }
    });
    rx
}

type ChunkSender = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

async fn write_csv(entity: Entity, mut pages: PageReceiver, columns: Vec<String>, names: Names, tx: &ChunkSender) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(&columns).map_err(|e| e.to_string())?;
    let mut plan = None;
    while let Some(page) = pages.recv().await {
        let page = page?;
        for row in &page.rows {
            let plan = plan.get_or_insert_with(|| sources(entity, row, &columns));
            let custom = OnceCell::new();
            for source in plan.iter() {
                w.write_field(crate::reports::neutralized(cell(source, row, &names, &page.companies, &custom)).as_bytes()).map_err(|e| e.to_string())?;
            }
            w.write_record(None::<&[u8]>).map_err(|e| e.to_string())?;
        }
        let chunk = w.into_inner().map_err(|e| e.to_string())?;
        if tx.send(Ok(chunk)).await.is_err() {
            return Ok(());
        }
        w = csv::Writer::from_writer(Vec::new());
    }
    Ok(())
}

/// Contacts as vCard 4.0, a page of cards per chunk.
async fn write_vcards(mut pages: PageReceiver, tx: &ChunkSender) -> Result<(), String> {
    while let Some(page) = pages.recv().await {
        let page = page?;
        let mut chunk = String::new();
        for row in &page.rows {
            let rec = records::from_row(Entity::Contact, row).map_err(|e| e.to_string())?;
            let company = company_column(row).and_then(|at| int_at(row, at)).and_then(|id| page.companies.get(&id)).map(|c| c.0.as_str());
            chunk.push_str(&accord_domain::imports::vcard::write(&rec.fields, company));
        }
        if tx.send(Ok(chunk.into_bytes())).await.is_err() {
            return Ok(());
        }
    }
    Ok(())
}

/// XLSX rows go to a constant-memory worksheet (rust_xlsxwriter spills them to a temporary
/// file); the finished workbook is written to a temporary file too and sent from there, so
/// memory stays flat however many rows there are.
async fn write_xlsx(entity: Entity, mut pages: PageReceiver, columns: Vec<String>, names: Names, tx: &ChunkSender) -> Result<(), String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet_with_constant_memory().map_err(err)?;
    sheet.set_name(entity.path()).map_err(err)?;
    for (c, name) in columns.iter().enumerate() {
        sheet.write_string_with_format(0, u16::try_from(c).map_err(|e| e.to_string())?, name, &bold).map_err(err)?;
    }
    let mut at: u32 = 1;
    let mut plan = None;
    while let Some(page) = pages.recv().await {
        let page = page?;
        for row in &page.rows {
            // A sheet holds 1,048,576 rows; beyond, CSV is the format.
            if at >= 1_048_576 {
                break;
            }
            let plan = plan.get_or_insert_with(|| sources(entity, row, &columns));
            let custom = OnceCell::new();
            for (c, source) in plan.iter().enumerate() {
                let text = cell(source, row, &names, &page.companies, &custom);
                if !text.is_empty() {
                    sheet.write_string(at, u16::try_from(c).map_err(|e| e.to_string())?, crate::reports::neutralized(text).as_ref()).map_err(err)?;
                }
            }
            at += 1;
        }
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("export.xlsx");
    let target = path.clone();
    tokio::task::spawn_blocking(move || book.save(&target)).await.map_err(|e| e.to_string())?.map_err(err)?;
    send_file(&path, tx).await;
    Ok(())
}

/// Sends a file in chunks down a response channel; a failed read ends the body with the error.
pub(crate) async fn send_file(path: &std::path::Path, tx: &ChunkSender) {
    use tokio::io::AsyncReadExt;
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        let mut chunk = vec![0u8; 256 * 1024];
        match file.read(&mut chunk).await {
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The borrowed reading of a list gives what the general one gives, for every shape a
    /// JSON column holds; what it cannot read goes the general way.
    #[test]
    fn json_cells_read_fast_as_in_general() {
        let cases = [
            (r#"[{"type":"work","value":"a@example.ru"},{"type":"home","value":"b\"q\"@example.ru"}]"#, r#"a@example.ru; b"q"@example.ru"#),
            (r#"[{"e164":"+79160000001","original":"+7 916 000-00-01","type":"mobile"}]"#, "+7 916 000-00-01"),
            (r#"["vip","опт"]"#, "vip; опт"),
            (r#"[{"city":"Москва","postal_code":"101000","street":"ул. Мира, 1","type":"work"}]"#, "101000, Москва, ул. Мира, 1"),
            ("[12,7]", "12; 7"),
            ("[]", ""),
            // Not a value nor an address: as JSON, whole.
            (r#"[{"product_id":3,"quantity":"2"}]"#, r#"{"product_id":3,"quantity":"2"}"#),
            // A value that is not text: the address parts, or the object.
            (r#"[{"value":null,"city":"Тверь"}]"#, "Тверь"),
            (r#"[{"value":5}]"#, r#"{"value":5}"#),
            ("[1.5,true,null]", "1.5; true; null"),
            (r#"{"given":false}"#, r#"{"given":false}"#),
            (r#""text""#, "text"),
            ("null", ""),
        ];
        for (json, want) in cases {
            let general = value_text(&serde_json::from_str(json).unwrap()).into_owned();
            assert_eq!(general, want, "{json}");
            assert_eq!(json_cell(json), want, "{json}");
        }
    }
}
