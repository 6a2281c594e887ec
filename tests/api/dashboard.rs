//! The dashboard's pages as the server serves them: headers, and every file they load.
//! What the pages do in a browser is tested by scripts/browser-test (headless Chromium).

use std::collections::BTreeSet;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_and_the_portal_are_served_with_a_strict_policy() {
    let app = TestApp::spawn_with(&["--portal-frame-ancestors", "'self' https://app.example.com"]).await;
    for (path, ancestors) in [("/", "'none'"), ("/portal", "'self' https://app.example.com")] {
        let res = app.http.get(format!("{}{path}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(header("content-type").as_deref(), Some("text/html; charset=utf-8"));
        let csp = header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self';") && csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe"), "{path}: {csp}");
        assert!(csp.ends_with(&format!("frame-ancestors {ancestors}")), "{path}: {csp}");
        assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"));
        let html = res.text().await.unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("https://"),
            "{path}: no inline script, nothing from elsewhere"
        );
    }
}

/// Every file the page loads, and every module those import, is served (a file added to
/// assets/dashboard/ but not to the server's list would break the page only in a browser).
#[tokio::test(flavor = "multi_thread")]
async fn every_file_the_pages_load_is_served() {
    let app = TestApp::spawn().await;
    let html = app.http.get(format!("{}/", app.base)).send().await.unwrap().text().await.unwrap();
    let mut pending: Vec<String> = references(&html, &["href=\"/ui/", "src=\"/ui/"]);
    let mut seen = BTreeSet::new();
    while let Some(file) = pending.pop() {
        if !seen.insert(file.clone()) {
            continue;
        }
        let res = app.http.get(format!("{}/ui/{file}", app.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "/ui/{file}");
        let kind = if file.ends_with(".js") { "text/javascript" } else { "text/css" };
        assert!(res.headers()["content-type"].to_str().unwrap().starts_with(kind), "/ui/{file}");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        let body = res.text().await.unwrap();
        pending.extend(references(&body, &["from \"./"]));
    }
    assert!(seen.len() >= 6, "index.html, its modules and the stylesheet: {seen:?}");
    let missing = app.http.get(format!("{}/ui/nope.js", app.base)).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

/// The file names after each of `prefixes` up to the closing quote.
fn references(text: &str, prefixes: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for prefix in prefixes {
        for (at, _) in text.match_indices(prefix) {
            let rest = &text[at + prefix.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_owned());
            }
        }
    }
    out
}
