//! Typed ids, so that a webhook id cannot be passed where a delivery id is meant, and the
//! enums of a delivery's status and of an attempt's error kind.

use std::fmt;

use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id!(
    /// A tenant: every tenant-scoped query takes one, so it cannot be forgotten.
    TenantId
);
id!(WebhookId);
id!(EventId);
id!(DeliveryId);
id!(
    /// One claim's lease: an outcome applies only under the lease it was attempted with.
    LeaseId
);

/// Where a delivery stands (SPEC "Events and deliveries").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// Why an attempt failed (SPEC "Logs and stats": `errorKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Timeout,
    Connect,
    Dns,
    Tls,
    HttpStatus,
    BlockedTarget,
    Other,
    /// A relay webhook's delivery that no listener took within `HOOKRELAY_RELAY_HOLD`.
    RelayOffline,
}

impl ErrorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::HttpStatus => "http_status",
            ErrorKind::BlockedTarget => "blocked_target",
            ErrorKind::Other => "other",
            ErrorKind::RelayOffline => "relay_offline",
        }
    }
}
