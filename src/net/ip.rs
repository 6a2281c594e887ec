//! Which IP addresses a webhook may never reach (SPEC: Security). Pure: the connect-time
//! guard (`dispatch::ssrf`) and the save-time check (`domain::url`) both ask it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 networks as (network, prefix length).
const FORBIDDEN_V4: [(Ipv4Addr, u8); 11] = [
    (Ipv4Addr::new(0, 0, 0, 0), 8),      // "this" network
    (Ipv4Addr::new(10, 0, 0, 0), 8),     // private
    (Ipv4Addr::new(100, 64, 0, 0), 10),  // carrier-grade NAT
    (Ipv4Addr::new(127, 0, 0, 0), 8),    // loopback
    (Ipv4Addr::new(169, 254, 0, 0), 16), // link-local, cloud metadata
    (Ipv4Addr::new(172, 16, 0, 0), 12),  // private
    (Ipv4Addr::new(192, 0, 0, 0), 24),   // IETF protocol assignments
    (Ipv4Addr::new(192, 168, 0, 0), 16), // private
    (Ipv4Addr::new(198, 18, 0, 0), 15),  // benchmarking
    (Ipv4Addr::new(224, 0, 0, 0), 4),    // multicast
    (Ipv4Addr::new(240, 0, 0, 0), 4),    // reserved, broadcast
];

/// IPv6 networks as (network, prefix length).
const FORBIDDEN_V6: [(Ipv6Addr, u8); 11] = [
    // ::/128 and ::1 from SPEC, widened to the deprecated IPv4-compatible block ::/96,
    // which embeds IPv4 addresses too and holds nothing reachable.
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96),
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96),    // IPv4-mapped
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96), // NAT64
    // Beyond SPEC's list, for the same reasons (issue 16): IPv4-translated (SIIT,
    // RFC 7915) embeds IPv4; local-use NAT64 (RFC 8215) translates to any IPv4, private
    // ones included; site-local (deprecated by RFC 3879) is still routed inside some sites.
    (Ipv6Addr::new(0, 0, 0, 0, 0xffff, 0, 0, 0), 96), // IPv4-translated ::ffff:0:0:0/96
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16), // 6to4
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),  // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),  // multicast
    // Kept explicit although ::/96 covers them, so the SPEC list reads off this table.
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1), 128), // loopback
];

fn in_v4(ip: Ipv4Addr, (net, len): (Ipv4Addr, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// True when a webhook must not connect to `ip` (unless private targets are allowed).
/// IPv6 prefixes that embed IPv4 are refused whole, whatever the embedded address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => FORBIDDEN_V4.iter().any(|&net| in_v4(v4, net)),
        IpAddr::V6(v6) => FORBIDDEN_V6.iter().any(|&net| in_v6(v6, net)),
    }
}
