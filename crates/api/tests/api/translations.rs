//! Every error code the server can name has its text in both languages of the web app: the
//! per-field ones (`accord.errors.<code>`, shown next to the field) and the problem kinds
//! (`accord.problems.<code>`, shown for the whole request). The API's English message is only
//! the fallback.
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_error_code_is_translated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for krate in ["domain", "storage", "api"] {
        sources(&root.join("crates").join(krate).join("src"), &mut files);
    }
    let second = regex::Regex::new(r#"(?:errors\.add|ValidationErrors::single|ApiError::field)\([^,]*,\s*"([a-z_]+)""#).unwrap();
    let first = regex::Regex::new(r#"Invalid::new\(\s*"([a-z_]+)""#).unwrap();
    let problem = regex::Regex::new(r#"(?:Error::conflict\(|ApiError::new\(StatusCode::[A-Z_]+,)\s*"([a-z_]+)""#).unwrap();
    let (mut fields, mut problems) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for c in second.captures_iter(&text).chain(first.captures_iter(&text)) {
            fields.insert(c[1].to_owned());
        }
        for c in problem.captures_iter(&text) {
            problems.insert(c[1].to_owned());
        }
    }
    assert!(fields.len() > 50 && problems.len() > 20, "the scan finds the codes: {fields:?} {problems:?}");
    for lang in ["ru", "en"] {
        let file = root.join(format!("web/src/i18n/{lang}.json"));
        let messages: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for (group, codes) in [("errors", &fields), ("problems", &problems)] {
            let missing: Vec<&String> = codes.iter().filter(|c| messages["accord"][group][c.as_str()].as_str().is_none_or(str::is_empty)).collect();
            assert!(missing.is_empty(), "{} lacks accord.{group} for {missing:?}", file.display());
        }
    }
}
