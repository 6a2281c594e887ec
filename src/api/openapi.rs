//! The OpenAPI description (hand-written, checked against the registered routes by tests);
//! `api::docs` serves it.

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The methods the description documents for each path, as an `Allow` header value
/// (`GET, POST`), for the 405 answers. Tests hold the description to the routes: each
/// documented method is routed, and every other method answers 405 with this list.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static ALLOW: std::sync::LazyLock<std::collections::HashMap<String, String>> = std::sync::LazyLock::new(|| {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI_JSON).unwrap_or_default();
        let mut allow = std::collections::HashMap::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let methods: Vec<String> = ["get", "post", "put", "patch", "delete"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| m.to_uppercase())
                .collect();
            allow.insert(path.clone(), methods.join(", "));
        }
        allow
    });
    ALLOW.get(path).map(String::as_str)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_description_is_openapi_3_1_json() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI_JSON).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
