//! SIP transactions (RFC 3261 §17, with the Accepted states of RFC 6026) as a sans-IO
//! layer: the four state machines, their timers A–M, and the matching rules, driven by
//! calls that take the current time and drained through `poll_*`.
//!
//! - In: [`TransactionLayer::handle_incoming`] (a message from the transport),
//!   [`TransactionLayer::send_request`], [`TransactionLayer::send_response`],
//!   [`TransactionLayer::handle_transport_error`], [`TransactionLayer::handle_timeout`].
//! - Out: [`TransactionLayer::poll_transmit`] (bytes and where to),
//!   [`TransactionLayer::poll_event`] (requests, responses, timeouts, errors, terminations
//!   for the layer above), [`TransactionLayer::poll_timeout`] (when to call
//!   `handle_timeout` next). After every input, drain them until `None`.
//!
//! The layer never reads a clock and never blocks; tests drive it on virtual time. It does
//! not know the transport: a destination is an opaque value `P` the caller gives with each
//! request (and gets back with each transmit), plus whether that transport is reliable,
//! which decides the timers.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use bytes::Bytes;
//! use sip_message::Message;
//! use sip_transaction::{Config, Event, TransactionLayer};
//!
//! let Message::Request(options) = Message::parse(Bytes::from_static(
//!     b"OPTIONS sip:bob@example.com SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n\
//! From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\n\
//! Call-ID: a84b4c76e66710\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
//! ))?
//! else {
//!     unreachable!()
//! };
//! let start = Instant::now();
//! let mut layer = TransactionLayer::new(Config::default());
//! let key = layer.send_request(start, options, "192.0.2.2:5060", false)?;
//! assert!(layer.poll_transmit().is_some()); // the request goes out
//! // Over UDP, Timer E retransmits it after T1 = 500 ms.
//! assert_eq!(layer.poll_timeout(), Some(start + Duration::from_millis(500)));
//! // With no answer at all, Timer F ends it after 64·T1 = 32 s.
//! layer.handle_timeout(start + Duration::from_secs(32));
//! while let Some(event) = layer.poll_event() {
//!     if let Event::Timeout { key: k, .. } = event {
//!         assert_eq!(k, key);
//!     }
//! }
//! assert_eq!(layer.len(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

use std::time::Duration;

use bytes::Bytes;
use sip_message::{Request, Response};

mod deadlines;
mod key;
mod layer;

pub use key::{Role, TransactionKey};
pub use layer::TransactionLayer;

/// T1 by default: the round-trip estimate (§17.1.1.1).
pub const DEFAULT_T1: Duration = Duration::from_millis(500);
/// T2 by default: the longest retransmit interval for non-INVITE requests and INVITE
/// responses.
pub const DEFAULT_T2: Duration = Duration::from_secs(4);
/// T4 by default: how long a message may stay in the network.
pub const DEFAULT_T4: Duration = Duration::from_secs(5);
/// How long an INVITE server transaction waits for the layer above before sending
/// 100 Trying itself (§17.2.1).
pub const DEFAULT_TRYING_DELAY: Duration = Duration::from_millis(200);
/// Default for [`Config::max_transactions`].
pub const DEFAULT_MAX_TRANSACTIONS: usize = 100_000;

/// The timers of RFC 3261 §17 and RFC 6026 (and the 100 Trying delay).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// INVITE client: retransmit the INVITE (unreliable transports).
    A,
    /// INVITE client: give up waiting for a response (64·T1).
    B,
    /// INVITE client: wait for response retransmissions after a non-2xx final.
    D,
    /// Non-INVITE client: retransmit the request (unreliable transports).
    E,
    /// Non-INVITE client: give up waiting for a final response (64·T1).
    F,
    /// INVITE server: retransmit the non-2xx final response (unreliable transports).
    G,
    /// INVITE server: give up waiting for the ACK (64·T1).
    H,
    /// INVITE server: absorb ACK retransmissions (T4).
    I,
    /// Non-INVITE server: absorb request retransmissions (64·T1).
    J,
    /// Non-INVITE client: absorb response retransmissions (T4).
    K,
    /// INVITE server, RFC 6026: absorb INVITE retransmissions after a 2xx (64·T1).
    L,
    /// INVITE client, RFC 6026: accept 2xx retransmissions and forks (64·T1).
    M,
    /// INVITE server: send 100 Trying if the layer above has not answered (§17.2.1).
    Trying,
}

/// The timer values and limits of a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// T1.
    pub t1: Duration,
    /// T2.
    pub t2: Duration,
    /// T4.
    pub t4: Duration,
    /// The 100 Trying delay of INVITE server transactions; `None` sends none.
    pub trying_delay: Option<Duration>,
    /// Most live transactions; requests beyond are answered 503 without a transaction
    /// (and counted), sends refused.
    pub max_transactions: usize,
    /// The Retry-After of that 503, in whole seconds (§21.5.4: when the client may try
    /// this server again; a proxy takes it as this server being down that long). `None`
    /// sends none, so the client may retry at once.
    pub overload_retry_after: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            t1: DEFAULT_T1,
            t2: DEFAULT_T2,
            t4: DEFAULT_T4,
            trying_delay: Some(DEFAULT_TRYING_DELAY),
            max_transactions: DEFAULT_MAX_TRANSACTIONS,
            overload_retry_after: None,
        }
    }
}

/// Bytes to send, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<P> {
    /// The transaction that sends them (a failed send is reported against it with
    /// [`TransactionLayer::handle_transport_error`]).
    pub key: TransactionKey,
    /// The destination the request was sent to, or the source a request came from (its
    /// responses go back there, by the rules of §18.2.2).
    pub to: P,
    /// One whole serialized message.
    pub bytes: Bytes,
}

/// What the layer above learns.
#[derive(Debug, Clone)]
pub enum Event<P> {
    /// A request for the layer above. `key` names the new server transaction to answer
    /// through; an ACK has none of its own (`key` is the INVITE's when it acknowledges a
    /// 2xx that transaction sent, RFC 6026, or `None` when no transaction matches).
    /// A CANCEL names the INVITE server transaction it cancels, if there is one (§9.2).
    Request {
        /// The server transaction, if any.
        key: Option<TransactionKey>,
        /// The request.
        request: Request,
        /// Where it came from.
        from: P,
        /// For a CANCEL: the INVITE transaction it cancels (boxed: rare, and keys are large).
        cancels: Option<Box<TransactionKey>>,
    },
    /// A response for a client transaction: provisional ones, the final one once, and for
    /// an INVITE every 2xx (retransmissions and forks too, RFC 6026).
    Response {
        /// The client transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// A response no transaction matches (§18.1.2): a proxy forwards it statelessly; a UA
    /// core checks it against its dialogs (a late 2xx) or drops it.
    StrayResponse {
        /// The response.
        response: Response,
        /// Where it came from.
        from: P,
    },
    /// Timer B or F: no final response in time (the layer above answers 408, §8.1.3.1);
    /// Timer H: the ACK for a non-2xx final response never came.
    Timeout {
        /// The transaction.
        key: TransactionKey,
        /// Which timer.
        timer: Timer,
    },
    /// The transport could not send for the transaction (503 for the layer above, §8.1.3.1).
    TransportError {
        /// The transaction.
        key: TransactionKey,
    },
    /// The transaction is gone; nothing more comes for this key.
    Terminated {
        /// The transaction.
        key: TransactionKey,
    },
}

/// A call the layer cannot carry out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// The message lacks what a transaction needs (a Via with a branch, a CSeq, ...).
    #[error("message unfit for a transaction: {0}")]
    Malformed(String),
    /// An ACK is not sent through a client transaction: the one for a non-2xx is sent by
    /// the INVITE transaction itself, the one for a 2xx by the layer above (§17.1.1.3).
    #[error("an ACK has no client transaction")]
    Ack,
    /// No live transaction has this key.
    #[error("no transaction {0}")]
    NoSuchTransaction(Box<TransactionKey>),
    /// A transaction with this key already exists (a branch used twice).
    #[error("transaction {0} already exists")]
    Duplicate(Box<TransactionKey>),
    /// The transaction cannot take this response in its state (a second final response,
    /// a response for a client transaction, ...).
    #[error("transaction {key} cannot send a {status} now")]
    InvalidState {
        /// The transaction.
        key: Box<TransactionKey>,
        /// The status of the refused response.
        status: u16,
    },
    /// [`Config::max_transactions`] are live.
    #[error("transaction limit reached ({0})")]
    TooManyTransactions(usize),
}
