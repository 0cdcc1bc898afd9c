//! The address ranges guests may not reach: IANA's IPv4 and IPv6
//! Special-Purpose Address Registries (every block whose "Globally
//! Reachable" is False, as of their 2025-10-09 update), multicast, the
//! deprecated IPv4-compatible and site-local blocks, and cloud metadata
//! endpoints.
//!
//! One row per registry line, so that a refusal says what the address is.
//! The most specific row that holds an address decides. A few blocks inside
//! refused ones are marked globally reachable by IANA (`192.0.0.9/32` and
//! `192.0.0.10/32`, PCP and TURN anycast; in `2001::/23`, `2001:1::1-3`,
//! AMT `2001:3::/32`, AS112 `2001:4:112::/48`, ORCHIDv2 `2001:20::/28`, DETs
//! `2001:30::/28`): they stay refused with their covering block, since they
//! are anycast addresses of other protocols or identifiers that are not
//! locators, never a web service a connector needs.
//!
//! IPv6 addresses that embed an IPv4 address are judged by it as well: an
//! IPv4-mapped or IPv4-compatible address is refused and names the address
//! it hides; NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are
//! public exactly when the IPv4 address they stand for is.

use ipnet::{Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a row treats the addresses it holds.
#[derive(Clone, Copy)]
enum Rule {
    /// Refused.
    Refuse,
    /// Refused; the IPv4 address it embeds is named as well.
    RefuseNaming(fn(Ipv6Addr) -> Ipv4Addr),
    /// Judged by the IPv4 address it embeds, alone.
    Embeds(fn(Ipv6Addr) -> Ipv4Addr),
}

/// One line of the screen.
struct Range<N> {
    net: N,
    /// What such an address is, with its article.
    what: &'static str,
    /// Where the range is defined.
    source: &'static str,
    rule: Rule,
}

const fn v4(
    a: u8,
    b: u8,
    c: u8,
    d: u8,
    len: u8,
    what: &'static str,
    source: &'static str,
) -> Range<Ipv4Net> {
    Range {
        net: Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len),
        what,
        source,
        rule: Rule::Refuse,
    }
}

const fn v6(
    segments: [u16; 8],
    len: u8,
    what: &'static str,
    source: &'static str,
    rule: Rule,
) -> Range<Ipv6Net> {
    let [a, b, c, d, e, f, g, h] = segments;
    Range {
        net: Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len),
        what,
        source,
        rule,
    }
}

/// The low 32 bits: IPv4-mapped, IPv4-compatible and NAT64 `/96` addresses.
fn low_32(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from(u128::from(ip) as u32)
}

/// Bits 16 to 48: the IPv4 address of a 6to4 prefix.
fn six_to_four(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) >> 80) as u32)
}

#[rustfmt::skip]
const IPV4: &[Range<Ipv4Net>] = &[
    v4(0, 0, 0, 0, 8, "a \"this network\" address", "RFC 791"),
    v4(0, 0, 0, 0, 32, "an unspecified (\"this host on this network\") address", "RFC 1122"),
    v4(10, 0, 0, 0, 8, "a private-use address", "RFC 1918"),
    v4(100, 64, 0, 0, 10, "a shared address space (CGNAT) address", "RFC 6598"),
    v4(127, 0, 0, 0, 8, "a loopback address", "RFC 1122"),
    v4(169, 254, 0, 0, 16, "a link-local address", "RFC 3927"),
    v4(169, 254, 169, 254, 32, "a cloud metadata address", "instance metadata service, in link-local 169.254.0.0/16"),
    v4(172, 16, 0, 0, 12, "a private-use address", "RFC 1918"),
    v4(192, 0, 0, 0, 24, "an IETF protocol assignments address", "RFC 6890"),
    v4(192, 0, 0, 0, 29, "an IPv4 service continuity prefix (DS-Lite) address", "RFC 7335"),
    v4(192, 0, 0, 8, 32, "an IPv4 dummy address", "RFC 7600"),
    v4(192, 0, 0, 170, 31, "a NAT64/DNS64 discovery address", "RFC 8880, RFC 7050"),
    v4(192, 0, 2, 0, 24, "a documentation (TEST-NET-1) address", "RFC 5737"),
    v4(192, 88, 99, 0, 24, "a 6to4 relay anycast (deprecated) address", "RFC 7526"),
    v4(192, 88, 99, 2, 32, "a 6a44-relay anycast address", "RFC 6751"),
    v4(192, 168, 0, 0, 16, "a private-use address", "RFC 1918"),
    v4(198, 18, 0, 0, 15, "a benchmarking address", "RFC 2544"),
    v4(198, 51, 100, 0, 24, "a documentation (TEST-NET-2) address", "RFC 5737"),
    v4(203, 0, 113, 0, 24, "a documentation (TEST-NET-3) address", "RFC 5737"),
    v4(224, 0, 0, 0, 4, "a multicast address", "RFC 5771"),
    v4(240, 0, 0, 0, 4, "a reserved address", "RFC 1112"),
    v4(255, 255, 255, 255, 32, "a limited broadcast address", "RFC 8190, RFC 919"),
];

#[rustfmt::skip]
const IPV6: &[Range<Ipv6Net>] = &[
    v6([0, 0, 0, 0, 0, 0, 0, 0], 128, "an unspecified address", "RFC 4291", Rule::Refuse),
    v6([0, 0, 0, 0, 0, 0, 0, 1], 128, "a loopback address", "RFC 4291", Rule::Refuse),
    v6([0, 0, 0, 0, 0, 0, 0, 0], 96, "an IPv4-compatible (deprecated) address", "RFC 4291", Rule::RefuseNaming(low_32)),
    v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96, "an IPv4-mapped address", "RFC 4291", Rule::RefuseNaming(low_32)),
    v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96, "a NAT64 (IPv4-IPv6 translation) address", "RFC 6052", Rule::Embeds(low_32)),
    v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, "a local-use NAT64 (IPv4-IPv6 translation) address", "RFC 8215", Rule::Refuse),
    v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "a discard-only address", "RFC 6666", Rule::Refuse),
    v6([0x100, 0, 0, 1, 0, 0, 0, 0], 64, "a dummy IPv6 prefix address", "RFC 9780", Rule::Refuse),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23, "an IETF protocol assignments address", "RFC 2928", Rule::Refuse),
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "a Teredo address", "RFC 4380", Rule::Refuse),
    v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "a benchmarking address", "RFC 5180", Rule::Refuse),
    v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0], 28, "an ORCHID (deprecated) address", "RFC 4843", Rule::Refuse),
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, "a documentation address", "RFC 3849", Rule::Refuse),
    v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16, "a 6to4 address", "RFC 3056", Rule::Embeds(six_to_four)),
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address", "RFC 9637", Rule::Refuse),
    v6([0x5f00, 0, 0, 0, 0, 0, 0, 0], 16, "a segment routing (SRv6) SID address", "RFC 9602", Rule::Refuse),
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, "a unique-local (private) address", "RFC 4193", Rule::Refuse),
    v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128, "a cloud metadata address", "instance metadata service, in unique-local fc00::/7", Rule::Refuse),
    v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address", "RFC 4291", Rule::Refuse),
    v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "a site-local (deprecated) address", "RFC 3879", Rule::Refuse),
    v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address", "RFC 4291", Rule::Refuse),
];

/// Why an address is off limits: the row that holds it and, for an address
/// that embeds an IPv4 address, that address and its own row if refused.
#[derive(Clone, Copy)]
pub(crate) struct Blocked {
    what: &'static str,
    source: &'static str,
    inner: Option<(Ipv4Addr, Option<(&'static str, &'static str)>)>,
}

impl Blocked {
    /// What the address is, without where that is defined (`a loopback address`).
    #[cfg(test)]
    pub(crate) fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.what, self.source)?;
        match self.inner {
            Some((ip, Some((what, source)))) => write!(f, " of {ip}, {what} ({source})"),
            Some((ip, None)) => write!(f, " of {ip}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The most specific row holding `ip`.
fn row<N: Copy, A>(
    table: &'static [Range<N>],
    ip: A,
    contains: impl Fn(&N, &A) -> bool,
    len: impl Fn(&N) -> u8,
) -> Option<&'static Range<N>> {
    table
        .iter()
        .filter(|r| contains(&r.net, &ip))
        .max_by_key(|r| len(&r.net))
}

fn screen_v4(ip: Ipv4Addr) -> Option<&'static Range<Ipv4Net>> {
    row(IPV4, ip, |n, ip| n.contains(ip), |n| n.prefix_len())
}

/// Why guests may not reach `ip`, or `None` for a public address.
pub(crate) fn forbidden(ip: IpAddr) -> Option<Blocked> {
    match ip {
        IpAddr::V4(ip) => screen_v4(ip).map(|r| Blocked {
            what: r.what,
            source: r.source,
            inner: None,
        }),
        IpAddr::V6(ip) => {
            let r = row(IPV6, ip, |n, ip| n.contains(ip), |n| n.prefix_len())?;
            let blocked = |inner| Blocked {
                what: r.what,
                source: r.source,
                inner,
            };
            match r.rule {
                Rule::Refuse => Some(blocked(None)),
                Rule::RefuseNaming(embedded) => {
                    let v4 = embedded(ip);
                    Some(blocked(Some((
                        v4,
                        screen_v4(v4).map(|i| (i.what, i.source)),
                    ))))
                }
                Rule::Embeds(embedded) => {
                    let v4 = embedded(ip);
                    let inner = screen_v4(v4)?;
                    Some(blocked(Some((v4, Some((inner.what, inner.source))))))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(ip: &str) -> Option<String> {
        forbidden(ip.parse().unwrap()).map(|b| b.to_string())
    }

    fn what(ip: &str) -> Option<&'static str> {
        forbidden(ip.parse().unwrap()).map(|b| b.what())
    }

    #[test]
    fn every_ipv4_registry_line_is_refused() {
        for (ip, expected) in [
            ("0.1.2.3", "a \"this network\" address"),
            (
                "0.0.0.0",
                "an unspecified (\"this host on this network\") address",
            ),
            ("10.1.2.3", "a private-use address"),
            ("100.64.0.1", "a shared address space (CGNAT) address"),
            ("100.127.255.254", "a shared address space (CGNAT) address"),
            ("127.0.0.1", "a loopback address"),
            ("127.255.255.254", "a loopback address"),
            ("169.254.1.1", "a link-local address"),
            ("169.254.169.254", "a cloud metadata address"),
            ("172.16.0.1", "a private-use address"),
            ("172.31.255.255", "a private-use address"),
            (
                "192.0.0.1",
                "an IPv4 service continuity prefix (DS-Lite) address",
            ),
            ("192.0.0.8", "an IPv4 dummy address"),
            ("192.0.0.9", "an IETF protocol assignments address"),
            ("192.0.0.170", "a NAT64/DNS64 discovery address"),
            ("192.0.0.171", "a NAT64/DNS64 discovery address"),
            ("192.0.0.200", "an IETF protocol assignments address"),
            ("192.0.2.10", "a documentation (TEST-NET-1) address"),
            ("192.88.99.1", "a 6to4 relay anycast (deprecated) address"),
            ("192.88.99.2", "a 6a44-relay anycast address"),
            ("192.168.1.1", "a private-use address"),
            ("198.18.0.1", "a benchmarking address"),
            ("198.19.255.255", "a benchmarking address"),
            ("198.51.100.7", "a documentation (TEST-NET-2) address"),
            ("203.0.113.9", "a documentation (TEST-NET-3) address"),
            ("224.0.0.1", "a multicast address"),
            ("239.255.255.250", "a multicast address"),
            ("240.0.0.1", "a reserved address"),
            ("255.255.255.254", "a reserved address"),
            ("255.255.255.255", "a limited broadcast address"),
        ] {
            assert_eq!(what(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn every_ipv6_registry_line_is_refused() {
        for (ip, expected) in [
            ("::", "an unspecified address"),
            ("::1", "a loopback address"),
            ("::2", "an IPv4-compatible (deprecated) address"),
            ("::7f00:1", "an IPv4-compatible (deprecated) address"),
            ("::808:808", "an IPv4-compatible (deprecated) address"),
            ("::ffff:127.0.0.1", "an IPv4-mapped address"),
            ("::ffff:8.8.8.8", "an IPv4-mapped address"),
            ("64:ff9b::7f00:1", "a NAT64 (IPv4-IPv6 translation) address"),
            (
                "64:ff9b:1::7f00:1",
                "a local-use NAT64 (IPv4-IPv6 translation) address",
            ),
            (
                "64:ff9b:1:ffff::808:808",
                "a local-use NAT64 (IPv4-IPv6 translation) address",
            ),
            ("100::1", "a discard-only address"),
            ("100:0:0:1::1", "a dummy IPv6 prefix address"),
            ("2001:1::1", "an IETF protocol assignments address"),
            ("2001:1ff::1", "an IETF protocol assignments address"),
            ("2001::1", "a Teredo address"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo address"),
            ("2001:2::1", "a benchmarking address"),
            ("2001:10::1", "an ORCHID (deprecated) address"),
            ("2001:20::1", "an IETF protocol assignments address"),
            ("2001:db8::1", "a documentation address"),
            ("2002:7f00:1::1", "a 6to4 address"),
            ("2002:a00:1::", "a 6to4 address"),
            ("3fff::1", "a documentation address"),
            ("3fff:fff:ffff::1", "a documentation address"),
            ("5f00::1", "a segment routing (SRv6) SID address"),
            ("fc00::1", "a unique-local (private) address"),
            ("fdff::1", "a unique-local (private) address"),
            ("fd00:ec2::254", "a cloud metadata address"),
            ("fe80::1", "a link-local address"),
            ("febf::1", "a link-local address"),
            ("fec0::1", "a site-local (deprecated) address"),
            ("ff02::1", "a multicast address"),
        ] {
            assert_eq!(what(ip), Some(expected), "{ip}");
        }
    }

    #[test]
    fn an_embedded_ipv4_address_is_named_and_judged() {
        assert_eq!(
            why("::7f00:1").as_deref(),
            Some(
                "an IPv4-compatible (deprecated) address (RFC 4291) of 127.0.0.1, a loopback address (RFC 1122)"
            )
        );
        assert_eq!(
            why("::ffff:169.254.169.254").as_deref(),
            Some(
                "an IPv4-mapped address (RFC 4291) of 169.254.169.254, a cloud metadata address (instance metadata service, in link-local 169.254.0.0/16)"
            )
        );
        // Refused even when the address it hides is public.
        assert_eq!(
            why("::ffff:93.184.216.34").as_deref(),
            Some("an IPv4-mapped address (RFC 4291) of 93.184.216.34")
        );
        assert_eq!(
            why("64:ff9b::a00:1").as_deref(),
            Some(
                "a NAT64 (IPv4-IPv6 translation) address (RFC 6052) of 10.0.0.1, a private-use address (RFC 1918)"
            )
        );
        assert_eq!(
            why("2002:c0a8:101::1").as_deref(),
            Some("a 6to4 address (RFC 3056) of 192.168.1.1, a private-use address (RFC 1918)")
        );
        assert_eq!(why("64:ff9b::5db8:d822"), None, "NAT64 of a public address");
        assert_eq!(why("2002:5db8:d822::1"), None, "6to4 of a public address");
    }

    #[test]
    fn public_addresses_pass() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.255.255",
            "169.255.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.0.1.1",
            "192.0.3.1",
            "192.88.98.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.1",
            "198.51.101.1",
            "203.0.114.1",
            "223.255.255.255",
            "2606:2800:220:1:248:1893:25c8:1946",
            "2a00:1450:4001:81b::200e",
            "2001:200::1",
            "2001:4860:4860::8888",
            "2003::1",
            "3ffe::1",
            "3fff:1000::1",
            "5f01::1",
            "64:ff9a::1",
            "64:ff9b:2::1",
        ] {
            assert_eq!(why(ip), None, "{ip}");
        }
    }

    #[test]
    fn the_most_specific_line_names_the_address() {
        // Inside ::/96 (IPv4-compatible), but the unspecified and loopback
        // lines are more specific and do not name an embedded address.
        assert_eq!(why("::1").as_deref(), Some("a loopback address (RFC 4291)"));
        assert_eq!(
            why("::").as_deref(),
            Some("an unspecified address (RFC 4291)")
        );
        // Inside 2001::/23, the Teredo line wins.
        assert_eq!(what("2001:0:1::1"), Some("a Teredo address"));
    }
}
