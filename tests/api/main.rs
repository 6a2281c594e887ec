#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed test should panic loudly
//! Integration tests: the real service against a real PostgreSQL (one database per test,
//! cloned from a migrated template) with real HTTP receivers on 127.0.0.1.

mod auth;
mod claim;
mod contract;
mod dashboard;
mod deliveries;
mod delivery;
mod glance;
mod health;
mod helpers;
mod limits;
mod observability;
mod outage;
mod portal;
mod pressure;
mod processes;
mod rebinding;
mod relay;
mod secrets;
mod source_delivery;
mod sources;
mod tls;
mod upkeep;
mod webhooks;
