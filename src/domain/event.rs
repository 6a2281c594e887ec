//! Event type names and the filters webhooks subscribe with.
//!
//! `EventFilter::matches` and `EventType::matching_filters` are two views of the same rule:
//! the first is used in memory, the second feeds an SQL array-overlap query on the
//! webhooks' tenant-qualified filter keys (`match_keys && $keys`). A unit test keeps them
//! consistent.

const MAX_LEN: usize = 128;

/// The prefix of hookrelay's own operational events (SPEC "Endpoint health"): they cannot
/// be published through the API, and `*` does not match them, so that only a webhook that
/// names them (`hookrelay.*` or an exact name) receives them.
pub const RESERVED_PREFIX: &str = "hookrelay.";
const EVENT_TYPE_RULE: &str = "must be 1-128 characters of lowercase dot-separated segments of [a-z0-9_-]";

/// A validated event type name such as `message.new`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventType(String);

fn is_valid_event_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_LEN
        && s.split('.')
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-')))
}

impl EventType {
    pub fn parse(s: &str) -> Result<EventType, String> {
        if is_valid_event_type(s) {
            Ok(EventType(s.to_owned()))
        } else {
            Err(EVENT_TYPE_RULE.to_owned())
        }
    }

    /// An event type a caller may publish: valid, and not in the reserved namespace.
    pub fn parse_publishable(s: &str) -> Result<EventType, String> {
        let t = EventType::parse(s)?;
        if t.is_operational() {
            return Err(format!(
                "must not start with \"{RESERVED_PREFIX}\": that prefix is reserved for hookrelay's own events"
            ));
        }
        Ok(t)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// One of hookrelay's own operational events.
    pub fn is_operational(&self) -> bool {
        self.0.starts_with(RESERVED_PREFIX)
    }

    /// Every filter string that matches this event type: the exact name, `*` (except for
    /// operational events), and one `prefix.*` per proper prefix of its segments (`a.b.c`
    /// → `a.*`, `a.b.*`; never `a.b.c.*`, because a wildcard segment needs at least one
    /// segment after the prefix).
    pub fn matching_filters(&self) -> Vec<String> {
        let mut filters = vec![self.0.clone()];
        if !self.is_operational() {
            filters.push("*".to_owned());
        }
        for (i, b) in self.0.bytes().enumerate() {
            if b == b'.' {
                filters.push(format!("{}.*", &self.0[..i]));
            }
        }
        filters
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A subscription filter: `*`, an exact event type, or `prefix.*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventFilter {
    All,
    Exact(String),
    /// The prefix without the trailing `.*` (`message` for `message.*`).
    Prefix(String),
}

impl EventFilter {
    pub fn parse(s: &str) -> Result<EventFilter, String> {
        // The stored filter string is at most 128 characters, like an event type name.
        if s.len() > MAX_LEN {
            return Err(format!("filter {EVENT_FILTER_RULE}"));
        }
        if s == "*" {
            return Ok(EventFilter::All);
        }
        if let Some(prefix) = s.strip_suffix(".*") {
            if is_valid_event_type(prefix) {
                return Ok(EventFilter::Prefix(prefix.to_owned()));
            }
        } else if is_valid_event_type(s) {
            return Ok(EventFilter::Exact(s.to_owned()));
        }
        Err(format!("filter {EVENT_FILTER_RULE}"))
    }

    pub fn matches(&self, event_type: &str) -> bool {
        match self {
            EventFilter::All => !event_type.starts_with(RESERVED_PREFIX),
            EventFilter::Exact(name) => name == event_type,
            EventFilter::Prefix(prefix) => {
                event_type.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.len() > 1 && rest.starts_with('.'))
            }
        }
    }
}

const EVENT_FILTER_RULE: &str = "must be \"*\", an event type (1-128 characters of lowercase \
     dot-separated segments of [a-z0-9_-]), or an event type followed by \".*\"";

impl std::fmt::Display for EventFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EventFilter::All => f.write_str("*"),
            EventFilter::Exact(name) => f.write_str(name),
            EventFilter::Prefix(prefix) => write!(f, "{prefix}.*"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_event_types() {
        for s in ["a", "message.new", "a.b.c", "user_created", "x-y.z_0.9", &"a".repeat(128)] {
            assert_eq!(EventType::parse(s).unwrap().as_str(), s, "{s}");
        }
    }

    #[test]
    fn invalid_event_types() {
        for s in ["", ".", "a.", ".a", "a..b", "Message.new", "a b", "a.*", "*", "é", "a/b", &"a".repeat(129)] {
            let err = EventType::parse(s).unwrap_err();
            assert!(err.contains("1-128"), "{s}: {err}");
        }
    }

    #[test]
    fn parse_filters() {
        assert_eq!(EventFilter::parse("*").unwrap(), EventFilter::All);
        assert_eq!(EventFilter::parse("message.new").unwrap(), EventFilter::Exact("message.new".into()));
        assert_eq!(EventFilter::parse("message.*").unwrap(), EventFilter::Prefix("message".into()));
        assert_eq!(EventFilter::parse("a.b.*").unwrap(), EventFilter::Prefix("a.b".into()));
        for bad in ["", ".*", "**", "*.*", "a.*.b", "a*", "a.**", "a.b*", "A.*", "a..*", "a.*.*"] {
            assert!(EventFilter::parse(bad).is_err(), "{bad:?}");
        }
        // 126 + ".*" = 128 is fine; longer is not.
        assert!(EventFilter::parse(&format!("{}.*", "a".repeat(126))).is_ok());
        assert!(EventFilter::parse(&format!("{}.*", "a".repeat(127))).is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in ["*", "message.new", "message.*", "a.b.*"] {
            assert_eq!(EventFilter::parse(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn matches_examples() {
        let f = EventFilter::parse("message.*").unwrap();
        assert!(f.matches("message.new"));
        assert!(f.matches("message.a.b"));
        assert!(!f.matches("message"));
        assert!(!f.matches("messages.new"));
        assert!(!f.matches("messagex"));
        assert!(!f.matches("other.message.new"));
        assert!(EventFilter::All.matches("anything.at.all"));
        let exact = EventFilter::parse("message.new").unwrap();
        assert!(exact.matches("message.new"));
        assert!(!exact.matches("message.new.x"));
        assert!(!exact.matches("message"));
    }

    #[test]
    fn matching_filters_example() {
        let t = EventType::parse("a.b.c").unwrap();
        assert_eq!(t.matching_filters(), vec!["a.b.c", "*", "a.*", "a.b.*"]);
        let single = EventType::parse("ping").unwrap();
        assert_eq!(single.matching_filters(), vec!["ping", "*"]);
        let operational = EventType::parse("hookrelay.webhook.disabled").unwrap();
        assert_eq!(
            operational.matching_filters(),
            vec!["hookrelay.webhook.disabled", "hookrelay.*", "hookrelay.webhook.*"]
        );
    }

    #[test]
    fn the_reserved_prefix_cannot_be_published() {
        assert!(EventType::parse_publishable("hookrelay.delivery.failed").unwrap_err().contains("reserved"));
        assert!(EventType::parse_publishable("hookrelay").is_ok(), "only the dotted prefix is reserved");
        assert!(EventType::parse_publishable("hookrelayx.a").is_ok());
    }

    #[test]
    fn matches_is_consistent_with_matching_filters() {
        let types = [
            "a",
            "b",
            "ab",
            "a.b",
            "a.bc",
            "ab.c",
            "a.b.c",
            "a.b.c.d",
            "a-b.c",
            "a_b.c_d",
            "message",
            "message.new",
            "message.a.b",
            "messages.new",
            "conversation.created",
            "hookrelay.delivery.failed",
            "hookrelay.webhook.disabled",
        ];
        let mut filters: Vec<String> = vec!["*".into(), "hookrelay.*".into()];
        for t in types {
            filters.push(t.to_owned());
            filters.push(format!("{t}.*"));
        }
        for t in types {
            let et = EventType::parse(t).unwrap();
            let sql_side = et.matching_filters();
            for f in &filters {
                let filter = EventFilter::parse(f).unwrap();
                assert_eq!(filter.matches(t), sql_side.contains(f), "type {t:?} filter {f:?}");
            }
            // Every filter it lists is itself a valid filter that matches it.
            for f in &sql_side {
                assert!(EventFilter::parse(f).unwrap().matches(t), "{t} {f}");
            }
        }
    }
}
