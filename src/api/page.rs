//! A page of a list, and its cursor.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use uuid::Uuid;

/// A page of a list: `{"data": [...], "nextCursor": "…" | null}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first: the extra row only
    /// tells that another page exists.
    pub fn from_rows<R>(mut rows: Vec<R>, limit: i64, id: impl Fn(&R) -> Uuid, view: impl Fn(R) -> T) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| encode_cursor(id(r)))
        } else {
            None
        };
        Page { data: rows.into_iter().map(view).collect(), next_cursor }
    }
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}
