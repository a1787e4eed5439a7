//! SIP transports (RFC 3261 §18).
//!
//! Everything above this crate sends a serialized message to a [`Target`] (a transport and
//! a resolved address) and receives [`Received`] items with their [`Source`], without
//! knowing how the bytes travel.
//!
//! - [`Transport`]: the trait every transport implements; [`udp::UdpTransport`],
//!   [`tcp::TcpTransport`], [`tls::TlsTransport`], [`ws::WsTransport`],
//!   [`ws::WssTransport`] (RFC 7118) and [`memory::MemoryTransport`] (for
//!   tests of the layers above) implement it, and [`TransportSet`] dispatches to several
//!   by the target's transport. The stream transports share the connection manager of
//!   [`stream`].
//! - [`framing`]: the stream codec that cuts messages out of TCP and TLS byte streams by
//!   Content-Length and answers keep-alives (RFC 5626 §4.4.1).
//! - [`resolve`]: RFC 3263 server location (NAPTR, SRV, A/AAAA) behind a `Resolver`
//!   trait, with a hickory-resolver implementation and a static table.
//! - [`rules`]: the §18 and RFC 3581 rules as plain functions: `received` and `rport` on
//!   receipt, sent-by when sending, where a response goes, when a request is too large
//!   for UDP.
//!
//! ```
//! use bytes::BytesMut;
//! use sip_transport::framing::{Frame, StreamCodec};
//! use tokio_util::codec::Decoder;
//!
//! let mut codec = StreamCodec::default();
//! let mut received = BytesMut::from(
//!     &b"\r\n\r\nOPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/TCP client.example.com;branch=z9hG4bK1\r\n\
//! From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
//! Call-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\nOPT"[..],
//! );
//! assert!(matches!(codec.decode(&mut received)?, Some(Frame::Ping)));
//! assert!(matches!(codec.decode(&mut received)?, Some(Frame::Message(_))));
//! assert!(codec.decode(&mut received)?.is_none()); // "OPT": the next message, not yet whole
//! # Ok::<(), sip_transport::framing::FramingError>(())
//! ```

#![forbid(unsafe_code)]

use std::fmt;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::future::BoxFuture;
use sip_message::header::Transport as TransportName;
use sip_message::{Message, ParseError};
use tokio::sync::mpsc;

pub mod framing;
pub mod memory;
pub mod resolve;
pub mod rules;
pub mod stream;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod ws;

mod set;

pub use set::TransportSet;

/// One connection of a stream transport, so a response can go back on the connection its
/// request came in on (§18.2.2). Unique within the transport that made it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The transport it came over (`UDP`, `TCP`, ...).
    pub transport: TransportName,
    /// The local address it arrived at.
    pub local: SocketAddr,
    /// The address of the peer that sent it.
    pub remote: SocketAddr,
    /// The connection, for a stream transport.
    pub connection: Option<ConnectionId>,
}

/// Where to send a message: a transport and a resolved address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport to use.
    pub transport: TransportName,
    /// The peer's address.
    pub remote: SocketAddr,
    /// A connection to use if it is still open (the one a request came in on); otherwise
    /// an open connection to `remote` is reused, or a new one made.
    pub connection: Option<ConnectionId>,
    /// The host name the address was resolved from: a TLS server must present a
    /// certificate for it (RFC 5922), and it is sent as SNI. `None`: the IP address.
    pub server_name: Option<String>,
}

impl Target {
    /// A target with no connection preference or server name.
    pub fn new(transport: TransportName, remote: SocketAddr) -> Self {
        Self { transport, remote, connection: None, server_name: None }
    }

    /// The same target, naming the host its address was resolved from.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// The target that answers over the way `source` came in: the same connection of a
    /// stream transport, or the same address.
    pub fn back_to(source: &Source) -> Self {
        Self { connection: source.connection, ..Self::new(source.transport.clone(), source.remote) }
    }
}

/// How a message was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The transport it went over (may differ from the target's: see
    /// [`TransportSet::send_request`]).
    pub transport: TransportName,
    /// The local address it left from.
    pub local: SocketAddr,
    /// What a request's Via names as sent-by: where responses can come back. The local
    /// address for UDP; for a stream transport the connection's local IP with the
    /// listener's port, to connect to if the connection is gone (§18.2.2).
    pub sent_by: SocketAddr,
    /// The connection, for a stream transport.
    pub connection: Option<ConnectionId>,
}

/// What a transport hands up.
#[derive(Debug)]
pub enum Received {
    /// A message.
    Message {
        /// The message.
        message: Message,
        /// Where it came from.
        source: Source,
    },
    /// Bytes framed as one message (a datagram, or a frame of a stream) that do not parse;
    /// a UAS answers a request with the error's status where it can.
    Malformed {
        /// The bytes.
        bytes: Bytes,
        /// Why they do not parse.
        error: ParseError,
        /// Where they came from.
        source: Source,
    },
}

impl Received {
    /// What bytes framed as one message become on receipt: the message, a request with
    /// `received` and `rport` stamped on its top Via (§18.2.1, RFC 3581; a request whose
    /// Via does not decode goes up as it is, for the transaction layer to drop), or the
    /// bytes with the parse error.
    pub fn from_bytes(bytes: Bytes, limits: &sip_message::ParseLimits, source: Source) -> Self {
        match Message::parse_with(bytes.clone(), limits) {
            Ok(message) => Self::from_message(message, source),
            Err(error) => Self::Malformed { bytes, error, source },
        }
    }

    /// A parsed message on receipt, a request stamped as in [`Received::from_bytes`].
    pub fn from_message(mut message: Message, source: Source) -> Self {
        if let Message::Request(request) = &mut message {
            let _ = rules::stamp_received(request, source.remote);
        }
        Self::Message { message, source }
    }

    /// Where it came from.
    pub fn source(&self) -> &Source {
        match self {
            Self::Message { source, .. } | Self::Malformed { source, .. } => source,
        }
    }
}

/// Why a send failed, or a transport could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No transport here handles the target's transport.
    #[error("transport {0} is not available")]
    Unsupported(TransportName),
    /// The message is larger than the transport can carry.
    #[error("message of {size} bytes is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No new connection may be opened (the limit on connections is reached).
    #[error("connection limit reached ({limit})")]
    ConnectionLimit {
        /// The limit.
        limit: usize,
    },
    /// There was no target to send to (an empty list from server location).
    #[error("no target to send to")]
    NoTarget,
    /// Nothing listens at the target (the in-memory network has no such endpoint).
    #[error("nothing reachable at {0}")]
    Unreachable(SocketAddr),
    /// Connecting took longer than the connect timeout.
    #[error("connecting to {0} timed out")]
    ConnectTimeout(SocketAddr),
    /// The connection closed before the message could be written.
    #[error("connection {0} is closed")]
    ConnectionClosed(ConnectionId),
    /// The transport has been shut down.
    #[error("the transport is shut down")]
    Shutdown,
    /// The operating system refused.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

impl TransportError {
    pub(crate) fn io(context: &'static str) -> impl FnOnce(std::io::Error) -> Self {
        move |source| Self::Io { context, source }
    }
}

/// A transport: sends serialized messages to resolved targets; what it receives goes to
/// the [`Incoming`] stream given when it was made.
///
/// Object safe, so a driver can hold `Arc<dyn Transport>`.
pub trait Transport: Send + Sync {
    /// Sends one whole serialized message (or a keep-alive) to `target`. Resolves when the
    /// bytes are handed to the socket or to the connection's writer.
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>>;

    /// Makes sure a message can go to `target` now (a stream transport reuses an open
    /// connection or connects) and says which local address and connection it would leave
    /// from, so a request's Via can name them before it is serialized (§18.1.1).
    fn prepare<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>>;

    /// The transports and local addresses this transport listens on.
    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)>;
}

impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn send<'a>(&'a self, target: &'a Target, message: Bytes) -> BoxFuture<'a, Result<Sent, TransportError>> {
        (**self).send(target, message)
    }

    fn prepare<'a>(&'a self, target: &'a Target) -> BoxFuture<'a, Result<Sent, TransportError>> {
        (**self).prepare(target)
    }

    fn local_addrs(&self) -> Vec<(TransportName, SocketAddr)> {
        (**self).local_addrs()
    }
}

/// Default capacity of the channel from the transports to the layer above: messages that
/// may wait before UDP drops datagrams and stream connections stop reading.
pub const DEFAULT_INCOMING_CAPACITY: usize = 1024;

/// The sending end the transports hand received items to.
#[derive(Debug, Clone)]
pub struct IncomingSender(mpsc::Sender<Received>);

impl IncomingSender {
    /// Hands `item` up, waiting while the layer above is behind.
    pub(crate) async fn deliver(&self, item: Received) -> bool {
        self.0.send(item).await.is_ok()
    }

    /// Room for one item, waited for while the layer above is behind; `None` once it is
    /// gone. A datagram transport takes it before reading, so it reads and parses nothing
    /// the layer above has no room for: meanwhile datagrams wait in the socket's buffer,
    /// and the system drops what does not fit, as the network may.
    pub(crate) async fn room(&self) -> Option<mpsc::Permit<'_, Received>> {
        self.0.reserve().await.ok()
    }

    /// Whether the receiving end is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.0.is_closed()
    }
}

/// The stream of what the transports receive.
#[derive(Debug)]
pub struct Incoming(mpsc::Receiver<Received>);

impl Incoming {
    /// The next received item; `None` once every transport is gone.
    pub async fn recv(&mut self) -> Option<Received> {
        self.0.recv().await
    }
}

impl futures::Stream for Incoming {
    type Item = Received;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Received>> {
        self.0.poll_recv(cx)
    }
}

/// A channel from transports to the layer above, holding at most `capacity` items.
pub fn incoming_channel(capacity: usize) -> (IncomingSender, Incoming) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (IncomingSender(tx), Incoming(rx))
}
