//! Authentication: access tokens (JWT), password hashes, API keys, and the extractor that
//! yields the caller's tenant from either credential.

pub mod api_key;
pub mod extractor;
pub mod jwt;
pub mod password;
pub mod scope;

pub use extractor::{Caller, Credential};
pub use scope::Scope;
