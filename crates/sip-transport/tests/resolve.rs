//! RFC 3263 server location against the static resolver: numeric hosts and explicit
//! ports, the NAPTR, SRV and A/AAAA paths, sips, RFC 2782 ordering, and failover.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use sip_message::header::Transport as TransportName;
use sip_message::{Message, SipUri, Uri};
use sip_transport::memory::MemoryNetwork;
use sip_transport::resolve::{
    Destination, HickoryResolver, Locator, Naptr, ResolveError, Resolver, Srv, StaticResolver,
};
use sip_transport::{Target, TransportSet, incoming_channel};

fn uri(text: &str) -> SipUri {
    match Uri::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap() {
        Uri::Sip(u) => u,
        other => panic!("{other:?}"),
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn all() -> Vec<TransportName> {
    vec![TransportName::UDP, TransportName::TCP, TransportName::TLS]
}

async fn locate(
    resolver: StaticResolver,
    supported: Vec<TransportName>,
    target: &str,
) -> Result<Vec<Target>, ResolveError> {
    Locator::new(resolver, supported, 7).locate(&Destination::from_uri(&uri(target))).await
}

/// (transport, address) of each target.
fn summary(targets: &[Target]) -> Vec<(String, String)> {
    targets.iter().map(|t| (t.transport.to_string(), t.remote.to_string())).collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(t, a)| ((*t).to_owned(), (*a).to_owned())).collect()
}

/// The §4.1 example: NAPTR for TLS, TCP and UDP, each with SRV and addresses.
fn example_com() -> StaticResolver {
    let naptr = |order, service: &str, replacement: &str| Naptr {
        order,
        preference: 50,
        flags: "s".into(),
        service: service.into(),
        replacement: replacement.into(),
    };
    let srv = |port, target: &str| Srv { priority: 0, weight: 1, port, target: target.into() };
    StaticResolver::new()
        .with_naptr(
            "example.com",
            vec![
                naptr(90, "SIP+D2T", "_sip._tcp.example.com"),
                naptr(50, "SIPS+D2T", "_sips._tcp.example.com"),
                naptr(100, "SIP+D2U", "_sip._udp.example.com"),
                Naptr { flags: "u".into(), ..naptr(10, "SIP+D2U", "!^.*$!sip:x@example.com!") },
            ],
        )
        .with_srv("_sips._tcp.example.com", vec![srv(5061, "tls.example.com")])
        .with_srv("_sip._tcp.example.com", vec![srv(5060, "tcp.example.com")])
        .with_srv("_sip._udp.example.com", vec![srv(5060, "udp.example.com")])
        .with_host("tls.example.com", [ip("192.0.2.1")])
        .with_host("tcp.example.com", [ip("192.0.2.2"), ip("2001:db8::2")])
        .with_host("udp.example.com", [ip("192.0.2.3")])
        .with_host("example.com", [ip("192.0.2.9")])
}

#[tokio::test]
async fn numeric_hosts_and_explicit_ports_skip_the_lookups() {
    let none = || StaticResolver::new();
    assert_eq!(
        summary(&locate(none(), all(), "sip:bob@192.0.2.4").await.unwrap()),
        pairs(&[("UDP", "192.0.2.4:5060")])
    );
    assert_eq!(
        summary(&locate(none(), all(), "sip:bob@[2001:db8::4]:5070").await.unwrap()),
        pairs(&[("UDP", "[2001:db8::4]:5070")])
    );
    assert_eq!(
        summary(&locate(none(), all(), "sips:bob@192.0.2.4").await.unwrap()),
        pairs(&[("TLS", "192.0.2.4:5061")])
    );
    assert_eq!(
        summary(&locate(none(), all(), "sip:bob@192.0.2.4;transport=tcp").await.unwrap()),
        pairs(&[("TCP", "192.0.2.4:5060")])
    );
    // A name with a port: A/AAAA only, even where NAPTR and SRV exist.
    let targets = locate(example_com(), all(), "sip:bob@example.com:5080").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("UDP", "192.0.2.9:5080")]));
    let targets = locate(example_com(), all(), "sips:bob@example.com:5081").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("TLS", "192.0.2.9:5081")]));
    assert_eq!(targets[0].server_name.as_deref(), Some("example.com"), "RFC 5922: the URI's domain");
}

#[tokio::test]
async fn naptr_orders_the_transports() {
    let targets = locate(example_com(), all(), "sip:bob@example.com").await.unwrap();
    assert_eq!(
        summary(&targets),
        pairs(&[
            ("TLS", "192.0.2.1:5061"),
            ("TCP", "192.0.2.2:5060"),
            ("TCP", "[2001:db8::2]:5060"),
            ("UDP", "192.0.2.3:5060"),
        ])
    );
    assert_eq!(targets[0].server_name.as_deref(), Some("example.com"));
    assert_eq!(targets[1].server_name, None);
    // Transports the client lacks are skipped.
    let targets =
        locate(example_com(), vec![TransportName::UDP, TransportName::TCP], "sip:bob@example.com").await.unwrap();
    assert_eq!(summary(&targets)[0], ("TCP".to_owned(), "192.0.2.2:5060".to_owned()));
    // A sips URI takes only the SIPS services.
    let targets = locate(example_com(), all(), "sips:bob@example.com").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("TLS", "192.0.2.1:5061")]));
}

#[tokio::test]
async fn without_naptr_srv_is_asked_for_each_transport() {
    let resolver = StaticResolver::new()
        .with_srv(
            "_sip._tcp.biloxi.example.com",
            vec![Srv { priority: 1, weight: 0, port: 5062, target: "b1.biloxi.example.com".into() }],
        )
        .with_srv(
            "_sip._udp.biloxi.example.com",
            vec![Srv { priority: 1, weight: 0, port: 5064, target: "b2.biloxi.example.com".into() }],
        )
        .with_host("b1.biloxi.example.com", [ip("192.0.2.11")])
        .with_host("b2.biloxi.example.com", [ip("192.0.2.12")]);
    let targets = Locator::new(resolver, all(), 1)
        .locate(&Destination::from_uri(&uri("sip:bob@biloxi.example.com")))
        .await
        .unwrap();
    assert_eq!(summary(&targets), pairs(&[("UDP", "192.0.2.12:5064"), ("TCP", "192.0.2.11:5062")]));
    // A transport parameter skips NAPTR and asks SRV for that transport only.
    let targets = locate(example_com(), all(), "sip:bob@example.com;transport=udp").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("UDP", "192.0.2.3:5060")]));
}

#[tokio::test]
async fn without_naptr_and_srv_the_address_records_serve() {
    let resolver = || StaticResolver::new().with_host("atlanta.example.com", [ip("192.0.2.20"), ip("2001:db8::20")]);
    let targets = locate(resolver(), all(), "sip:alice@atlanta.example.com").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("UDP", "192.0.2.20:5060"), ("UDP", "[2001:db8::20]:5060")]));
    let targets = locate(resolver(), all(), "sips:alice@atlanta.example.com").await.unwrap();
    assert_eq!(summary(&targets)[0], ("TLS".to_owned(), "192.0.2.20:5061".to_owned()));
    // maddr replaces the host.
    let targets = locate(resolver(), all(), "sip:alice@nowhere.example.com;maddr=atlanta.example.com").await.unwrap();
    assert_eq!(summary(&targets)[0], ("UDP".to_owned(), "192.0.2.20:5060".to_owned()));
    // Nothing at all.
    assert_eq!(
        locate(resolver(), all(), "sip:alice@nowhere.example.com").await,
        Err(ResolveError::NotFound("nowhere.example.com".into()))
    );
}

#[tokio::test]
async fn sips_refuses_insecure_transports() {
    let none = || StaticResolver::new();
    assert_eq!(
        locate(none(), all(), "sips:bob@192.0.2.4;transport=udp").await,
        Err(ResolveError::InsecureTransport(TransportName::UDP))
    );
    assert_eq!(
        summary(&locate(none(), all(), "sips:bob@192.0.2.4;transport=tcp").await.unwrap()),
        pairs(&[("TLS", "192.0.2.4:5061")])
    );
    assert_eq!(
        locate(none(), vec![TransportName::UDP], "sip:bob@192.0.2.4;transport=tcp").await,
        Err(ResolveError::UnsupportedTransport(TransportName::TCP))
    );
}

#[tokio::test]
async fn srv_priority_then_weight() {
    let srv = |priority, weight, target: &str| Srv { priority, weight, port: 5060, target: target.into() };
    let resolver = || {
        StaticResolver::new()
            .with_srv(
                "_sip._udp.example.net",
                vec![
                    srv(20, 0, "backup.example.net"),
                    srv(10, 0, "light.example.net"),
                    srv(10, 100, "heavy.example.net"),
                ],
            )
            .with_host("backup.example.net", [ip("192.0.2.30")])
            .with_host("light.example.net", [ip("192.0.2.31")])
            .with_host("heavy.example.net", [ip("192.0.2.32")])
    };
    let mut heavy_first = 0;
    for seed in 0..200 {
        let targets = Locator::new(resolver(), vec![TransportName::UDP], seed)
            .locate(&Destination::from_uri(&uri("sip:x@example.net")))
            .await
            .unwrap();
        let addrs: Vec<String> = targets.iter().map(|t| t.remote.ip().to_string()).collect();
        assert_eq!(addrs.len(), 3);
        assert_eq!(addrs[2], "192.0.2.30", "the lower priority comes last");
        if addrs[0] == "192.0.2.32" {
            heavy_first += 1;
        }
    }
    assert!(heavy_first > 180, "weight 100 against 0 should come first almost always: {heavy_first}/200");
    // A lone "." target: the service is not offered there.
    let resolver = StaticResolver::new()
        .with_srv("_sip._udp.example.org", vec![srv(0, 0, ".")])
        .with_host("example.org", [ip("192.0.2.40")]);
    let targets = locate(resolver, vec![TransportName::UDP], "sip:x@example.org").await.unwrap();
    assert_eq!(summary(&targets), pairs(&[("UDP", "192.0.2.40:5060")]));
}

#[tokio::test]
async fn failover_to_the_next_target() {
    let network = MemoryNetwork::new();
    let (a_tx, _a_in) = incoming_channel(8);
    let (b_tx, mut b_in) = incoming_channel(8);
    let a = TransportSet::new().with(network.endpoint(TransportName::UDP, "192.0.2.1:5060".parse().unwrap(), a_tx));
    let reachable: SocketAddr = "192.0.2.3:5060".parse().unwrap();
    let _b = network.endpoint(TransportName::UDP, reachable, b_tx);
    let targets = [
        Target::new(TransportName::UDP, "192.0.2.2:5060".parse().unwrap()),
        Target::new(TransportName::UDP, reachable),
    ];
    let mut request = match Message::parse(Bytes::from_static(
        b"OPTIONS sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP x.invalid;branch=z9hG4bKf1\r\n\
From: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: f1\r\nCSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n",
    ))
    .unwrap()
    {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    };
    let (used, _) = a.send_request_to_any(&mut request, &targets).await.unwrap();
    assert_eq!(used.remote, reachable);
    assert!(b_in.recv().await.is_some());
    assert!(a.send_request_to_any(&mut request, &targets[..1]).await.is_err());
    assert!(matches!(a.send_request_to_any(&mut request, &[]).await, Err(sip_transport::TransportError::NoTarget)));
}

#[test]
fn resolve_entries() {
    let r = StaticResolver::new().with_entry("pbx.example.com:192.0.2.50").unwrap();
    let r = r.with_entry("v6.example.com:[2001:db8::50]").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(r.ip("PBX.example.com.")).unwrap(), vec![ip("192.0.2.50")]);
    assert_eq!(rt.block_on(r.ip("v6.example.com")).unwrap(), vec![ip("2001:db8::50")]);
    for bad in ["pbx.example.com", ":192.0.2.1", "pbx.example.com:not-an-ip"] {
        assert!(StaticResolver::new().with_entry(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn hickory_reports_an_unreachable_name_server_in_bounded_time() {
    use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
    use hickory_resolver::name_server::TokioConnectionProvider;
    // A name server on loopback where nothing answers.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let config =
        ResolverConfig::from_parts(None, vec![], NameServerConfigGroup::from_ips_clear(&[ip("127.0.0.1")], port, true));
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_millis(200);
    opts.attempts = 1;
    let inner = hickory_resolver::Resolver::builder_with_config(config, TokioConnectionProvider::default())
        .with_options(opts)
        .build();
    let resolver = HickoryResolver::new(inner);
    let result = tokio::time::timeout(Duration::from_secs(10), resolver.ip("sip.example.com")).await.expect("bounded");
    assert!(matches!(result, Err(ResolveError::Lookup { .. })), "{result:?}");
    let result =
        tokio::time::timeout(Duration::from_secs(10), resolver.srv("_sip._udp.example.com")).await.expect("bounded");
    assert!(matches!(result, Err(ResolveError::Lookup { .. })), "{result:?}");
}
