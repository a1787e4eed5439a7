//! SIP over WebSocket (RFC 7118): WS over TCP and WSS over TLS, the `sip` subprotocol
//! required in the handshake, one SIP message per WebSocket message (so no Content-Length
//! is needed), sent as text when it is UTF-8.

use std::io;
use std::net::SocketAddr;

use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use sip_message::Message;
use sip_message::header::Transport as TransportName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};

use crate::stream::{Connection, StreamLayer, StreamSettings, StreamTransport};
use crate::tcp::Plain;
use crate::tls::{Tls, TlsConfig};
use crate::{IncomingSender, Target, TransportError};

/// The WebSocket subprotocol of RFC 7118.
pub const SUBPROTOCOL: &str = "sip";

const PROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

/// A WebSocket on connections set up by `L` ([`Plain`] for WS, [`Tls`] for WSS).
#[derive(Debug, Clone)]
pub struct WebSocket<L> {
    inner: L,
    config: WebSocketConfig,
}

impl<L: StreamLayer> WebSocket<L> {
    /// A WebSocket over `inner`, its messages limited as the framing limits of `settings`.
    pub fn new(inner: L, settings: &StreamSettings) -> Self {
        let largest = settings.framing.max_head_bytes + settings.framing.max_body_bytes;
        let config = WebSocketConfig::default().max_message_size(Some(largest)).max_frame_size(Some(largest));
        Self { inner, config }
    }
}

/// Whether a `Sec-WebSocket-Protocol` value lists `sip`.
fn offers_sip(value: Option<&HeaderValue>) -> bool {
    value
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL)))
}

/// The server side of the handshake: the client must ask for the sip subprotocol
/// (RFC 7118 §4), which the answer then names. The signature is tungstenite's.
#[allow(clippy::result_large_err)]
fn require_sip(request: &Request, mut response: Response) -> Result<Response, ErrorResponse> {
    if !offers_sip(request.headers().get(PROTOCOL_HEADER)) {
        let mut refusal = ErrorResponse::new(Some("the sip subprotocol is required".into()));
        *refusal.status_mut() = StatusCode::BAD_REQUEST;
        return Err(refusal);
    }
    response.headers_mut().insert(PROTOCOL_HEADER, HeaderValue::from_static(SUBPROTOCOL));
    Ok(response)
}

fn io_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl<L> StreamLayer for WebSocket<L>
where
    L: StreamLayer,
    L::Stream: AsyncRead + AsyncWrite + Unpin,
{
    type Stream = WebSocketStream<L::Stream>;

    fn name(&self) -> TransportName {
        if self.inner.name() == TransportName::TLS { TransportName::WSS } else { TransportName::WS }
    }

    fn accept(&self, tcp: TcpStream) -> BoxFuture<'static, io::Result<Self::Stream>> {
        let setup = self.inner.accept(tcp);
        let config = self.config;
        Box::pin(async move {
            let stream = setup.await?;
            tokio_tungstenite::accept_hdr_async_with_config(stream, require_sip, Some(config)).await.map_err(io_error)
        })
    }

    fn connect(&self, tcp: TcpStream, target: &Target) -> BoxFuture<'static, io::Result<Self::Stream>> {
        let setup = self.inner.connect(tcp, target);
        let config = self.config;
        let scheme = if self.name() == TransportName::WSS { "wss" } else { "ws" };
        let host = match &target.server_name {
            Some(name) => name.clone(),
            None => match target.remote {
                SocketAddr::V4(a) => a.ip().to_string(),
                SocketAddr::V6(a) => format!("[{}]", a.ip()),
            },
        };
        let url = format!("{scheme}://{host}:{}/", target.remote.port());
        Box::pin(async move {
            let stream = setup.await?;
            let mut request = url.into_client_request().map_err(io_error)?;
            request.headers_mut().insert(PROTOCOL_HEADER, HeaderValue::from_static(SUBPROTOCOL));
            let (ws, response) =
                tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await.map_err(io_error)?;
            if !offers_sip(response.headers().get(PROTOCOL_HEADER)) {
                return Err(io_error("the server did not accept the sip subprotocol"));
            }
            Ok(ws)
        })
    }

    fn run(&self, stream: Self::Stream, connection: Connection) -> BoxFuture<'static, ()> {
        Box::pin(run_websocket(stream, connection))
    }
}

/// Reads one SIP message per WebSocket message, writes each outgoing message as one,
/// closes when idle for [`StreamSettings::idle_timeout`].
async fn run_websocket<S: AsyncRead + AsyncWrite + Unpin + Send>(ws: WebSocketStream<S>, mut connection: Connection) {
    let settings = *connection.settings();
    let parse_limits = settings.framing.parse;
    let (mut sink, mut stream) = ws.split();
    let mut last_activity = Instant::now();
    loop {
        tokio::select! {
            item = stream.next() => {
                let bytes: Bytes = match item {
                    Some(Ok(WsMessage::Text(text))) => text.into(),
                    Some(Ok(WsMessage::Binary(bytes))) => bytes,
                    // Pings are answered by the WebSocket layer itself.
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
                    Some(Ok(WsMessage::Close(_)) | Err(_)) | None => break,
                };
                last_activity = Instant::now();
                if bytes.iter().all(|&b| b == b'\r' || b == b'\n') {
                    continue;
                }
                let delivered = match Message::parse_with(bytes.clone(), &parse_limits) {
                    Ok(message) => connection.deliver(message).await,
                    Err(error) => connection.deliver_malformed(bytes, error).await,
                };
                if !delivered {
                    break;
                }
            }
            message = connection.next_to_send() => {
                let Some(message) = message else { break };
                let frame = match Utf8Bytes::try_from(message.clone()) {
                    Ok(text) => WsMessage::Text(text),
                    Err(_) => WsMessage::Binary(message),
                };
                if !matches!(timeout(settings.write_timeout, sink.send(frame)).await, Ok(Ok(()))) {
                    break;
                }
                last_activity = Instant::now();
            }
            () = sleep_until(last_activity + settings.idle_timeout) => break,
        }
    }
    let _ = timeout(settings.write_timeout, sink.close()).await;
}

/// SIP over WebSocket (`WS`).
pub type WsTransport = StreamTransport<WebSocket<Plain>>;

/// SIP over secure WebSocket (`WSS`).
pub type WssTransport = StreamTransport<WebSocket<Tls>>;

impl StreamTransport<WebSocket<Plain>> {
    /// Listens on `addr` for WebSocket connections.
    pub async fn bind(
        addr: SocketAddr,
        settings: StreamSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        Self::bind_with(WebSocket::new(Plain, &settings), addr, settings, incoming).await
    }
}

impl StreamTransport<WebSocket<Tls>> {
    /// Listens on `addr` for secure WebSocket connections.
    pub async fn bind(
        addr: SocketAddr,
        config: TlsConfig,
        settings: StreamSettings,
        incoming: IncomingSender,
    ) -> Result<Self, TransportError> {
        Self::bind_with(WebSocket::new(Tls::new(config), &settings), addr, settings, incoming).await
    }
}
