//! Locating SIP servers (RFC 3263 §4): from a URI to an ordered list of [`Target`]s, by
//! NAPTR, then SRV (RFC 2782 priority and weight), then A/AAAA. The DNS sits behind the
//! [`Resolver`] trait: [`HickoryResolver`] asks the system's name servers, [`StaticResolver`]
//! answers from a table (tests, and the CLI's `--resolve host:addr`).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use futures::future::BoxFuture;
use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};
use sip_message::SipUri;
use sip_message::header::Transport as TransportName;

use crate::Target;

/// A NAPTR record (RFC 3403) as RFC 3263 uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naptr {
    /// Lower first.
    pub order: u16,
    /// Lower first among equal orders.
    pub preference: u16,
    /// `S`: the replacement is an SRV name.
    pub flags: String,
    /// `SIP+D2U`, `SIP+D2T`, `SIPS+D2T`, ...
    pub service: String,
    /// The SRV name to look up next.
    pub replacement: String,
}

/// An SRV record (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    /// Lower first.
    pub priority: u16,
    /// Share of the load among equal priorities.
    pub weight: u16,
    /// The port.
    pub port: u16,
    /// The host to look up.
    pub target: String,
}

/// Why a destination could not be located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The DNS has no address for the destination by any of the paths RFC 3263 allows.
    #[error("no address found for {0}")]
    NotFound(String),
    /// A lookup failed (no answer, a timeout, a refused query).
    #[error("lookup of {name} failed: {reason}")]
    Lookup {
        /// The name looked up.
        name: String,
        /// Why it failed.
        reason: String,
    },
    /// A `sips` URI asks for a transport that is not secured (UDP, TCP without TLS).
    #[error("a sips URI cannot use transport {0}")]
    InsecureTransport(TransportName),
    /// The URI asks for a transport the client does not support.
    #[error("transport {0} is not supported")]
    UnsupportedTransport(TransportName),
}

/// The DNS queries RFC 3263 needs. An empty answer means no records; an error means the
/// question could not be answered.
pub trait Resolver: Send + Sync {
    /// The NAPTR records of `domain`.
    fn naptr<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<Naptr>, ResolveError>>;
    /// The SRV records at `name` (`_sip._udp.example.com`).
    fn srv<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Srv>, ResolveError>>;
    /// The A and AAAA records of `host`.
    fn ip<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>>;
}

/// What to locate: the parts of a URI RFC 3263 §4 reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The host: a domain name or an IP address (the `maddr` when there is one).
    pub host: String,
    /// The explicit port.
    pub port: Option<u16>,
    /// The `transport` parameter.
    pub transport: Option<TransportName>,
    /// Whether the URI is `sips` (only TLS may be used).
    pub secure: bool,
}

impl Destination {
    /// The destination of a SIP or SIPS URI (§4: `maddr` overrides the host).
    pub fn from_uri(uri: &SipUri) -> Self {
        let params = uri.params();
        let host = params.maddr().unwrap_or(uri.host_str()).to_owned();
        let transport =
            params.transport().and_then(|t| TransportName::from_bytes(bytes::Bytes::copy_from_slice(t.as_bytes())));
        Self { host, port: uri.port(), transport, secure: uri.is_secure() }
    }

    fn ip(&self) -> Option<IpAddr> {
        let h = self.host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(&self.host);
        h.parse().ok()
    }
}

/// The NAPTR service for `transport` (RFC 3263 §4.1, RFC 7118 §5 for WebSocket).
fn naptr_service(service: &str) -> Option<TransportName> {
    Some(match service.to_ascii_uppercase().as_str() {
        "SIP+D2U" => TransportName::UDP,
        "SIP+D2T" => TransportName::TCP,
        "SIPS+D2T" => TransportName::TLS,
        "SIP+D2S" => TransportName::SCTP,
        "SIPS+D2S" => TransportName::TLS_SCTP,
        "SIP+D2W" => TransportName::WS,
        "SIPS+D2W" => TransportName::WSS,
        _ => return None,
    })
}

/// The SRV name prefix for `transport` when no NAPTR record exists (§4.1).
fn srv_prefix(transport: &TransportName) -> Option<&'static str> {
    Some(match transport.as_str() {
        "UDP" => "_sip._udp",
        "TCP" => "_sip._tcp",
        "TLS" => "_sips._tcp",
        "SCTP" => "_sip._sctp",
        "TLS-SCTP" => "_sips._sctp",
        _ => return None,
    })
}

/// The RFC 3263 procedure over a [`Resolver`], for the transports the client supports
/// (in its order of preference).
pub struct Locator<R> {
    resolver: R,
    supported: Vec<TransportName>,
    rng: Mutex<u64>,
}

impl<R: std::fmt::Debug> std::fmt::Debug for Locator<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Locator").field("resolver", &self.resolver).field("supported", &self.supported).finish()
    }
}

impl<R: Resolver> Locator<R> {
    /// A locator for the `supported` transports; `seed` drives the weighted SRV choice.
    pub fn new(resolver: R, supported: Vec<TransportName>, seed: u64) -> Self {
        Self { resolver, supported, rng: Mutex::new(seed | 1) }
    }

    /// The resolver.
    pub fn resolver(&self) -> &R {
        &self.resolver
    }

    /// A number in `0..=n`, for the weighted choice of RFC 2782.
    fn random(&self, n: u32) -> u32 {
        let mut s = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        (*s % (u64::from(n) + 1)) as u32
    }

    fn secure_transport(&self, transport: TransportName, secure: bool) -> Result<TransportName, ResolveError> {
        let transport = match (secure, transport.as_str()) {
            // A sips URI with transport=tcp means TLS over TCP; with ws, secure WebSocket.
            (true, "TCP") => TransportName::TLS,
            (true, "WS") => TransportName::WSS,
            (true, _) if !transport.is_secure() => return Err(ResolveError::InsecureTransport(transport)),
            _ => transport,
        };
        if !self.supported.contains(&transport) {
            return Err(ResolveError::UnsupportedTransport(transport));
        }
        Ok(transport)
    }

    /// The transport when nothing in the DNS says: UDP for `sip`, TLS for `sips`, or the
    /// first supported one that may serve the URI.
    fn default_transport(&self, secure: bool) -> Result<TransportName, ResolveError> {
        let preferred = if secure { TransportName::TLS } else { TransportName::UDP };
        if self.supported.contains(&preferred) {
            return Ok(preferred);
        }
        self.supported
            .iter()
            .find(|t| !secure || t.is_secure())
            .cloned()
            .ok_or(ResolveError::UnsupportedTransport(preferred))
    }

    /// The targets for `dest`, best first; a client tries them in order until one works
    /// (§4.3). TLS targets name the URI's host as [`Target::server_name`] (RFC 5922).
    pub async fn locate(&self, dest: &Destination) -> Result<Vec<Target>, ResolveError> {
        let transport = dest.transport.clone().map(|t| self.secure_transport(t, dest.secure)).transpose()?;
        // A numeric host: no lookups (§4.1, §4.2).
        if let Some(ip) = dest.ip() {
            let transport = match transport {
                Some(t) => t,
                None if dest.secure => self.secure_transport(TransportName::TCP, true)?,
                None => self.default_transport(false)?,
            };
            let port = dest.port.unwrap_or_else(|| transport.default_port());
            return Ok(vec![Target::new(transport, SocketAddr::new(ip, port))]);
        }
        let name = dest.host.trim_end_matches('.');
        let named = |t: Target| if t.transport.is_secure() { t.with_server_name(name) } else { t };
        // An explicit port: A/AAAA only, with UDP (sip) or TLS (sips) unless a transport is given.
        if let Some(port) = dest.port {
            let transport = match transport {
                Some(t) => t,
                None if dest.secure => self.secure_transport(TransportName::TCP, true)?,
                None => self.default_transport(false)?,
            };
            let targets = self.addresses(name, port, &transport).await?;
            return non_empty(targets.into_iter().map(named).collect(), name);
        }
        // NAPTR, unless the transport is given.
        let mut targets = Vec::new();
        if transport.is_none() {
            let mut records = self.resolver.naptr(name).await.unwrap_or_default();
            records.retain(|r| r.flags.eq_ignore_ascii_case("s"));
            records.sort_by_key(|r| (r.order, r.preference));
            let mut seen_any = false;
            for record in &records {
                let Some(t) = naptr_service(&record.service) else { continue };
                if !self.supported.contains(&t) || (dest.secure && !t.is_secure()) {
                    continue;
                }
                seen_any = true;
                targets.extend(self.srv_targets(&record.replacement, &t).await?);
            }
            if seen_any {
                return non_empty(targets.into_iter().map(named).collect(), name);
            }
        }
        // SRV for the given transport, or for each supported one.
        let candidates: Vec<TransportName> = match &transport {
            Some(t) => vec![t.clone()],
            None => self.supported.iter().filter(|t| !dest.secure || t.is_secure()).cloned().collect(),
        };
        for t in &candidates {
            let Some(prefix) = srv_prefix(t) else { continue };
            targets.extend(self.srv_targets(&format!("{prefix}.{name}"), t).await?);
        }
        if !targets.is_empty() {
            return Ok(targets.into_iter().map(named).collect());
        }
        // A/AAAA at the default port.
        let transport = match transport {
            Some(t) => t,
            None if dest.secure => self.secure_transport(TransportName::TCP, true)?,
            None => self.default_transport(false)?,
        };
        let targets = self.addresses(name, transport.default_port(), &transport).await?;
        non_empty(targets.into_iter().map(named).collect(), name)
    }

    async fn addresses(&self, host: &str, port: u16, transport: &TransportName) -> Result<Vec<Target>, ResolveError> {
        let ips = self.resolver.ip(host).await?;
        Ok(ips.into_iter().map(|ip| Target::new(transport.clone(), SocketAddr::new(ip, port))).collect())
    }

    /// The targets of an SRV name: records by priority, weighted within one (RFC 2782),
    /// each target's addresses.
    async fn srv_targets(&self, srv_name: &str, transport: &TransportName) -> Result<Vec<Target>, ResolveError> {
        let records = self.resolver.srv(srv_name).await.unwrap_or_default();
        // "." alone means the service is not available there.
        if records.len() == 1 && records[0].target.trim_end_matches('.').is_empty() {
            return Ok(Vec::new());
        }
        let mut targets = Vec::new();
        for record in self.srv_order(records) {
            let host = record.target.trim_end_matches('.');
            // A target without addresses is skipped, the next one tried.
            if let Ok(found) = self.addresses(host, record.port, transport).await {
                targets.extend(found);
            }
        }
        Ok(targets)
    }

    /// RFC 2782: ascending priority; within one, repeatedly pick by running sum of the
    /// weights, the zero weights placed first.
    fn srv_order(&self, mut records: Vec<Srv>) -> Vec<Srv> {
        records.sort_by_key(|r| (r.priority, r.weight != 0));
        let mut ordered = Vec::with_capacity(records.len());
        let mut start = 0;
        while start < records.len() {
            let priority = records[start].priority;
            let end = start + records[start..].iter().take_while(|r| r.priority == priority).count();
            let mut group: Vec<Srv> = records[start..end].to_vec();
            while !group.is_empty() {
                let total: u32 = group.iter().map(|r| u32::from(r.weight)).sum();
                let pick = self.random(total);
                let mut sum = 0;
                let index = group
                    .iter()
                    .position(|r| {
                        sum += u32::from(r.weight);
                        sum >= pick
                    })
                    .unwrap_or(0);
                ordered.push(group.remove(index));
            }
            start = end;
        }
        ordered
    }
}

fn non_empty(targets: Vec<Target>, name: &str) -> Result<Vec<Target>, ResolveError> {
    if targets.is_empty() { Err(ResolveError::NotFound(name.to_owned())) } else { Ok(targets) }
}

/// Answers from a table; what is not in it has no records.
#[derive(Debug, Default)]
pub struct StaticResolver {
    naptr: HashMap<String, Vec<Naptr>>,
    srv: HashMap<String, Vec<Srv>>,
    ip: HashMap<String, Vec<IpAddr>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl StaticResolver {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds NAPTR records for `domain`.
    pub fn with_naptr(mut self, domain: &str, records: Vec<Naptr>) -> Self {
        self.naptr.entry(key(domain)).or_default().extend(records);
        self
    }

    /// Adds SRV records at `name`.
    pub fn with_srv(mut self, name: &str, records: Vec<Srv>) -> Self {
        self.srv.entry(key(name)).or_default().extend(records);
        self
    }

    /// Adds addresses for `host`.
    pub fn with_host(mut self, host: &str, ips: impl IntoIterator<Item = IpAddr>) -> Self {
        self.ip.entry(key(host)).or_default().extend(ips);
        self
    }

    /// Adds an entry written `host:addr` (the CLI's `--resolve`): `example.com:192.0.2.1`
    /// or `example.com:[2001:db8::1]`.
    pub fn with_entry(self, entry: &str) -> Result<Self, ResolveError> {
        let bad = || ResolveError::Lookup { name: entry.to_owned(), reason: "expected host:address".into() };
        let (host, addr) = entry.split_once(':').ok_or_else(bad)?;
        let addr = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        if host.is_empty() {
            return Err(bad());
        }
        Ok(self.with_host(host, [ip]))
    }
}

impl Resolver for StaticResolver {
    fn naptr<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<Naptr>, ResolveError>> {
        Box::pin(async move { Ok(self.naptr.get(&key(domain)).cloned().unwrap_or_default()) })
    }

    fn srv<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Srv>, ResolveError>> {
        Box::pin(async move { Ok(self.srv.get(&key(name)).cloned().unwrap_or_default()) })
    }

    fn ip<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>> {
        Box::pin(async move { Ok(self.ip.get(&key(host)).cloned().unwrap_or_default()) })
    }
}

/// The DNS through hickory-resolver, configured from the system (`/etc/resolv.conf`) or
/// given a configuration.
#[derive(Debug, Clone)]
pub struct HickoryResolver {
    inner: TokioResolver,
}

impl HickoryResolver {
    /// The system's configuration.
    pub fn from_system() -> Result<Self, ResolveError> {
        let builder = TokioResolver::builder_tokio()
            .map_err(|e| ResolveError::Lookup { name: "system configuration".into(), reason: e.to_string() })?;
        Ok(Self { inner: builder.build() })
    }

    /// A resolver over hickory's own.
    pub fn new(inner: TokioResolver) -> Self {
        Self { inner }
    }

    fn failed(name: &str, e: &hickory_resolver::ResolveError) -> ResolveError {
        ResolveError::Lookup { name: name.to_owned(), reason: e.to_string() }
    }
}

/// Absolute names, so no search domain is appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') { name.to_owned() } else { format!("{name}.") }
}

impl Resolver for HickoryResolver {
    fn naptr<'a>(&'a self, domain: &'a str) -> BoxFuture<'a, Result<Vec<Naptr>, ResolveError>> {
        Box::pin(async move {
            match self.inner.lookup(fqdn(domain), RecordType::NAPTR).await {
                Ok(lookup) => Ok(lookup
                    .iter()
                    .filter_map(|r| match r {
                        RData::NAPTR(n) => Some(Naptr {
                            order: n.order(),
                            preference: n.preference(),
                            flags: String::from_utf8_lossy(n.flags()).into_owned(),
                            service: String::from_utf8_lossy(n.services()).into_owned(),
                            replacement: n.replacement().to_utf8(),
                        }),
                        _ => None,
                    })
                    .collect()),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
                Err(e) => Err(Self::failed(domain, &e)),
            }
        })
    }

    fn srv<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Vec<Srv>, ResolveError>> {
        Box::pin(async move {
            match self.inner.srv_lookup(fqdn(name)).await {
                Ok(lookup) => Ok(lookup
                    .iter()
                    .map(|s| Srv {
                        priority: s.priority(),
                        weight: s.weight(),
                        port: s.port(),
                        target: s.target().to_utf8(),
                    })
                    .collect()),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
                Err(e) => Err(Self::failed(name, &e)),
            }
        })
    }

    fn ip<'a>(&'a self, host: &'a str) -> BoxFuture<'a, Result<Vec<IpAddr>, ResolveError>> {
        Box::pin(async move {
            match self.inner.lookup_ip(fqdn(host)).await {
                Ok(lookup) => Ok(lookup.iter().collect()),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
                Err(e) => Err(Self::failed(host, &e)),
            }
        })
    }
}
