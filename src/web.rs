//! The search page that `claimsearch serve` answers at `/`: one HTML document,
//! its script and its stylesheet, embedded in the binary at compile time.
//!
//! The page is plain HTML, CSS and JavaScript (no build step, no framework)
//! and asks only the server that served it (`/search`, `/records`, `/stats`),
//! so it works on a machine without internet. This module only says which
//! bytes answer which path; the server wires it to its routes.

/// One embedded file of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The `Content-Type` to answer with.
    pub content_type: &'static str,
    /// The file's contents.
    pub body: &'static str,
}

/// The paths the page answers: its two views, then its script and stylesheet.
pub const PATHS: [&str; 4] = ["/", "/item", "/app.js", "/style.css"];

/// The `Content-Security-Policy` the page is served with: the browser itself
/// refuses any request to another host, and any inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

const HTML: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_str!("web/index.html"),
};
const SCRIPT: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("web/app.js"),
};
const STYLE: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    body: include_str!("web/style.css"),
};

/// The asset that answers a GET of `path` (without its query string), if any.
///
/// Both views of the page, the search (`/`) and an item (`/item`), are the
/// same document: its script reads the address and draws the view.
pub fn asset(path: &str) -> Option<Asset> {
    match path {
        "/" | "/item" => Some(HTML),
        "/app.js" => Some(SCRIPT),
        "/style.css" => Some(STYLE),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_has_its_asset_and_nothing_else_does() {
        for path in PATHS {
            assert!(asset(path).is_some(), "{path}");
        }
        assert_eq!(asset("/item"), asset("/"));
        assert_eq!(asset("/app.js").unwrap().content_type, SCRIPT.content_type);
        for path in [
            "",
            "/index.html",
            "/search",
            "/app.js/",
            "/../Cargo.toml",
            "/style",
        ] {
            assert_eq!(asset(path), None, "{path}");
        }
    }

    #[test]
    fn the_page_is_small_and_self_contained() {
        let total: usize = [HTML, SCRIPT, STYLE].iter().map(|a| a.body.len()).sum();
        assert!(total < 60 * 1024, "the page's files weigh {total} bytes");
        // It loads exactly its own script and stylesheet.
        assert!(HTML
            .body
            .contains(r#"<script src="/app.js" defer></script>"#));
        assert!(HTML
            .body
            .contains(r#"<link rel="stylesheet" href="/style.css">"#));
        for asset in [HTML, SCRIPT, STYLE] {
            // The SVG namespace is a name, not an address the browser loads.
            let body = asset.body.replace("http://www.w3.org/2000/svg", "");
            for far in ["://", "@import", "url("] {
                assert!(!body.contains(far), "{far} in {}", asset.content_type);
            }
        }
        // No inline script: the Content-Security-Policy forbids it.
        assert_eq!(HTML.body.matches("<script").count(), 1);
        assert!(!HTML.body.contains(" onclick="));
    }
}
