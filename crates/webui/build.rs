//! Builds the web app (`web/`) with npm into Cargo's OUT_DIR, where `include_dir!` embeds it.
//! Without Node.js (or with `ACCORD_SKIP_UI` set) the folder stays empty and the server
//! explains at `/` how to get the UI; a failing web build fails the Cargo build.
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let web = manifest.join("../../web");
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("dist");
    println!("cargo:rerun-if-env-changed=ACCORD_SKIP_UI");
    for input in ["src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts", "tsconfig.json"] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| format!("cannot clear {}: {e}", out.display()))?;
    }
    fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    if env::var_os("ACCORD_SKIP_UI").is_some() {
        println!("cargo:warning=ACCORD_SKIP_UI is set: the binary is built without the web app");
        return Ok(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        println!("cargo:warning=npm was not found: the binary is built without the web app (install Node.js 20+ and rebuild)");
        return Ok(());
    }
    if needs_install(&web) {
        npm(&web, &["ci", "--no-audit", "--no-fund"], &out)?;
    }
    npm(&web, &["run", "build"], &out)
}

/// `npm ci` again only when the lock file changed since the last install.
fn needs_install(web: &Path) -> bool {
    let modified = |p: PathBuf| fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(web.join("package-lock.json")), modified(web.join("node_modules/.package-lock.json"))) {
        (Some(lock), Some(installed)) => lock > installed,
        _ => true,
    }
}

fn npm(web: &Path, args: &[&str], out: &Path) -> Result<(), String> {
    let status = Command::new("npm")
        .args(args)
        .current_dir(web)
        .env("ACCORD_UI_OUT", out)
        .status()
        .map_err(|e| format!("npm {}: {e}", args.join(" ")))?;
    if status.success() { Ok(()) } else { Err(format!("npm {} failed ({status}) in {}", args.join(" "), web.display())) }
}
