//! SIP over WebSocket (RFC 7118) on 127.0.0.1 and ::1, and secure WebSocket with a
//! certificate made here: the sip subprotocol, one message per WebSocket message.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sip_message::header::Transport as TransportName;
use sip_message::{Message, Request, Response, StatusCode};
use sip_transport::rules::{ResponseRoute, response_route};
use sip_transport::stream::StreamSettings;
use sip_transport::ws::{WsTransport, WssTransport};
use sip_transport::{Incoming, Received, Target, Transport, TransportSet, incoming_channel};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const WAIT: Duration = Duration::from_secs(5);

/// A request as a browser client sends it: no Content-Length, a `.invalid` sent-by.
fn register(call_id: &str) -> String {
    format!(
        "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK{call_id}\r\n\
Max-Forwards: 70\r\n\
From: <sip:alice@example.com>;tag=65bnmj.34asd\r\n\
To: <sip:alice@example.com>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:alice@df7jal23ls0d.invalid;transport=ws>;expires=600\r\n\r\n"
    )
}

fn request(text: &str) -> Request {
    match Message::parse(Bytes::copy_from_slice(text.as_bytes())).unwrap() {
        Message::Request(r) => r,
        Message::Response(_) => unreachable!(),
    }
}

async fn next(incoming: &mut Incoming) -> Received {
    timeout(WAIT, incoming.recv()).await.expect("nothing received in time").expect("channel open")
}

/// A request from `a` to `b` and its response back on the same connection.
async fn exchange(a: &TransportSet, a_in: &mut Incoming, b: &dyn Transport, b_in: &mut Incoming, target: Target) {
    let mut req = request(&register("ws1"));
    let sent = a.send_request(&mut req, &target).await.unwrap();
    assert_eq!(sent.transport, target.transport);
    let (received, source) = match next(b_in).await {
        Received::Message { message: Message::Request(r), source } => (r, source),
        other => panic!("{other:?}"),
    };
    assert_eq!(source.transport, target.transport);
    assert_eq!(received.headers.top_via().unwrap().unwrap().transport(), target.transport);
    let response = Response::from_request(&received, StatusCode::OK);
    let ResponseRoute::Target(back) = response_route(&response, Some(&source)).unwrap() else { panic!() };
    b.send(&back, response.to_bytes()).await.unwrap();
    match next(a_in).await {
        Received::Message { message: Message::Response(r), source } => {
            assert_eq!(r.status, StatusCode::OK);
            assert_eq!(source.connection, sent.connection);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn ws_on_ipv4_and_ipv6() {
    for ip in ["127.0.0.1", "[::1]"] {
        let any: SocketAddr = format!("{ip}:0").parse().unwrap();
        let (a_tx, mut a_in) = incoming_channel(8);
        let (b_tx, mut b_in) = incoming_channel(8);
        let a = TransportSet::new().with(WsTransport::bind(any, StreamSettings::default(), a_tx).await.unwrap());
        let b = WsTransport::bind(any, StreamSettings::default(), b_tx).await.unwrap();
        let target = Target::new(TransportName::WS, b.local_addr());
        exchange(&a, &mut a_in, &b, &mut b_in, target).await;
        assert_eq!(b.connection_count(), 1);
    }
}

#[tokio::test]
async fn wss_with_a_verified_certificate() {
    let pki = common::pki();
    for (ip, name) in [("127.0.0.1", Some("localhost")), ("[::1]", None)] {
        let any: SocketAddr = format!("{ip}:0").parse().unwrap();
        let (a_tx, mut a_in) = incoming_channel(8);
        let (b_tx, mut b_in) = incoming_channel(8);
        let a = WssTransport::bind(any, common::config(&pki, false), StreamSettings::default(), a_tx).await.unwrap();
        let b = WssTransport::bind(any, common::config(&pki, true), StreamSettings::default(), b_tx).await.unwrap();
        let mut target = Target::new(TransportName::WSS, b.local_addr());
        if let Some(name) = name {
            target = target.with_server_name(name);
        }
        exchange(&TransportSet::new().with(a), &mut a_in, &b, &mut b_in, target).await;
    }
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let (b_tx, _b_in) = incoming_channel(8);
    let b = WssTransport::bind(any, common::config(&pki, true), StreamSettings::default(), b_tx).await.unwrap();
    // A client that does not trust the certificate gets no connection.
    let (c_tx, _c_in) = incoming_channel(8);
    let c =
        WssTransport::bind(any, sip_transport::tls::TlsConfig::client_only().unwrap(), StreamSettings::default(), c_tx)
            .await
            .unwrap();
    let target = Target::new(TransportName::WSS, b.local_addr()).with_server_name("localhost");
    assert!(c.send(&target, Bytes::from(register("untrusted"))).await.is_err());
}

#[tokio::test]
async fn the_sip_subprotocol_is_required() {
    let (b_tx, mut b_in) = incoming_channel(8);
    let b = WsTransport::bind("127.0.0.1:0".parse().unwrap(), StreamSettings::default(), b_tx).await.unwrap();
    let url = format!("ws://127.0.0.1:{}/", b.local_addr().port());

    // Without the subprotocol the handshake is refused.
    let tcp = tokio::net::TcpStream::connect(b.local_addr()).await.unwrap();
    let refused = tokio_tungstenite::client_async(url.clone(), tcp).await;
    assert!(refused.is_err(), "handshake without the sip subprotocol must fail");

    // With it, a binary WebSocket message carries a request without Content-Length, and
    // the answer comes back as text.
    let mut handshake = url.into_client_request().unwrap();
    handshake.headers_mut().insert("Sec-WebSocket-Protocol", "sip".parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(b.local_addr()).await.unwrap();
    let (mut client, response) = tokio_tungstenite::client_async(handshake, tcp).await.unwrap();
    assert_eq!(response.headers().get("Sec-WebSocket-Protocol").unwrap(), "sip");
    client.send(WsMessage::Binary(Bytes::from(register("raw")))).await.unwrap();
    let (received, source) = match next(&mut b_in).await {
        Received::Message { message: Message::Request(r), source } => (r, source),
        other => panic!("{other:?}"),
    };
    assert_eq!(received.headers.call_id().unwrap().unwrap().0, "raw");
    let via = received.headers.top_via().unwrap().unwrap();
    assert!(via.received().is_some(), "the .invalid sent-by gets received");
    b.send(&Target::back_to(&source), Response::from_request(&received, StatusCode::OK).to_bytes()).await.unwrap();
    match timeout(WAIT, client.next()).await.unwrap() {
        Some(Ok(WsMessage::Text(text))) => assert!(text.as_str().starts_with("SIP/2.0 200 OK\r\n")),
        other => panic!("{other:?}"),
    }
    // Garbage in a WebSocket message is one malformed message; the connection stays.
    client.send(WsMessage::Text("not sip".into())).await.unwrap();
    assert!(matches!(next(&mut b_in).await, Received::Malformed { .. }));
    client.send(WsMessage::Text(register("after").into())).await.unwrap();
    assert!(matches!(next(&mut b_in).await, Received::Message { .. }));
}
