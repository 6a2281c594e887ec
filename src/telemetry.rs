//! Structured logs through `tracing`: JSON in production, readable text in development.

use tracing_subscriber::filter::Directive;
use tracing_subscriber::EnvFilter;

use crate::cli::Mode;

/// The database driver logs every statement's bound values at debug level, signing
/// secrets and password hashes among them: it stays at info whatever `RUST_LOG` says.
/// (An added directive replaces one of the same target from the environment.)
const DRIVER_CAPS: [&str; 2] = ["tokio_postgres=info", "tokio_postgres::query=info"];

pub fn init(mode: Mode) {
    let mut filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    for cap in DRIVER_CAPS {
        if let Ok(directive) = cap.parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // a second init (tests start several apps in one process) is harmless
    let _ = match mode {
        Mode::Production => builder.json().try_init(),
        Mode::Development => builder.try_init(),
    };
}
