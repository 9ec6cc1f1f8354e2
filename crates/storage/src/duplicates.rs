//! The duplicate finder over a whole kind of record: groups of records that share an
//! identifier (e-mail, phone, INN), a company domain, or a name once spelling, order, legal
//! form and alphabet are set aside (`accord_domain::dedupe`), each group with its score;
//! and the bulk merge of reviewed groups, one undoable merge per record.
use crate::accounts::Principal;
use crate::db::{Db, get_i64, get_opt_str, query};
use crate::error::{Error, Result};
use crate::records::{self, T};
use crate::visibility;
use accord_domain::ValidationErrors;
use accord_domain::dedupe::{self, Reason};
use accord_domain::entities::Entity;
use sea_query::{Expr, ExprTrait, Order, Query};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Candidate {
    pub id: i64,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group {
    /// 100 for a shared INN down to 60 for a similar name: the strongest reason's.
    pub score: u8,
    pub reasons: Vec<Reason>,
    /// Oldest first: the usual survivor.
    pub records: Vec<Candidate>,
}

fn check_entity(entity: Entity) -> Result<()> {
    if matches!(entity, Entity::Contact | Entity::Company) { Ok(()) } else { Err(ValidationErrors::single("entity", "unknown_value", "duplicates are looked for among contacts and companies").into()) }
}

/// Up to how many records names are also compared for typos (the variants of every name are
/// held in memory); larger bases get the exact matches.
const TYPO_SEARCH_MAX: usize = 300_000;

/// Groups of likely duplicates the caller can see, strongest first.
pub async fn find(db: &Db, p: &Principal, entity: Entity, limit: usize) -> Result<Vec<Group>> {
    check_entity(entity)?;
    let mut s = Query::select();
    s.columns([(T, "id"), (T, "display_name")]).from_as(entity.table(), T);
    if entity == Entity::Company {
        s.column((T, "domain"));
    }
    s.cond_where(visibility::readable(&p.viewer, T)).and_where(Expr::col((T, "workspace_id")).eq(p.workspace_id)).and_where(Expr::col((T, "deleted_at")).is_null()).order_by((T, "id"), Order::Asc);
    let rows = db.fetch_all(&s).await?;
    let mut records = Vec::with_capacity(rows.len());
    let mut index: HashMap<i64, usize> = HashMap::with_capacity(rows.len());
    let mut links: Vec<(usize, usize, Reason)> = Vec::new();
    let mut first_of: HashMap<(Reason, String), usize> = HashMap::new();
    let mut name_keys: Vec<(usize, String)> = Vec::new();
    let mut link = |key: Option<String>, reason: Reason, i: usize, links: &mut Vec<(usize, usize, Reason)>| {
        if let Some(k) = key {
            match first_of.get(&(reason, k.clone())) {
                Some(&first) if first != i => links.push((first, i, reason)),
                Some(_) => {}
                None => {
                    first_of.insert((reason, k), i);
                }
            }
        }
    };
    for (i, r) in rows.iter().enumerate() {
        let id = get_i64(r, "id")?;
        let name = get_opt_str(r, "display_name")?.unwrap_or_default();
        let key = if entity == Entity::Company { dedupe::company_key(&name) } else { dedupe::person_key(&name) };
        if let Some(k) = &key
            && rows.len() <= TYPO_SEARCH_MAX
        {
            name_keys.push((i, k.clone()));
        }
        link(key, Reason::SameName, i, &mut links);
        if entity == Entity::Company {
            link(get_opt_str(r, "domain")?.filter(|d| !d.is_empty()), Reason::SameDomain, i, &mut links);
        }
        index.insert(id, i);
        records.push(Candidate { id, display_name: name });
    }
    links.extend(dedupe::one_typo_apart(&name_keys).into_iter().map(|(a, b)| (a, b, Reason::SimilarName)));
    // Identifiers two records share, from the keys every write keeps.
    let shared = query(
        "SELECT k.kind, k.value, k.record_id FROM record_keys k WHERE k.workspace_id = $1 AND k.entity = $2 AND k.kind IN ('email', 'phone', 'inn') \
         AND EXISTS (SELECT 1 FROM record_keys o WHERE o.workspace_id = k.workspace_id AND o.entity = k.entity AND o.kind = k.kind AND o.value = k.value AND o.record_id <> k.record_id)",
    )
    .bind(p.workspace_id)
    .bind(entity.as_str())
    .fetch_all(db)
    .await?;
    for r in shared {
        let kind = crate::db::get_str(&r, "kind")?;
        let (Some(reason), Some(&i)) = (Reason::of_key_kind(&kind), index.get(&get_i64(&r, "record_id")?)) else { continue };
        link(Some(crate::db::get_str(&r, "value")?), reason, i, &mut links);
    }
    let mut groups: Vec<Group> = dedupe::groups(records.len(), &links)
        .into_iter()
        .map(|(members, reasons)| Group { score: reasons.first().map_or(0, |r| r.score()), reasons, records: members.into_iter().map(|i| records[i].clone()).collect() })
        .collect();
    groups.sort_by(|a, b| b.score.cmp(&a.score).then(b.records.len().cmp(&a.records.len())).then(a.records[0].id.cmp(&b.records[0].id)));
    groups.truncate(limit);
    Ok(groups)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeGroup {
    /// The record that stays; its values win, lists (e-mails, phones, tags …) are united.
    pub survivor_id: i64,
    /// The records merged into it (each to the trash, each merge undoable).
    pub merged_ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Merged {
    pub survivor_id: i64,
    pub merged_id: i64,
    /// Undo with `POST /api/v1/merges/{merge_id}/undo`.
    pub merge_id: Option<i64>,
    /// Why this record was not merged (changed, not yours to edit …).
    pub error: Option<String>,
}

/// Merges reviewed groups; a record that cannot be merged is reported and the rest go on.
pub async fn merge_groups(db: &Db, p: &Principal, entity: Entity, groups: &[MergeGroup]) -> Result<Vec<Merged>> {
    check_entity(entity)?;
    if groups.iter().map(|g| g.merged_ids.len()).sum::<usize>() > 1000 {
        return Err(ValidationErrors::single("groups", "too_many", "at most 1000 records in one request").into());
    }
    let custom = crate::custom_fields::for_entity(db, p.workspace_id, entity).await?;
    let mut out = Vec::new();
    for g in groups {
        for &merged_id in g.merged_ids.iter().filter(|m| **m != g.survivor_id) {
            let result = records::merge(db, p, entity, g.survivor_id, merged_id, &[], &custom).await;
            out.push(match result {
                Ok((_, merge_id)) => Merged { survivor_id: g.survivor_id, merged_id, merge_id: Some(merge_id), error: None },
                Err(e @ (Error::NotFound | Error::Forbidden(_) | Error::VersionConflict { .. } | Error::Conflict { .. } | Error::Invalid(_))) => Merged { survivor_id: g.survivor_id, merged_id, merge_id: None, error: Some(e.to_string()) },
                Err(e) => return Err(e),
            });
        }
    }
    Ok(out)
}
