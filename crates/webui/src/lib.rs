//! The web app's built files, embedded at compile time (see `build.rs`).
use include_dir::{Dir, include_dir};

static DIST: Dir<'static> = include_dir!("$OUT_DIR/dist");

pub struct Asset {
    pub body: &'static [u8],
    pub content_type: String,
    /// Vite puts a content hash in every file name under `assets/`: those never change.
    pub immutable: bool,
}

/// A built file by its path under `/`, if there is one.
pub fn asset(path: &str) -> Option<Asset> {
    let path = path.trim_start_matches('/');
    if path.is_empty() {
        return None;
    }
    let file = DIST.get_file(path)?;
    Some(Asset {
        body: file.contents(),
        content_type: mime_guess::from_path(path).first_or_octet_stream().essence_str().to_owned(),
        immutable: path.starts_with("assets/"),
    })
}

/// The app's page, served for every route of the app (deep links); None when the binary was
/// built without the web app.
pub fn index() -> Option<&'static [u8]> {
    DIST.get_file("index.html").map(|f| f.contents())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_assets_are_immutable_and_typed() {
        let Some(index) = index() else {
            println!("SKIP: built without the web app");
            return;
        };
        let html = String::from_utf8_lossy(index);
        let script = html.split("src=\"/").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let script_asset = asset(script).unwrap_or_else(|| panic!("{script} is referenced by index.html but not embedded"));
        assert!(script_asset.immutable);
        assert!(script_asset.content_type.ends_with("javascript"), "{}", script_asset.content_type);
        assert!(asset("manifest.webmanifest").is_some());
        assert!(asset("no/such/file.js").is_none());
    }
}
