//! What a credential may do (SPEC "Multi-tenancy and auth"): an access token and an
//! `all` key reach every route; a `publish` key publishes events and reads them back,
//! and gets 403 `forbidden` anywhere else. The check is made where every caller is
//! authenticated (`Caller`), by route pattern, so a route added later is closed to
//! `publish` keys until it is named here.

use actix_web::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    All,
    Publish,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "all",
            Scope::Publish => "publish",
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
    }
}
