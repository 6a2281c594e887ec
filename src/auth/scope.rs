//! What a credential may do (SPEC "Multi-tenancy and auth"): an access token and an
//! `all` key reach every route; a `publish` key publishes events and reads them back,
//! and gets 403 `forbidden` anywhere else. The check is made where every caller is
//! authenticated (`Caller`), by route pattern, so a route added later is closed to
//! `publish` keys until it is named here. A consumer portal token (`Portal`) reaches the
//! routes of its consumer's webhooks only (SPEC "Dashboard and consumer portal"); which
//! webhooks are its own is checked by the handlers (`Caller::webhook`).

use actix_web::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Publish,
    /// A consumer portal session; never an API key's scope.
    Portal,
}

/// The routes a portal token reaches.
const PORTAL_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{id}"),
    ("PATCH", "/api/v1/webhooks/{id}"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("GET", "/api/v1/webhooks/{id}/secret"),
    ("POST", "/api/v1/webhooks/{id}/rotate-secret"),
    ("POST", "/api/v1/webhooks/{id}/test"),
    ("GET", "/api/v1/webhooks/{id}/logs"),
    ("GET", "/api/v1/webhooks/{id}/stats"),
    ("POST", "/api/v1/webhooks/{id}/recover"),
    ("GET", "/api/v1/webhooks/{id}/recoveries/{rid}"),
    ("GET", "/api/v1/deliveries"),
    ("GET", "/api/v1/deliveries/{id}"),
    ("POST", "/api/v1/deliveries/{id}/retry"),
    ("GET", "/api/v1/stream"),
];

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Publish => "publish",
            Scope::Portal => "portal",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "all" => Some(Scope::All),
            "publish" => Some(Scope::Publish),
            _ => None,
        }
    }

    /// Whether the scope covers `method` on the route `pattern` (as registered, e.g.
    /// `/api/v1/events/{id}`).
    pub fn allows(self, method: &Method, pattern: Option<&str>) -> bool {
        match self {
            Scope::All => true,
            Scope::Publish => matches!(
                (method, pattern),
                (&Method::POST, Some("/api/v1/events")) | (&Method::GET, Some("/api/v1/events/{id}"))
            ),
            Scope::Portal => pattern.is_some_and(|p| PORTAL_ROUTES.contains(&(method.as_str(), p))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_key_reaches_publishing_and_its_events_only() {
        let p = Scope::Publish;
        assert!(p.allows(&Method::POST, Some("/api/v1/events")));
        assert!(p.allows(&Method::GET, Some("/api/v1/events/{id}")));
        assert!(!p.allows(&Method::GET, Some("/api/v1/events")));
        assert!(!p.allows(&Method::GET, Some("/api/v1/webhooks/{id}/secret")));
        assert!(!p.allows(&Method::POST, Some("/api/v1/api-keys")));
        assert!(!p.allows(&Method::GET, None));
        assert!(Scope::All.allows(&Method::DELETE, Some("/api/v1/webhooks/{id}")));
        assert_eq!(Scope::parse("publish"), Some(Scope::Publish));
        assert_eq!(Scope::parse("Publish"), None);
        assert_eq!(Scope::parse("portal"), None, "never an API key's scope");
    }

    #[test]
    fn a_portal_token_reaches_its_webhooks_routes_only() {
        let p = Scope::Portal;
        assert!(p.allows(&Method::GET, Some("/api/v1/webhooks")));
        assert!(p.allows(&Method::POST, Some("/api/v1/webhooks/{id}/recover")));
        assert!(p.allows(&Method::GET, Some("/api/v1/stream")));
        for (method, route) in [
            (Method::POST, "/api/v1/events"),
            (Method::GET, "/api/v1/events"),
            (Method::GET, "/api/v1/events/{id}"),
            (Method::POST, "/api/v1/api-keys"),
            (Method::POST, "/api/v1/portal-sessions"),
            (Method::GET, "/api/v1/stats"),
        ] {
            assert!(!p.allows(&method, Some(route)), "{method} {route}");
        }
    }
}
