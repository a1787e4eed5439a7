//! UDP and TCP exchanging real messages on 127.0.0.1 and ::1, the §18 rules on the way,
//! and the limits of the connection manager (timers on tokio's paused clock).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::header::Transport as TransportName;
use sip_message::{Message, Request, Response, StatusCode};
use sip_transport::memory::MemoryNetwork;
use sip_transport::rules::{ResponseRoute, response_route};
use sip_transport::stream::StreamSettings;
use sip_transport::tcp::TcpTransport;
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{Incoming, Received, Target, Transport, TransportError, TransportSet, incoming_channel};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout};

const WAIT: Duration = Duration::from_secs(5);

fn options(call_id: &str, extra: &str) -> Request {
    let text = format!(
        "OPTIONS sip:bob@biloxi.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP placeholder.invalid;branch=z9hG4bK{call_id};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@atlanta.example.com>;tag=1928301774\r\n\
To: <sip:bob@biloxi.example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 63104 OPTIONS\r\n\
{extra}Content-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(text)).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

async fn next(incoming: &mut Incoming) -> Received {
    timeout(WAIT, incoming.recv()).await.expect("nothing received in time").expect("channel open")
}

fn request_of(received: Received) -> (Request, sip_transport::Source) {
    match received {
        Received::Message { message: Message::Request(r), source } => (r, source),
        other => panic!("expected a request, got {other:?}"),
    }
}

fn response_of(received: Received) -> (Response, sip_transport::Source) {
    match received {
        Received::Message { message: Message::Response(r), source } => (r, source),
        other => panic!("expected a response, got {other:?}"),
    }
}

fn call_id(headers: &sip_message::Headers) -> Bytes {
    headers.call_id().unwrap().unwrap().0
}

/// Sends a request from `a` to `b`, answers it from `b` by the §18.2.2 route, and checks
/// both ends see what was sent with the right sources.
async fn exchange(a: &TransportSet, a_in: &mut Incoming, b: &TransportSet, b_in: &mut Incoming, target: Target) {
    let mut request = options("x1", "");
    let sent = a.send_request(&mut request, &target).await.unwrap();
    assert_eq!(sent.transport, target.transport);
    let (received, source) = request_of(next(b_in).await);
    assert_eq!(source.transport, target.transport);
    assert_eq!(source.remote.ip(), sent.local.ip());
    assert_eq!(call_id(&received.headers), "x1");
    // sent-by names the sender; rport is filled in with the source port and received added.
    let via = received.headers.top_via().unwrap().unwrap();
    assert_eq!(via.transport(), target.transport);
    assert_eq!(via.host().ip(), Some(sent.local.ip()));
    assert_eq!(via.port(), Some(sent.sent_by.port()));
    assert_eq!(via.rport(), Some(Some(source.remote.port())));
    assert_eq!(via.received(), Some(source.remote.ip()));
    assert_eq!(via.branch(), Some("z9hG4bKx1"));

    let response = Response::from_request(&received, StatusCode::OK).with_to_tag("a6c85cf").unwrap();
    let ResponseRoute::Target(back) = response_route(&response, Some(&source)).unwrap() else {
        panic!("numeric Via: no resolution needed")
    };
    b.send(&back, response.to_bytes()).await.unwrap();
    let (answer, answer_source) = response_of(next(a_in).await);
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(call_id(&answer.headers), "x1");
    assert_eq!(answer_source.local.port(), sent.local.port());
}

async fn udp_pair(ip: &str) -> ((TransportSet, Incoming), (TransportSet, Incoming), SocketAddr) {
    let any: SocketAddr = format!("{ip}:0").parse().unwrap();
    let (a_tx, a_in) = incoming_channel(64);
    let (b_tx, b_in) = incoming_channel(64);
    let a = UdpTransport::bind(any, UdpSettings::default(), a_tx).await.unwrap();
    let b = UdpTransport::bind(any, UdpSettings::default(), b_tx).await.unwrap();
    let b_addr = b.local_addr();
    ((TransportSet::new().with(a), a_in), (TransportSet::new().with(b), b_in), b_addr)
}

async fn tcp_pair(
    ip: &str,
    settings: StreamSettings,
) -> ((TransportSet, Incoming), (TransportSet, Incoming), SocketAddr, [std::sync::Arc<TcpTransport>; 2]) {
    let any: SocketAddr = format!("{ip}:0").parse().unwrap();
    let (a_tx, a_in) = incoming_channel(64);
    let (b_tx, b_in) = incoming_channel(64);
    let a = std::sync::Arc::new(TcpTransport::bind(any, settings, a_tx).await.unwrap());
    let b = std::sync::Arc::new(TcpTransport::bind(any, settings, b_tx).await.unwrap());
    let b_addr = b.local_addr();
    let sets = (TransportSet::new().with_shared(a.clone()), TransportSet::new().with_shared(b.clone()));
    ((sets.0, a_in), (sets.1, b_in), b_addr, [a, b])
}

#[tokio::test]
async fn udp_on_ipv4_and_ipv6() {
    for ip in ["127.0.0.1", "[::1]"] {
        let ((a, mut a_in), (b, mut b_in), b_addr) = udp_pair(ip).await;
        exchange(&a, &mut a_in, &b, &mut b_in, Target::new(TransportName::UDP, b_addr)).await;
    }
}

#[tokio::test]
async fn tcp_on_ipv4_and_ipv6_reuses_the_connection() {
    for ip in ["127.0.0.1", "[::1]"] {
        let ((a, mut a_in), (b, mut b_in), b_addr, [a_tcp, b_tcp]) = tcp_pair(ip, StreamSettings::default()).await;
        let target = Target::new(TransportName::TCP, b_addr);
        exchange(&a, &mut a_in, &b, &mut b_in, target.clone()).await;
        exchange(&a, &mut a_in, &b, &mut b_in, target).await;
        // One connection carried both requests and both responses (§18.2.2).
        assert_eq!(a_tcp.connection_count(), 1);
        assert_eq!(b_tcp.connection_count(), 1);
    }
}

#[tokio::test]
async fn a_response_reconnects_when_the_connection_is_gone() {
    let ((a, a_in), (b, mut b_in), b_addr, [a_tcp, b_tcp]) = tcp_pair("127.0.0.1", StreamSettings::default()).await;
    let mut request = options("gone", "");
    a.send_request(&mut request, &Target::new(TransportName::TCP, b_addr)).await.unwrap();
    let (received, source) = request_of(next(&mut b_in).await);
    // The connection the request came over is no more: the response goes to received at
    // the sent-by port, A's listener.
    let a_listener = a_tcp.local_addr();
    drop(a);
    drop(a_tcp);
    let (a2_tx, mut a2_in) = incoming_channel(8);
    // The old listener closes when its aborted task is next scheduled.
    let mut a2 = None;
    for _ in 0..100 {
        tokio::task::yield_now().await;
        if let Ok(t) = TcpTransport::bind(a_listener, StreamSettings::default(), a2_tx.clone()).await {
            a2 = Some(t);
            break;
        }
    }
    let a2 = a2.expect("the old listener closed");
    let mut gone = source.clone();
    gone.connection = Some(sip_transport::ConnectionId(9999));
    let response = Response::from_request(&received, StatusCode::OK);
    let ResponseRoute::Target(back) = response_route(&response, Some(&gone)).unwrap() else { panic!() };
    assert_eq!(back.remote.port(), a_listener.port(), "sent-by port");
    b.send(&back, response.to_bytes()).await.unwrap();
    let (answer, _) = response_of(next(&mut a2_in).await);
    assert_eq!(call_id(&answer.headers), "gone");
    assert_eq!(a2.connection_count(), 1);
    assert!(b_tcp.connection_count() >= 1);
    drop(a_in);
}

#[tokio::test]
async fn large_requests_go_over_tcp_and_back_to_udp_when_tcp_fails() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    // B listens on UDP and TCP at the same port.
    let (b_tx, mut b_in) = incoming_channel(64);
    let b_udp = UdpTransport::bind(any, UdpSettings::default(), b_tx.clone()).await.unwrap();
    let b_addr = b_udp.local_addr();
    let b_tcp = TcpTransport::bind(b_addr, StreamSettings::default(), b_tx).await.unwrap();
    let (a_tx, _a_in) = incoming_channel(64);
    let a = TransportSet::new()
        .with(UdpTransport::bind(any, UdpSettings::default(), a_tx.clone()).await.unwrap())
        .with(TcpTransport::bind(any, StreamSettings::default(), a_tx).await.unwrap());
    let padding = format!("Subject: {}\r\n", "x".repeat(1400));
    let target = Target::new(TransportName::UDP, b_addr);

    let mut small = options("small", "");
    assert_eq!(a.send_request(&mut small, &target).await.unwrap().transport, TransportName::UDP);
    let (r, source) = request_of(next(&mut b_in).await);
    assert_eq!((source.transport, call_id(&r.headers)), (TransportName::UDP, Bytes::from("small")));

    let mut large = options("large", &padding);
    assert_eq!(a.send_request(&mut large, &target).await.unwrap().transport, TransportName::TCP);
    let (r, source) = request_of(next(&mut b_in).await);
    assert_eq!((source.transport, call_id(&r.headers)), (TransportName::TCP, Bytes::from("large")));
    assert_eq!(r.headers.top_via().unwrap().unwrap().transport(), TransportName::TCP, "the Via says TCP");
    assert_eq!(b_tcp.connection_count(), 1);

    // Without a TCP listener at the target the request goes over UDP after all.
    let (c_tx, mut c_in) = incoming_channel(64);
    let c_udp = UdpTransport::bind(any, UdpSettings::default(), c_tx).await.unwrap();
    let mut again = options("again", &padding);
    let sent = a.send_request(&mut again, &Target::new(TransportName::UDP, c_udp.local_addr())).await.unwrap();
    assert_eq!(sent.transport, TransportName::UDP);
    let (r, source) = request_of(next(&mut c_in).await);
    assert_eq!((source.transport, call_id(&r.headers)), (TransportName::UDP, Bytes::from("again")));
    assert_eq!(r.headers.top_via().unwrap().unwrap().transport(), TransportName::UDP);
}

#[tokio::test]
async fn udp_refuses_what_does_not_fit_a_datagram() {
    let ((a, _a_in), (_b, _b_in), b_addr) = udp_pair("127.0.0.1").await;
    let huge = Bytes::from(vec![b'x'; 70_000]);
    let error = a.send(&Target::new(TransportName::UDP, b_addr), huge).await.unwrap_err();
    assert!(matches!(error, TransportError::TooLarge { size: 70_000, .. }), "{error}");
    let error = a.send(&Target::new(TransportName::TLS, b_addr), Bytes::new()).await.unwrap_err();
    assert!(matches!(error, TransportError::Unsupported(_)), "{error}");
}

#[tokio::test]
async fn udp_hands_up_malformed_datagrams_and_skips_keep_alives() {
    let ((_a, _a_in), (_b, mut b_in), b_addr) = udp_pair("127.0.0.1").await;
    let raw = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    raw.send_to(b"\r\n\r\n", b_addr).await.unwrap();
    raw.send_to(b"INVITE sip:bob@example.com SIP/2.0\r\n\r\n", b_addr).await.unwrap();
    match next(&mut b_in).await {
        Received::Malformed { error, source, .. } => {
            assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
            assert_eq!(source.remote, raw.local_addr().unwrap());
        }
        other => panic!("{other:?}"),
    }
}

/// A raw client connection to a TCP transport with these settings.
async fn raw_tcp(settings: StreamSettings) -> (TcpTransport, Incoming, TcpStream) {
    let (tx, incoming) = incoming_channel(64);
    let server = TcpTransport::bind("127.0.0.1:0".parse().unwrap(), settings, tx).await.unwrap();
    let client = TcpStream::connect(server.local_addr()).await.unwrap();
    (server, incoming, client)
}

/// Reads until the peer closes; returns what came.
async fn read_to_close(client: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    timeout(WAIT * 100, client.read_to_end(&mut got)).await.expect("closed in time").unwrap();
    got
}

#[tokio::test]
async fn keep_alive_pings_are_answered() {
    let (_server, mut incoming, mut client) = raw_tcp(StreamSettings::default()).await;
    client.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    timeout(WAIT, client.read_exact(&mut pong)).await.unwrap().unwrap();
    assert_eq!(&pong, b"\r\n");
    // The connection still carries messages.
    client.write_all(&options("after-ping", "").to_bytes()).await.unwrap();
    let (r, _) = request_of(next(&mut incoming).await);
    assert_eq!(call_id(&r.headers), "after-ping");
}

#[tokio::test]
async fn missing_content_length_gets_a_400_and_the_connection_closes() {
    let (server, _incoming, mut client) = raw_tcp(StreamSettings::default()).await;
    let text = String::from_utf8(options("nocl", "").to_bytes().to_vec()).unwrap().replace("Content-Length: 0\r\n", "");
    client.write_all(text.as_bytes()).await.unwrap();
    let got = read_to_close(&mut client).await;
    let response = match Message::parse(Bytes::from(got)).unwrap() {
        Message::Response(r) => r,
        Message::Request(_) => panic!(),
    };
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(call_id(&response.headers), "nocl");
    tokio::task::yield_now().await;
    assert_eq!(server.connection_count(), 0);
}

#[tokio::test]
async fn a_malformed_message_on_a_stream_is_handed_up_and_the_connection_stays() {
    let (_server, mut incoming, mut client) = raw_tcp(StreamSettings::default()).await;
    let broken =
        String::from_utf8(options("broken", "").to_bytes().to_vec()).unwrap().replace("CSeq: 63104 OPTIONS\r\n", "");
    client.write_all(broken.as_bytes()).await.unwrap();
    client.write_all(&options("fine", "").to_bytes()).await.unwrap();
    assert!(matches!(next(&mut incoming).await, Received::Malformed { .. }));
    let (r, _) = request_of(next(&mut incoming).await);
    assert_eq!(call_id(&r.headers), "fine");
}

#[tokio::test]
async fn connections_per_remote_are_capped() {
    let settings = StreamSettings { max_connections_per_remote: 1, ..StreamSettings::default() };
    let (server, mut incoming, mut first) = raw_tcp(settings).await;
    first.write_all(&options("first", "").to_bytes()).await.unwrap();
    request_of(next(&mut incoming).await);
    let mut second = TcpStream::connect(server.local_addr()).await.unwrap();
    assert!(read_to_close(&mut second).await.is_empty(), "refused by closing");
    assert_eq!(server.connection_count(), 1);
    // A new connection out to the same IP address is refused the same way.
    let error = server.send(&Target::new(TransportName::TCP, "127.0.0.1:9".parse().unwrap()), Bytes::new()).await;
    assert!(matches!(error, Err(TransportError::ConnectionLimit { limit: 1 })), "{error:?}");
}

#[tokio::test]
async fn connections_in_all_are_capped() {
    let settings = StreamSettings { max_connections: 2, ..StreamSettings::default() };
    let (server, mut incoming, mut first) = raw_tcp(settings).await;
    let mut second = TcpStream::connect(server.local_addr()).await.unwrap();
    for (client, id) in [(&mut first, "one"), (&mut second, "two")] {
        client.write_all(&options(id, "").to_bytes()).await.unwrap();
        request_of(next(&mut incoming).await);
    }
    let mut third = TcpStream::connect(server.local_addr()).await.unwrap();
    assert!(read_to_close(&mut third).await.is_empty(), "refused by closing");
    assert_eq!(server.connection_count(), 2);
    // Nor can the transport itself open another.
    let (other_tx, _other_in) = incoming_channel(8);
    let other = TcpTransport::bind("127.0.0.1:0".parse().unwrap(), StreamSettings::default(), other_tx).await.unwrap();
    let error = server.send(&Target::new(TransportName::TCP, other.local_addr()), Bytes::new()).await.unwrap_err();
    assert!(matches!(error, TransportError::ConnectionLimit { limit: 2 }), "{error}");
    // Once one closes, there is room again.
    drop(first);
    let mut room = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        if server.connection_count() < 2 {
            room = true;
            break;
        }
    }
    assert!(room, "a closed connection leaves the table");
    server.send(&Target::new(TransportName::TCP, other.local_addr()), Bytes::new()).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_connections_are_closed() {
    let settings = StreamSettings { idle_timeout: Duration::from_secs(30), ..StreamSettings::default() };
    let (server, mut incoming, mut client) = raw_tcp(settings).await;
    client.write_all(&options("idle", "").to_bytes()).await.unwrap();
    request_of(next(&mut incoming).await);
    let start = Instant::now();
    assert!(read_to_close(&mut client).await.is_empty());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(29) && waited <= Duration::from_secs(31), "closed after {waited:?}");
    assert_eq!(server.connection_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_sender_cannot_hold_a_partial_message() {
    let settings = StreamSettings {
        idle_timeout: Duration::from_secs(600),
        frame_timeout: Duration::from_secs(5),
        ..StreamSettings::default()
    };
    let (server, _incoming, mut client) = raw_tcp(settings).await;
    let text = options("slow", "").to_bytes();
    client.write_all(&text[..40]).await.unwrap();
    let start = Instant::now();
    assert!(read_to_close(&mut client).await.is_empty());
    let waited = start.elapsed();
    assert!(waited >= Duration::from_secs(4) && waited <= Duration::from_secs(6), "closed after {waited:?}");
    assert_eq!(server.connection_count(), 0);
}

#[tokio::test]
async fn memory_network_carries_messages_like_a_datagram_transport() {
    let network = MemoryNetwork::new();
    let (a_tx, mut a_in) = incoming_channel(8);
    let (b_tx, mut b_in) = incoming_channel(8);
    let a_addr: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let b_addr: SocketAddr = "192.0.2.2:5060".parse().unwrap();
    let a = TransportSet::new().with(network.endpoint(TransportName::UDP, a_addr, a_tx));
    let b = TransportSet::new().with(network.endpoint(TransportName::UDP, b_addr, b_tx));
    exchange(&a, &mut a_in, &b, &mut b_in, Target::new(TransportName::UDP, b_addr)).await;
    let nowhere = Target::new(TransportName::UDP, "192.0.2.3:5060".parse().unwrap());
    assert!(matches!(a.send(&nowhere, Bytes::from_static(b"x")).await, Err(TransportError::Unreachable(_))));
}
