//! TLS on 127.0.0.1 and ::1 with a certificate made here by rcgen: messages both ways on
//! one connection, and the server verified (by default, and by name).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use sip_message::header::Transport as TransportName;
use sip_message::{Message, Request, Response, StatusCode};
use sip_transport::rules::{ResponseRoute, response_route};
use sip_transport::stream::StreamSettings;
use sip_transport::tls::{TlsConfig, TlsTransport};
use sip_transport::{Incoming, Received, Target, Transport, TransportError, TransportSet, incoming_channel};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn options(call_id: &str) -> Request {
    let text = format!(
        "OPTIONS sips:bob@localhost SIP/2.0\r\n\
Via: SIP/2.0/TLS placeholder.invalid;branch=z9hG4bK{call_id}\r\n\
Max-Forwards: 70\r\n\
From: <sips:alice@localhost>;tag=1928301774\r\n\
To: <sips:bob@localhost>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n"
    );
    match Message::parse(Bytes::from(text)).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

async fn next(incoming: &mut Incoming) -> Received {
    timeout(WAIT, incoming.recv()).await.expect("nothing received in time").expect("channel open")
}

async fn pair(ip: &str, a_config: TlsConfig, b_config: TlsConfig) -> (TlsTransport, Incoming, TlsTransport, Incoming) {
    let any: SocketAddr = format!("{ip}:0").parse().unwrap();
    let (a_tx, a_in) = incoming_channel(16);
    let (b_tx, b_in) = incoming_channel(16);
    let a = TlsTransport::bind(any, a_config, StreamSettings::default(), a_tx).await.unwrap();
    let b = TlsTransport::bind(any, b_config, StreamSettings::default(), b_tx).await.unwrap();
    (a, a_in, b, b_in)
}

#[tokio::test]
async fn requests_and_responses_over_tls_on_ipv4_and_ipv6() {
    let pki = common::pki();
    for (ip, name) in [("127.0.0.1", Some("localhost")), ("[::1]", None)] {
        let (a, mut a_in, b, mut b_in) = pair(ip, common::config(&pki, false), common::config(&pki, true)).await;
        let b_addr = b.local_addr();
        let a = TransportSet::new().with(a);
        let mut target = Target::new(TransportName::TLS, b_addr);
        if let Some(name) = name {
            target = target.with_server_name(name);
        }
        let mut request = options("tls1");
        let sent = a.send_request(&mut request, &target).await.unwrap();
        assert_eq!(sent.transport, TransportName::TLS);
        let (received, source) = match next(&mut b_in).await {
            Received::Message { message: Message::Request(r), source } => (r, source),
            other => panic!("{other:?}"),
        };
        assert_eq!(source.transport, TransportName::TLS);
        assert!(source.connection.is_some());
        let via = received.headers.top_via().unwrap().unwrap();
        assert_eq!(via.transport(), TransportName::TLS);
        assert_eq!(via.port(), Some(sent.sent_by.port()));

        let response = Response::from_request(&received, StatusCode::OK);
        let ResponseRoute::Target(back) = response_route(&response, Some(&source)).unwrap() else { panic!() };
        b.send(&back, response.to_bytes()).await.unwrap();
        match next(&mut a_in).await {
            Received::Message { message: Message::Response(r), source: back_source } => {
                assert_eq!(r.status, StatusCode::OK);
                assert_eq!(back_source.connection, sent.connection, "the same connection");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(b.connection_count(), 1);
    }
}

#[tokio::test]
async fn servers_are_verified_by_default() {
    let pki = common::pki();
    let (_, _, b, _b_in) = pair("127.0.0.1", common::config(&pki, false), common::config(&pki, true)).await;
    // The default client trusts the public roots, not this CA.
    let (c_tx, _c_in) = incoming_channel(4);
    let default_client = TlsConfig::client_only().unwrap();
    let c = TlsTransport::bind("127.0.0.1:0".parse().unwrap(), default_client, StreamSettings::default(), c_tx)
        .await
        .unwrap();
    let target = Target::new(TransportName::TLS, b.local_addr()).with_server_name("localhost");
    let error = c.send(&target, options("untrusted").to_bytes()).await.unwrap_err();
    assert!(matches!(error, TransportError::Io { .. }), "{error}");
    assert_eq!(c.connection_count(), 0);
}

#[tokio::test]
async fn the_certificate_must_name_the_server() {
    let pki = common::pki();
    let (a, _a_in, b, _b_in) = pair("127.0.0.1", common::config(&pki, false), common::config(&pki, true)).await;
    let target = Target::new(TransportName::TLS, b.local_addr()).with_server_name("biloxi.example.com");
    let error = a.send(&target, options("wrong-name").to_bytes()).await.unwrap_err();
    assert!(matches!(error, TransportError::Io { .. }), "{error}");
    // Plain TCP bytes at a TLS listener get no SIP answer: the handshake fails and the
    // connection closes.
    let mut raw = tokio::net::TcpStream::connect(b.local_addr()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut raw, &options("plain").to_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = timeout(WAIT, tokio::io::AsyncReadExt::read_to_end(&mut raw, &mut got)).await.unwrap();
    assert!(!got.starts_with(b"SIP/2.0"));
}
