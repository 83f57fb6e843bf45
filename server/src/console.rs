//! `GET /` and its files: the browser console (service.md "The console"), the editor page of
//! `rules-wasm/web` built into a folder (`bash rules-wasm/build.sh` → `rules-wasm/web/dist`)
//! and served as it is. The console is public (no token): it holds no data, and every request
//! it makes for data goes through the API with the token the user types in.
//!
//! **Boundary:** only files under the console folder are served, by a path made of plain names
//! (no `..`, no absolute or hidden parts, no backslashes); anything under `/v1/` that is not a
//! route stays the API's JSON `404`. When the folder is not built, `GET /` answers a page that
//! says how to build it.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;

/// The folder a fresh build of the console lands in, relative to the workspace.
pub const DEFAULT_DIR: &str = "rules-wasm/web/dist";

/// The page `GET /` answers when the console is not built.
const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>challenge serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The console is not built</h1>
<p>This server answers the API under <a href="/v1/openapi.json"><code>/v1/</code></a>, but the
browser console's files are missing. Build them, then restart the server (or point
<code>challenge serve --console DIR</code> at a built copy):</p>
<pre>bash rules-wasm/build.sh      # → rules-wasm/web/dist</pre>
</body></html>
"#;

/// The console folder to serve: the given one, or [`DEFAULT_DIR`] under the current folder, or
/// beside the workspace the binary was built in (`target/release/challenge` → the workspace).
/// `None` when none of them holds an `index.html`.
pub fn locate(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(dir) = given {
        return Some(dir.to_path_buf());
    }
    let mut candidates = vec![PathBuf::from(DEFAULT_DIR)];
    if let Ok(exe) = std::env::current_exe() {
        // <workspace>/target/<profile>/challenge
        if let Some(workspace) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            candidates.push(workspace.join(DEFAULT_DIR));
        }
    }
    candidates
        .into_iter()
        .find(|dir| dir.join("index.html").is_file())
}

/// The content type of a console file, by its extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "jsonl" => "application/x-ndjson",
        "chal" | "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

/// The relative path of a request for a console file, when it is made of plain names only.
fn relative(uri_path: &str) -> Option<PathBuf> {
    let trimmed = uri_path.trim_start_matches('/');
    let wanted = if trimmed.is_empty() {
        "index.html"
    } else {
        trimmed
    };
    if wanted.contains('\\') || wanted.contains('\0') || wanted.contains('%') {
        return None;
    }
    let path = Path::new(wanted);
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => {
                let name = name.to_str()?;
                if name.starts_with('.') {
                    return None;
                }
                out.push(name);
            }
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Reads a console file, if it is a file under `dir` (symbolic links that leave it refused).
fn read(dir: &Path, rel: &Path) -> Option<(Vec<u8>, &'static str)> {
    let root = dir.canonicalize().ok()?;
    let full = root.join(rel).canonicalize().ok()?;
    if !full.starts_with(&root) || !full.is_file() {
        return None;
    }
    let bytes = std::fs::read(&full).ok()?;
    Some((bytes, content_type(&full)))
}

/// `GET /` and every other `GET` outside `/v1/`: a console file, or the API's JSON `404`.
/// (`/` without a built console: the page that says how to build it.)
pub async fn fallback(State(app): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    let api = path == "/v1" || path.starts_with("/v1/");
    if api || (method != Method::GET && method != Method::HEAD) {
        return crate::api::not_found().await.into_response();
    }
    let Some(rel) = relative(&path) else {
        return crate::api::not_found().await.into_response();
    };
    let index = rel == Path::new("index.html");
    let Some(dir) = app.console.clone() else {
        return if index {
            Html(NOT_BUILT).into_response()
        } else {
            crate::api::not_found().await.into_response()
        };
    };
    let found = tokio::task::spawn_blocking(move || read(&dir, &rel))
        .await
        .ok()
        .flatten();
    match found {
        Some((bytes, kind)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
                // The files change with each build; the browser asks again (a 200 each time:
                // they are small and local).
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None if index => Html(NOT_BUILT).into_response(),
        None => crate::api::not_found().await.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_make_a_path() {
        assert_eq!(relative("/"), Some(PathBuf::from("index.html")));
        assert_eq!(relative("/main.js"), Some(PathBuf::from("main.js")));
        assert_eq!(
            relative("/samples/users.jsonl"),
            Some(PathBuf::from("samples/users.jsonl"))
        );
        for bad in [
            "/../etc/passwd",
            "/samples/../../x",
            "/./main.js",
            "/.git/config",
            "/a\\..\\b",
            "/%2e%2e/x",
            "//etc/passwd/..",
        ] {
            assert_eq!(relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a/x.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("main.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("style.css")),
            "text/css; charset=utf-8"
        );
    }

    #[test]
    fn files_outside_the_folder_are_not_read() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("dist");
        std::fs::create_dir_all(dir.join("samples")).unwrap();
        std::fs::write(dir.join("index.html"), "<p>hi</p>").unwrap();
        std::fs::write(base.path().join("secret"), "no").unwrap();
        let (bytes, kind) = read(&dir, Path::new("index.html")).unwrap();
        assert_eq!(bytes, b"<p>hi</p>");
        assert_eq!(kind, "text/html; charset=utf-8");
        assert!(read(&dir, Path::new("../secret")).is_none());
        assert!(read(&dir, Path::new("samples")).is_none(), "a folder");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.path().join("secret"), dir.join("link")).unwrap();
            assert!(read(&dir, Path::new("link")).is_none());
        }
    }
}
