//! Full-text search over contacts and companies. The engines differ here, and only here:
//! SQLite uses an FTS5 table with prefix indexes, PostgreSQL a `tsvector` with a GIN index
//! plus trigrams for fragments. Both read the same `search_docs` rows and apply the same
//! visibility condition.
use crate::db::{Backend, Db, Row, Tx, Val, get_i64, get_str, insert_rows, query};
use crate::error::Result;
use crate::visibility;
use accord_domain::entities::Entity;
use accord_domain::permissions::Viewer;
use accord_domain::text;
use sea_query::{BinOper, Expr, ExprTrait, Func, Order, Query};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    pub entity: Entity,
    pub id: i64,
    pub display_name: String,
}

pub async fn remove(db: &Db, tx: &mut Tx, entity: Entity, record_id: i64) -> Result<()> {
    if db.backend == Backend::Sqlite {
        query("DELETE FROM search_fts WHERE rowid IN (SELECT id FROM search_docs WHERE entity = $1 AND record_id = $2)").bind(entity.as_str()).bind(record_id).execute(&mut **tx).await?;
    }
    query("DELETE FROM search_docs WHERE entity = $1 AND record_id = $2").bind(entity.as_str()).bind(record_id).execute(&mut **tx).await?;
    Ok(())
}

/// Gives a record this search document, writing only when it differs from the stored one.
#[allow(clippy::too_many_arguments)]
pub async fn replace(db: &Db, tx: &mut Tx, workspace_id: i64, entity: Entity, record_id: i64, owner_id: i64, display_name: &str, body: &str) -> Result<()> {
    let stored = query("SELECT owner_id, display_name, body FROM search_docs WHERE entity = $1 AND record_id = $2").bind(entity.as_str()).bind(record_id).fetch_all(&mut **tx).await?;
    if let [doc] = stored.as_slice()
        && get_i64(doc, "owner_id")? == owner_id
        && get_str(doc, "display_name")? == display_name
        && get_str(doc, "body")? == body
    {
        return Ok(());
    }
    remove(db, tx, entity, record_id).await?;
    add(db, tx, workspace_id, entity, record_id, owner_id, display_name, body).await
}

/// Adds the search document of a record that has none.
#[allow(clippy::too_many_arguments)]
pub async fn add(db: &Db, tx: &mut Tx, workspace_id: i64, entity: Entity, record_id: i64, owner_id: i64, display_name: &str, body: &str) -> Result<()> {
    add_many(db, tx, workspace_id, entity, vec![Doc { record_id, owner_id, display_name: display_name.to_owned(), body: body.to_owned() }]).await
}

/// A record's search document.
pub struct Doc {
    pub record_id: i64,
    pub owner_id: i64,
    pub display_name: String,
    pub body: String,
}

/// Adds the search documents of records that have none, a few statements for all of them.
pub async fn add_many(db: &Db, tx: &mut Tx, workspace_id: i64, entity: Entity, docs: Vec<Doc>) -> Result<()> {
    let bodies: Vec<String> = if db.backend == Backend::Sqlite { docs.iter().map(|d| d.body.clone()).collect() } else { Vec::new() };
    let rows = docs.into_iter().map(|d| vec![Val::from(workspace_id), Val::from(entity.as_str()), Val::from(d.record_id), Val::from(d.owner_id), Val::from(d.display_name), Val::from(d.body)]).collect();
    let ids = insert_rows(tx, "search_docs", &["workspace_id", "entity", "record_id", "owner_id", "display_name", "body"], rows, db.backend == Backend::Sqlite).await?;
    if db.backend == Backend::Sqlite {
        let rows = ids.into_iter().zip(bodies).map(|(id, body)| vec![Val::from(id), Val::from(body)]).collect();
        insert_rows(tx, "search_fts", &["rowid", "body"], rows, false).await?;
    }
    Ok(())
}

/// How many of the newest matches SQLite ranks. A common prefix matches tens of thousands
/// of documents ("ива*" in a million contacts); the newest few hundred hold what people type
/// ahead for.
const SQLITE_CANDIDATES: u64 = 500;

/// Splits a query into search words the way documents were written: lower-cased, phone
/// numbers in any notation collapsed to their digits.
pub fn words(q: &str) -> Vec<String> {
    let folded = text::fold(q);
    let digits: String = folded.chars().filter(char::is_ascii_digit).collect();
    let phone_like = digits.len() >= 5 && folded.chars().all(|c| c.is_ascii_digit() || " +-()./".contains(c));
    if phone_like {
        return vec![digits];
    }
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(8).map(str::to_owned).collect()
}

pub async fn search(db: &Db, viewer: &Viewer, q: &str, entity: Option<Entity>, limit: u32) -> Result<Vec<Hit>> {
    let words = words(q);
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let mut select = Query::select();
    select.columns([("search_docs", "entity"), ("search_docs", "record_id"), ("search_docs", "display_name")]).cond_where(visibility::readable(viewer, "search_docs")).limit(u64::from(limit));
    if let Some(e) = entity {
        select.and_where(Expr::col(("search_docs", "entity")).eq(e.as_str()));
    }
    match db.backend {
        Backend::Sqlite => return sqlite_search(db, select, &words, limit).await,
        Backend::Postgres => {
            let tsquery = words.iter().map(|w| format!("{}:*", w.replace(['\'', '\\', ':', '&', '|', '!', '(', ')'], ""))).filter(|w| w.len() > 2).collect::<Vec<_>>().join(" & ");
            let like = format!("%{}%", words.join(" ").replace(['%', '_', '\\'], ""));
            let ts = || Expr::from(Func::cust("to_tsquery").args([Expr::cust("'simple'::regconfig"), Expr::val(tsquery.clone())]));
            let tsv = || Expr::col(("search_docs", "tsv"));
            select
                .from("search_docs")
                .and_where(tsv().binary(BinOper::Custom("@@"), ts()).or(Expr::col(("search_docs", "body")).like(like)))
                .order_by_expr(Func::cust("ts_rank").args([tsv(), ts()]).into(), Order::Desc)
                .order_by(("search_docs", "record_id"), Order::Desc);
        }
    }
    Ok(hits(db.fetch_all(&select).await?))
}

/// How well a record's name answers the search words: per word, 2 when a word of the name
/// is that word, 1 when one starts with it, 0 when the word matched elsewhere (an e-mail, a
/// phone, a tag). Type-ahead looks for a name, so name matches go first. SQLite's bm25 was
/// not used for this: its weights need the number of documents each word matches, and
/// counting those for a common prefix cost more than the rest of the search together.
pub fn name_rank(words: &[String], display_name: &str) -> u32 {
    let name = text::fold(display_name);
    let name_words: Vec<&str> = name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    words
        .iter()
        .map(|w| {
            if name_words.iter().any(|n| n == w) {
                2
            } else if name_words.iter().any(|n| n.starts_with(w.as_str())) {
                1
            } else {
                0
            }
        })
        .sum()
}

/// Ranks the newest candidates by [`name_rank`], newest first among equals; when that leaves
/// the page short although more matches exist (other workspaces' or invisible records
/// crowded the candidates), the newest visible matches fill it.
async fn sqlite_search(db: &Db, base: sea_query::SelectStatement, words: &[String], limit: u32) -> Result<Vec<Hit>> {
    // Each word is a quoted prefix term: user input never becomes FTS5 syntax.
    let fts = words.iter().map(|w| format!("\"{}\"*", w.replace('"', "\"\""))).collect::<Vec<_>>().join(" ");
    let matching = || Expr::col("search_fts").binary(BinOper::Custom("MATCH"), fts.clone());
    let mut candidates = Query::select();
    candidates.expr_as(Expr::col("rowid"), "doc_id").from("search_fts").and_where(matching()).order_by("rowid", Order::Desc).limit(SQLITE_CANDIDATES);
    let mut ranked = base.clone();
    ranked.reset_limit().column(("search_docs", "id")).from_subquery(candidates, "c").inner_join("search_docs", Expr::col(("search_docs", "id")).equals(("c", "doc_id")));
    let mut scored = Vec::new();
    for row in db.fetch_all(&ranked).await? {
        if let Some(hit) = hit(&row) {
            scored.push((name_rank(words, &hit.display_name), get_i64(&row, "id")?, hit));
        }
    }
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    let mut found: Vec<Hit> = scored.into_iter().take(limit as usize).map(|(_, _, hit)| hit).collect();
    if found.len() < limit as usize {
        let mut capped = Query::select();
        capped.expr(Expr::col("rowid")).from("search_fts").and_where(matching()).limit(SQLITE_CANDIDATES + 1);
        let mut count = Query::select();
        count.expr_as(Expr::cust("COUNT(*)"), "n").from_subquery(capped, "m");
        let more = db.fetch_optional(&count).await?.map(|r| get_i64(&r, "n")).transpose()?.unwrap_or(0) > SQLITE_CANDIDATES as i64;
        if more {
            let mut newest = base;
            newest.from("search_fts").inner_join("search_docs", Expr::col(("search_docs", "id")).equals(("search_fts", "rowid"))).and_where(matching()).order_by(("search_fts", "rowid"), Order::Desc);
            for hit in hits(db.fetch_all(&newest).await?) {
                if found.len() < limit as usize && !found.iter().any(|h| h.entity == hit.entity && h.id == hit.id) {
                    found.push(hit);
                }
            }
        }
    }
    Ok(found)
}

/// A row's hit; rows of an entity this build does not know are left out.
fn hit(r: &Row) -> Option<Hit> {
    let entity = get_str(r, "entity").ok().and_then(|e| Entity::parse(&e))?;
    Some(Hit { entity, id: get_i64(r, "record_id").ok()?, display_name: get_str(r, "display_name").ok()? })
}

fn hits(rows: Vec<Row>) -> Vec<Hit> {
    rows.iter().filter_map(hit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_queries_collapse_to_digits() {
        assert_eq!(words("+7 (916) 123-45"), vec!["791612345"]);
        assert_eq!(words("Ива Петр"), vec!["ива", "петр"]);
        assert_eq!(words("a\"b OR c*"), vec!["a", "b", "or", "c"]);
    }

    #[test]
    fn names_that_are_the_word_rank_before_names_that_start_with_it() {
        let q = words("ива");
        assert_eq!(name_rank(&q, "Ива Смирнова"), 2);
        assert_eq!(name_rank(&q, "Иванов Пётр"), 1);
        assert_eq!(name_rank(&q, "Пётр Смирнов"), 0, "matched in the e-mail or a tag, not the name");
        assert_eq!(name_rank(&words("Иван Пет"), "ИВАН Петров"), 3);
    }
}
