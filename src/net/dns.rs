//! How webhook hosts are resolved, both when a webhook is saved and at every attempt: by
//! the system's resolver, or (`HOOKRELAY_DNS_SERVER`) by asking one DNS server directly
//! over UDP, with no cache, so that every lookup sees what the server answers now. An
//! operator may point it at a filtering resolver; the tests point it at a stub that
//! changes its answer (DNS rebinding).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{LookupIpStrategy, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use hickory_resolver::proto::xfer::Protocol;
use hickory_resolver::TokioResolver;

#[derive(Clone)]
pub enum Dns {
    System,
    Server(Arc<TokioResolver>),
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dns::System => f.write_str("Dns::System"),
            Dns::Server(_) => f.write_str("Dns::Server"),
        }
    }
}

impl Dns {
    pub fn new(server: Option<SocketAddr>) -> Dns {
        let Some(server) = server else { return Dns::System };
        let mut config = ResolverConfig::new();
        config.add_name_server(NameServerConfig::new(server, Protocol::Udp));
        let mut options = ResolverOpts::default();
        options.cache_size = 0;
        options.timeout = Duration::from_secs(2);
        options.attempts = 1;
        options.ip_strategy = LookupIpStrategy::Ipv4AndIpv6;
        options.use_hosts_file = ResolveHosts::Never;
        let resolver = TokioResolver::builder_with_config(config, TokioConnectionProvider::default())
            .with_options(options)
            .build();
        Dns::Server(Arc::new(resolver))
    }

    /// The addresses `host` resolves to now.
    pub async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        match self {
            Dns::System => Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()),
            Dns::Server(resolver) => match resolver.lookup_ip(host).await {
                Ok(found) => Ok(found.iter().collect()),
                Err(err) if err.is_no_records_found() => Ok(Vec::new()),
                Err(err) => Err(std::io::Error::other(err)),
            },
        }
    }
}
