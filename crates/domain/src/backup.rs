//! Workspace archives: which values of an archived row are ids of other rows, so that an
//! archive restored beside its original (or into another install, whose ids are taken)
//! gets new ids and every reference follows. One naming rule covers the columns and the
//! keys inside JSON columns (audit changes, timeline summaries, deal lines), because the
//! schema names every reference after what it points to.
use crate::entities::Entity;
use serde_json::Value;

/// The table an id column or JSON key points into, by its name.
pub fn link_of(key: &str) -> Option<&'static str> {
    Some(match key {
        "owner_id" | "created_by" | "updated_by" | "deleted_by" | "actor_id" | "author_id" | "user_id" | "user_ids" | "invited_by" => "users",
        "company_id" | "primary_company_id" | "company_ids" => "companies",
        "contact_id" | "contact_ids" => "contacts",
        "deal_id" => "deals",
        "lead_id" => "leads",
        "product_id" => "products",
        "pipeline_id" => "pipelines",
        "stage_id" | "from_stage_id" | "to_stage_id" => "stages",
        "lost_reason_id" => "lost_reasons",
        "team_id" => "teams",
        "field_id" => "custom_field_defs",
        "price_list_id" => "price_lists",
        _ => return None,
    })
}

/// The table a polymorphic `record_id` points into, from the row's `entity`: a record, or
/// a setting whose changes the audit log keeps.
pub fn record_table(entity: &str) -> Option<&'static str> {
    match entity {
        "pipeline" => Some("pipelines"),
        "lost_reason" => Some("lost_reasons"),
        "exchange_rate" => Some("exchange_rates"),
        "goal" => Some("goals"),
        "view" => Some("saved_views"),
        "price_list" => Some("price_lists"),
        other => Entity::ALL.into_iter().find(|e| e.as_str() == other).map(Entity::table),
    }
}

/// Audit subjects that are events, not rows an archive holds (an export, an import, an
/// archive made or restored): their entries are kept, pointing at nothing (id 0).
pub const UNLINKED_SUBJECTS: &[&str] = &["export", "import", "archive"];

/// The table a timeline row's `ref_id` points into, from its `kind`: the audit entry of a
/// change, the note, the stay in a stage, or the deal, activity or task shown.
pub fn timeline_ref_table(kind: &str) -> Option<&'static str> {
    match kind {
        "change" => Some("audit_log"),
        "note" => Some("notes"),
        "stage" => Some("deal_stage_history"),
        other => record_table(other),
    }
}

/// Columns whose text is JSON holding references (besides `custom_fields`, whose keys are
/// the workspace's own and so could collide with the naming rule).
pub const JSON_COLUMNS: &[&str] = &["company_ids", "contacts", "items", "participants", "changes", "summary"];

/// Rewrites the ids inside `value`, the content of the JSON column or key named `key`:
/// numbers under a key that [`link_of`] names are looked up with `new_id`. An id the archive
/// does not hold becomes null, or leaves a list of ids (`company_ids`, `contact_ids`).
pub fn remap_json(value: &mut Value, key: Option<&str>, new_id: &dyn Fn(&str, i64) -> Option<i64>) {
    let table = key.and_then(link_of);
    match value {
        Value::Number(n) => {
            if let (Some(t), Some(old)) = (table, n.as_i64()) {
                *value = new_id(t, old).map_or(Value::Null, Value::from);
            }
        }
        Value::Array(items) => {
            let id_list = table.is_some() && key.is_some_and(|k| k.ends_with("_ids")) && items.iter().all(Value::is_number);
            for item in items.iter_mut() {
                remap_json(item, key, new_id);
            }
            if id_list {
                items.retain(|v| !v.is_null());
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                remap_json(v, Some(k), new_id);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plus_1000(table: &str, id: i64) -> Option<i64> {
        (id != 404).then_some(if table == "users" { id + 1 } else { id + 1000 })
    }

    #[test]
    fn ids_follow_their_key_at_any_depth() {
        let mut items = json!([{ "product_id": 5, "quantity": "2", "name": "GTX" }, { "product_id": null, "name": "Ad hoc" }]);
        remap_json(&mut items, None, &plus_1000);
        assert_eq!(items, json!([{ "product_id": 1005, "quantity": "2", "name": "GTX" }, { "product_id": null, "name": "Ad hoc" }]));

        let mut changes = json!({ "owner_id": [3, 4], "stage_id": [10, 11], "title": ["a", "b"], "company_ids": [[1], [1, 2]] });
        remap_json(&mut changes, None, &plus_1000);
        assert_eq!(changes, json!({ "owner_id": [4, 5], "stage_id": [1010, 1011], "title": ["a", "b"], "company_ids": [[1001], [1001, 1002]] }));

        let mut participants = json!({ "user_ids": [1], "contact_ids": [7, 404] });
        remap_json(&mut participants, None, &plus_1000);
        assert_eq!(participants, json!({ "user_ids": [2], "contact_ids": [1007] }), "an id the archive lacks leaves the list");
    }

    #[test]
    fn a_missing_scalar_becomes_null_and_other_numbers_stay() {
        let mut summary = json!({ "from_stage_id": 404, "to_stage_id": 2, "amount": 1500, "owner_id": [404, 3] });
        remap_json(&mut summary, None, &plus_1000);
        assert_eq!(summary, json!({ "from_stage_id": null, "to_stage_id": 1002, "amount": 1500, "owner_id": [null, 4] }), "an old/new pair keeps its shape");
        let mut ids = json!([1, 404]);
        remap_json(&mut ids, Some("company_ids"), &plus_1000);
        assert_eq!(ids, json!([1001]));
    }

    #[test]
    fn polymorphic_references_name_their_table() {
        assert_eq!(record_table("deal"), Some("deals"));
        assert_eq!(record_table("ticket"), None);
        assert_eq!(record_table("pipeline"), Some("pipelines"));
        assert_eq!(timeline_ref_table("change"), Some("audit_log"));
        assert_eq!(timeline_ref_table("task"), Some("tasks"));
        assert_eq!(timeline_ref_table("stage"), Some("deal_stage_history"));
    }
}
