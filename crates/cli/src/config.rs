//! Layering of the configuration file and `*_FILE` secrets into the environment that clap
//! reads, so every option has one definition (its clap flag) and four sources.
use anyhow::{Context, bail};

const PREFIX: &str = "ACCORD_";

fn config_path() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--config")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--config=").map(str::to_owned)))
        .or_else(|| std::env::var("ACCORD_CONFIG").ok())
}

pub fn layer_environment() -> anyhow::Result<()> {
    let mut additions: Vec<(String, String)> = Vec::new();
    // ACCORD_X_FILE=/run/secrets/x gives ACCORD_X the file's content.
    for (key, path) in std::env::vars() {
        if let Some(name) = key.strip_prefix(PREFIX).and_then(|k| k.strip_suffix("_FILE")) {
            let target = format!("{PREFIX}{name}");
            if std::env::var_os(&target).is_none() {
                let value = std::fs::read_to_string(&path).with_context(|| format!("{key}: cannot read {path}"))?;
                additions.push((target, value.trim_end_matches(['\n', '\r']).to_owned()));
            }
        }
    }
    if let Some(path) = config_path() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read the configuration file {path}"))?;
        let table: toml::Table = text.parse().with_context(|| format!("{path} is not valid TOML"))?;
        for (key, value) in table {
            let var = format!("{PREFIX}{}", key.to_ascii_uppercase().replace('-', "_"));
            let value = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => bail!("{path}: {key} must be a string, number or boolean, not {other}"),
            };
            if std::env::var_os(&var).is_none() && !additions.iter().any(|(k, _)| k == &var) {
                additions.push((var, value));
            }
        }
    }
    for (k, v) in additions {
        // SAFETY: called at the start of main, before the runtime or any other thread starts.
        unsafe { std::env::set_var(k, v) };
    }
    Ok(())
}
