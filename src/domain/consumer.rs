//! `consumerId`: the tenant's own name for one of its customers.

/// 1–128 characters of `[A-Za-z0-9._:-]`.
pub fn validate_consumer_id(s: &str) -> Result<(), String> {
    let ok = (1..=128).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(())
    } else {
        Err("must be 1-128 characters of [A-Za-z0-9._:-]".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_ids() {
        assert!(validate_consumer_id("cus_123:eu.west-1").is_ok());
        assert!(validate_consumer_id("").is_err());
        assert!(validate_consumer_id("a b").is_err());
        assert!(validate_consumer_id(&"a".repeat(129)).is_err());
        assert!(validate_consumer_id("é").is_err());
    }
}
