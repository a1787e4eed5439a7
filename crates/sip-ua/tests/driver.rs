//! The transaction driver over real UDP and TCP sockets on loopback, on tokio's paused
//! clock: a request answered between two drivers, the INVITE retransmission schedule and
//! Timer B as a silent peer sees them, and a target that cannot be reached.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::header::Transport as TransportName;
use sip_message::{Message, Request, Response, StatusCode};
use sip_transaction::{Config, Event, Timer};
use sip_transport::stream::StreamSettings;
use sip_transport::tcp::TcpTransport;
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::{Target, TransportSet, incoming_channel};
use sip_ua::driver::{DriverError, Events, TransactionDriver};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout};

fn request(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:bob@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP placeholder.invalid;branch={branch};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@127.0.0.1>;tag=1928301774\r\n\
To: <sip:bob@127.0.0.1>\r\n\
Call-ID: {branch}@127.0.0.1\r\n\
CSeq: 1 {method}\r\n\
Content-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(text)).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

async fn udp_driver() -> (TransactionDriver, Events, SocketAddr) {
    let (tx, incoming) = incoming_channel(64);
    let udp = UdpTransport::bind("127.0.0.1:0".parse().unwrap(), UdpSettings::default(), tx).await.unwrap();
    let addr = udp.local_addr();
    let (driver, events, _task) = TransactionDriver::spawn(Config::default(), TransportSet::new().with(udp), incoming);
    (driver, events, addr)
}

async fn next(events: &mut Events) -> Event<Target> {
    timeout(Duration::from_secs(120), events.recv()).await.expect("an event in time").expect("driver running")
}

#[tokio::test(start_paused = true)]
async fn a_request_answered_between_two_drivers() {
    let (alice, mut alice_events, _) = udp_driver().await;
    let (bob, mut bob_events, bob_addr) = udp_driver().await;
    let start = Instant::now();
    let key =
        alice.send_request(request("OPTIONS", "z9hG4bKdrv1"), Target::new(TransportName::UDP, bob_addr)).await.unwrap();

    let Event::Request { key: Some(server_key), request, from, .. } = next(&mut bob_events).await else { panic!() };
    assert_eq!(request.headers.call_id().unwrap().unwrap().0, "z9hG4bKdrv1@127.0.0.1");
    assert_eq!(from.transport, TransportName::UDP);
    let ok = Response::from_request(&request, StatusCode::OK).with_to_tag("b1").unwrap();
    bob.send_response(server_key, ok).await.unwrap();

    let Event::Response { key: answered, response } = next(&mut alice_events).await else { panic!() };
    assert_eq!((answered, response.status), (key, StatusCode::OK));
    // Timer K (T4) ends the client transaction, Timer J (64·T1) the server one.
    assert!(matches!(next(&mut alice_events).await, Event::Terminated { .. }));
    let k = start.elapsed();
    assert!(k >= Duration::from_secs(5) && k < Duration::from_millis(5100), "K after {k:?}");
    assert!(matches!(next(&mut bob_events).await, Event::Terminated { .. }));
    let j = start.elapsed();
    assert!(j >= Duration::from_secs(32) && j < Duration::from_millis(32100), "J after {j:?}");
}

#[tokio::test(start_paused = true)]
async fn a_silent_peer_sees_the_invite_retransmission_schedule() {
    let (alice, mut alice_events, _) = udp_driver().await;
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let start = Instant::now();
    alice
        .send_request(request("INVITE", "z9hG4bKdrv2"), Target::new(TransportName::UDP, silent.local_addr().unwrap()))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while seen.len() < 7 {
        let (n, _) = timeout(Duration::from_secs(60), silent.recv_from(&mut buf)).await.unwrap().unwrap();
        assert!(buf[..n].starts_with(b"INVITE sip:bob@127.0.0.1 SIP/2.0\r\n"));
        seen.push(start.elapsed().as_millis());
    }
    // 0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s (virtual), each within a few ms.
    for (got, want) in seen.iter().zip([0u128, 500, 1500, 3500, 7500, 15500, 31500]) {
        assert!(got.abs_diff(want) < 20, "retransmissions at {seen:?}");
    }
    let Event::Timeout { timer, .. } = next(&mut alice_events).await else { panic!() };
    assert_eq!(timer, Timer::B);
    let b = start.elapsed();
    assert!(b >= Duration::from_secs(32) && b < Duration::from_millis(32100), "Timer B after {b:?}");
    assert!(matches!(next(&mut alice_events).await, Event::Terminated { .. }));
    // No eighth copy.
    assert!(timeout(Duration::from_secs(60), silent.recv_from(&mut buf)).await.is_err());
}

#[tokio::test]
async fn an_unreachable_stream_target_fails_the_send() {
    let (tx, incoming) = incoming_channel(8);
    let tcp = TcpTransport::bind("127.0.0.1:0".parse().unwrap(), StreamSettings::default(), tx).await.unwrap();
    let (driver, _events, _task) = TransactionDriver::spawn(Config::default(), TransportSet::new().with(tcp), incoming);
    // A port nothing listens on: connecting is refused before any transaction starts.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let error = driver.send_request(request("OPTIONS", "z9hG4bKdrv3"), Target::new(TransportName::TCP, addr)).await;
    assert!(matches!(error, Err(DriverError::Transport(_))), "{error:?}");
    // A transport the set lacks.
    let error = driver.send_request(request("OPTIONS", "z9hG4bKdrv4"), Target::new(TransportName::UDP, addr)).await;
    assert!(matches!(error, Err(DriverError::Transport(_))), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn a_datagram_that_does_not_parse_is_answered_with_its_status() {
    let (_driver, _events, addr) = udp_driver().await;
    let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let me = peer.local_addr().unwrap();
    let bad = |version: &str| {
        format!(
            "OPTIONS sip:bob@127.0.0.1 SIP/{version}\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKbad\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=1\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: bad@127.0.0.1\r\n\
CSeq: 1 OPTIONS\r\nContent-Length: 5\r\n\r\n"
        )
    };
    let mut buf = vec![0; 2048];
    // The body is shorter than Content-Length (400, §18.3); then a version other than 2.0 (505).
    for (version, status) in [("2.0", 400), ("3.0", 505)] {
        peer.send_to(bad(version).as_bytes(), addr).await.unwrap();
        let (n, from) = timeout(Duration::from_secs(5), peer.recv_from(&mut buf)).await.expect("an answer").unwrap();
        assert_eq!(from, addr);
        let Message::Response(r) = Message::parse(Bytes::copy_from_slice(&buf[..n])).unwrap() else { panic!() };
        assert_eq!(r.status.as_u16(), status);
        assert_eq!(r.headers.call_id().unwrap().unwrap().0, "bad@127.0.0.1");
        assert!(r.headers.to().unwrap().unwrap().tag().is_some());
    }
    // A top Via that parses but does not decode: no transaction, but a 400 all the same.
    let odd_via = bad("2.0").replace(";branch=z9hG4bKbad", ";;,;,,").replace("Content-Length: 5", "Content-Length: 0");
    peer.send_to(odd_via.as_bytes(), addr).await.unwrap();
    let (n, _) = timeout(Duration::from_secs(5), peer.recv_from(&mut buf)).await.expect("an answer").unwrap();
    assert!(buf[..n].starts_with(b"SIP/2.0 400 "), "{}", String::from_utf8_lossy(&buf[..n]));
    // A response that does not parse is dropped, not answered.
    peer.send_to(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nContent-Length: 9\r\n\r\n", addr).await.unwrap();
    assert!(timeout(Duration::from_secs(5), peer.recv_from(&mut buf)).await.is_err());
}
