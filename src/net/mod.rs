//! Network facts with no knowledge of webhooks: the resolver hookrelay uses, and the
//! address ranges a webhook may never reach. Below `domain`, which checks URLs with them.

pub mod dns;
pub mod ip;
