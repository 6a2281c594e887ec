//! Validated domain values: what the API accepts, checked once at the edge.

pub mod consumer;
pub mod event;
pub mod headers;
pub mod ids;
pub mod json;
pub mod latency;
pub mod secret;
pub mod url;
