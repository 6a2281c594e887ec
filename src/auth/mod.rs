//! Authentication: access tokens (JWT), password hashes, API keys and their scopes. The
//! extractor that turns them into a request's caller is `api::caller`: it needs the API's
//! state (pool, rate limits), and `auth` stays below `api`.

pub mod api_key;
pub mod jwt;
pub mod password;
pub mod scope;

pub use scope::Scope;
