//! Structured logs through `tracing`: JSON in production, readable text in development.

use tracing_subscriber::EnvFilter;

use crate::cli::Mode;

pub fn init(mode: Mode) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // a second init (tests start several apps in one process) is harmless
    let _ = match mode {
        Mode::Production => builder.json().try_init(),
        Mode::Development => builder.try_init(),
    };
}
