//! The transaction driver: one task owns the [`TransactionLayer`], reads the transports'
//! [`Incoming`] stream and the commands of the layer above, sends every transmit, and
//! sleeps until the layer's next deadline — one task and one timer for all transactions.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant as StdInstant;

use bytes::Bytes;
use sip_dialog::StdEntropy;
use sip_message::header::{self, Transport as TransportName};
use sip_message::{Headers, Host, Message, Method, Request, Response, SipUri, StatusCode, Uri};
use sip_transaction::{Config, Event, TransactionError, TransactionKey, TransactionLayer};
use sip_transport::rules::{ResponseRoute, request_response_route, response_to_unparsed, stamp_sent_by};
use sip_transport::{Incoming, Received, Sent, Target, Transport, TransportError, TransportSet};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::wakeup::Wakeup;

/// Default capacity of the queues between the driver and the layer above.
pub const DEFAULT_QUEUE: usize = 1024;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The transaction layer refused.
    #[error(transparent)]
    Transaction(#[from] TransactionError),
    /// The transport could not reach the target.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The request has no Via to fill in.
    #[error("the request has no top Via to fill in")]
    NoVia,
    /// The driver task has stopped.
    #[error("the transaction driver has stopped")]
    Stopped,
}

enum Command {
    Abandon { key: TransactionKey },
    Request { request: Request, target: Target, reply: oneshot::Sender<Result<TransactionKey, DriverError>> },
    Response { key: TransactionKey, response: Response, reply: Option<oneshot::Sender<Result<(), DriverError>>> },
}

/// Which way a traced message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// This side sent it.
    Sent,
    /// This side received it.
    Received,
}

/// One message as it crossed the wire, for a message ladder or `--trace-sip`.
#[derive(Debug, Clone)]
pub struct Traced {
    /// Sent or received.
    pub direction: Direction,
    /// The transport it went over.
    pub transport: TransportName,
    /// The peer's address: where it went, or where it came from.
    pub peer: SocketAddr,
    /// The whole message as serialized.
    pub bytes: Bytes,
}

/// Sees every message the driver sends and receives (a received one that does not parse
/// too), in the order they cross the wire.
pub type Tap = Arc<dyn Fn(&Traced) + Send + Sync>;

/// The handle of a running driver; dropping every handle stops the driver.
#[derive(Clone)]
pub struct TransactionDriver {
    commands: mpsc::Sender<Command>,
    transports: TransportSet,
    tap: Option<Tap>,
    /// Whether a listener is on a wildcard address ([`on_wildcard`]).
    wildcard: bool,
}

impl std::fmt::Debug for TransactionDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionDriver").field("traced", &self.tap.is_some()).finish_non_exhaustive()
    }
}

fn trace(tap: Option<&Tap>, direction: Direction, transport: &TransportName, peer: SocketAddr, bytes: &Bytes) {
    if let Some(tap) = tap {
        tap(&Traced { direction, transport: transport.clone(), peer, bytes: bytes.clone() });
    }
}

/// What the driver hands the layer above: the transaction layer's events, with the
/// target a server transaction's responses go to.
pub type Events = mpsc::Receiver<Event<Target>>;

impl TransactionDriver {
    /// Starts the driver task over `transports` (whose received items arrive on
    /// `incoming`). Returns the handle, the events, and the task (which ends when every
    /// handle is dropped or the transports are gone).
    pub fn spawn(config: Config, transports: TransportSet, incoming: Incoming) -> (Self, Events, JoinHandle<()>) {
        Self::spawn_traced(config, transports, incoming, None)
    }

    /// [`spawn`](Self::spawn), with `tap` seeing every message sent and received.
    pub fn spawn_traced(
        config: Config,
        transports: TransportSet,
        incoming: Incoming,
        tap: Option<Tap>,
    ) -> (Self, Events, JoinHandle<()>) {
        let (commands, command_rx) = mpsc::channel(DEFAULT_QUEUE);
        let (event_tx, events) = mpsc::channel(DEFAULT_QUEUE);
        let pump = Pump::new(transports.clone(), tap.clone());
        let wildcard = pump.wildcard;
        let task = tokio::spawn(run(TransactionLayer::new(config), pump, incoming, command_rx, event_tx));
        (Self { commands, transports, tap, wildcard }, events, task)
    }

    /// Sends `request` to `target` in a new client transaction. The transport is made
    /// ready here (a TCP or TLS connection opened), in the caller's task, and the top Via
    /// filled in with the transport and the address it leaves from (§18.1.1).
    pub async fn send_request(&self, request: Request, target: Target) -> Result<TransactionKey, DriverError> {
        let prepared = self.transports.prepare(&target).await?;
        self.send_prepared(request, target, &prepared).await
    }

    /// [`send_request`](Self::send_request) over a transport made ready already
    /// (`prepared`, what [`Transport::prepare`] gave for `target`): for a caller that
    /// opens connections on tasks of its own, so that one slow to open holds up nothing
    /// else.
    pub async fn send_prepared(
        &self,
        mut request: Request,
        target: Target,
        prepared: &Sent,
    ) -> Result<TransactionKey, DriverError> {
        let target = address_request(&mut request, target, prepared, self.wildcard)?;
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::Request { request, target, reply }).await.map_err(|_| DriverError::Stopped)?;
        answer.await.map_err(|_| DriverError::Stopped)?
    }

    /// The transports the driver sends through.
    pub fn transports(&self) -> &TransportSet {
        &self.transports
    }

    /// Sends the ACK for a 2xx, which has no client transaction of its own (§13.2.2.4,
    /// §17.1.1.3), to `target`, with its top Via filled in as [`send_request`](Self::send_request) does.
    pub async fn send_ack(&self, mut ack: Request, target: Target) -> Result<(), DriverError> {
        let sent = self.transports.send_request(&mut ack, &target).await?;
        trace(self.tap.as_ref(), Direction::Sent, &sent.transport, target.remote, &ack.to_bytes());
        Ok(())
    }

    /// Ends client transaction `key` (see [`TransactionLayer::abandon`]); nothing when it
    /// has ended already.
    pub async fn abandon(&self, key: TransactionKey) -> Result<(), DriverError> {
        self.commands.send(Command::Abandon { key }).await.map_err(|_| DriverError::Stopped)
    }

    /// Sends `response` through server transaction `key`; the transaction layer's verdict.
    pub async fn send_response(&self, key: TransactionKey, response: Response) -> Result<(), DriverError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Response { key, response, reply: Some(reply) };
        self.commands.send(command).await.map_err(|_| DriverError::Stopped)?;
        answer.await.map_err(|_| DriverError::Stopped)?
    }

    /// Hands `response` for server transaction `key` to the driver without waiting for the
    /// transaction layer's verdict (one task switch fewer per response): for a caller with
    /// nothing to do about a refusal (the transaction ended, a CANCEL raced the answer).
    pub async fn post_response(&self, key: TransactionKey, response: Response) -> Result<(), DriverError> {
        let command = Command::Response { key, response, reply: None };
        self.commands.send(command).await.map_err(|_| DriverError::Stopped)
    }
}

/// §18.1.1, once the transport for `target` is ready: the request's top Via names that
/// transport and the address the request leaves from, and the target the connection it
/// goes over. With a listener on a wildcard address (`wildcard`), a Contact naming that
/// wildcard gets the address the request leaves from instead ([`reachable_contact`]).
pub(crate) fn address_request(
    request: &mut Request,
    target: Target,
    ready: &Sent,
    wildcard: bool,
) -> Result<Target, DriverError> {
    stamp_sent_by(request, &ready.transport, ready.sent_by).map_err(|_| DriverError::NoVia)?;
    if wildcard {
        reachable_contact(&mut request.headers, ready.local.ip());
    }
    Ok(Target { connection: ready.connection, ..target })
}

/// Whether one of `transports`' listeners is bound to a wildcard address (0.0.0.0, ::),
/// so this side's Contact may name one: only then are Contacts looked at on the way out.
fn on_wildcard(transports: &TransportSet) -> bool {
    transports.local_addrs().iter().any(|(_, a)| a.ip().is_unspecified())
}

/// A response of server transaction `key` (a 2xx to an INVITE, a 3xx, ...) whose Contact
/// names a wildcard address gets the interface address toward the peer instead, as a
/// request does ([`reachable_contact`]); the transport is asked for it only then.
pub(crate) async fn address_response(
    layer: &TransactionLayer<Target>,
    pump: &Pump,
    key: &TransactionKey,
    response: &mut Response,
) {
    if !pump.wildcard || wildcard_contact(&response.headers).is_none() {
        return;
    }
    let Some(peer) = layer.peer_of(key) else { return };
    if let Ok(ready) = pump.transports.prepare(peer).await {
        reachable_contact(&mut response.headers, ready.local.ip());
    }
}

/// The first Contact and its SIP URI, when the URI's host is a wildcard address (0.0.0.0, ::).
fn wildcard_contact(headers: &Headers) -> Option<(header::NameAddr, SipUri)> {
    let Some(Ok(header::Contact::Address(address))) = headers.first_contact() else { return None };
    let Uri::Sip(uri) = address.uri() else { return None };
    if !uri.host().ip().is_some_and(|ip| ip.is_unspecified()) {
        return None;
    }
    let uri = uri.clone();
    Some((address, uri))
}

/// A listener bound to a wildcard address (0.0.0.0, ::) gives this side a Contact no peer
/// can send to (§8.1.1.8 asks for one it can: the registrar would keep it, the callee
/// would send its BYE there). When the request's Contact names such a host, the address
/// the request leaves from (`local`, the interface toward the peer) takes its place; the
/// port and every parameter stay.
fn reachable_contact(headers: &mut Headers, local: IpAddr) {
    if local.is_unspecified() {
        return;
    }
    let Some((address, uri)) = wildcard_contact(headers) else { return };
    let reachable = address.with_uri(uri.with_host(&Host::from(local)));
    let _ = headers.set_typed(&header::Contact::Address(reachable));
}

/// The layer's clock: tokio's (paused in tests), as the std `Instant` the layer takes.
pub(crate) fn now() -> StdInstant {
    Instant::now().into_std()
}

/// What the driver task sends over, and who sees it.
pub(crate) struct Pump {
    pub(crate) transports: TransportSet,
    pub(crate) tap: Option<Tap>,
    /// Whether a listener is on a wildcard address ([`on_wildcard`]).
    pub(crate) wildcard: bool,
}

impl Pump {
    pub(crate) fn new(transports: TransportSet, tap: Option<Tap>) -> Self {
        let wildcard = on_wildcard(&transports);
        Self { transports, tap, wildcard }
    }

    pub(crate) async fn send(&self, to: &Target, bytes: Bytes) -> Result<(), TransportError> {
        trace(self.tap.as_ref(), Direction::Sent, &to.transport, to.remote, &bytes);
        tracing::debug!(transport = %to.transport, peer = %to.remote, bytes = bytes.len(), "sending");
        tracing::trace!(message = %String::from_utf8_lossy(&bytes), "sending");
        let sent = self.transports.send(to, bytes).await.map(drop);
        if let Err(e) = &sent {
            tracing::warn!(transport = %to.transport, peer = %to.remote, error = %e, "a send failed");
        }
        sent
    }
}

async fn run(
    mut layer: TransactionLayer<Target>,
    pump: Pump,
    mut incoming: Incoming,
    mut commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event<Target>>,
) {
    let mut tags = StdEntropy::default();
    let mut wakeup = Wakeup::new();
    loop {
        wakeup.set(layer.poll_timeout().map(Instant::from_std));
        tokio::select! {
            item = incoming.recv() => {
                let Some(item) = item else { break };
                tracing::debug!(transport = %item.source().transport, peer = %item.source().remote, "received");
                if let Some(tap) = &pump.tap {
                    let source = item.source();
                    let bytes = match &item {
                        Received::Message { message, .. } => message.to_bytes(),
                        Received::Malformed { bytes, .. } => bytes.clone(),
                    };
                    tap(&Traced { direction: Direction::Received, transport: source.transport.clone(), peer: source.remote, bytes });
                }
                if let Some((to, bytes)) = receive(&mut layer, item, &mut tags) {
                    // Stateless: a failed send of an error response is nobody's to retry.
                    let _ = pump.send(&to, bytes).await;
                }
            }
            command = commands.recv() => {
                let Some(command) = command else { break };
                match command {
                    Command::Abandon { key } => {
                        // Gone already: its Terminated was reported.
                        let _ = layer.abandon(&key);
                    }
                    Command::Request { request, target, reply } => {
                        let reliable = target.transport.is_reliable();
                        let _ = reply.send(layer.send_request(now(), request, target, reliable).map_err(Into::into));
                    }
                    Command::Response { key, mut response, reply } => {
                        address_response(&layer, &pump, &key, &mut response).await;
                        let sent = layer.send_response(now(), &key, response).map_err(Into::into);
                        if let Some(reply) = reply {
                            let _ = reply.send(sent);
                        }
                    }
                }
            }
            () = wakeup.fired() => {
                layer.handle_timeout(now());
            }
        }
        while let Some(transmit) = layer.poll_transmit() {
            if pump.send(&transmit.to, transmit.bytes).await.is_err() {
                layer.handle_transport_error(now(), &transmit.key);
            }
        }
        while let Some(event) = layer.poll_event() {
            if events.send(event).await.is_err() {
                return;
            }
        }
    }
}

/// Hands a received message to the layer; a request comes with the target its responses
/// go to (§18.2.2). A request that does not parse is answered here, statelessly, with the
/// status its error names (400, 505, 513, ...), and so is one whose top Via or CSeq does
/// not decode (400): what to send, and where.
pub(crate) fn receive(
    layer: &mut TransactionLayer<Target>,
    item: Received,
    tags: &mut StdEntropy,
) -> Option<(Target, Bytes)> {
    let (message, source) = match item {
        Received::Message { message, source } => (message, source),
        Received::Malformed { bytes, error, source } => {
            tracing::info!(peer = %source.remote, %error, "a message that does not parse");
            let status = error.status()?;
            let answer = response_to_unparsed(&bytes, status, &crate::new_tag(tags))?;
            return Some((Target::back_to(&source), answer));
        }
    };
    let reliable = source.transport.is_reliable();
    let peer = match &message {
        Message::Request(request) => {
            // Where its responses go, from its top Via (§18.2.2); a request whose top Via
            // or CSeq does not decode has no transaction to answer through: 400,
            // statelessly, back where it came from (the Via cannot say where).
            let route = request_response_route(request, &source);
            let undecodable = route.is_err() || request.headers.cseq().is_none_or(|c| c.is_err());
            if undecodable && request.method != Method::ACK {
                let response = Response::from_request(request, StatusCode::BAD_REQUEST);
                let response = response.clone().with_to_tag(&crate::new_tag(tags)).unwrap_or(response);
                return Some((Target::back_to(&source), response.to_bytes()));
            }
            match route {
                Ok(ResponseRoute::Target(target)) => target,
                _ => Target::back_to(&source),
            }
        }
        Message::Response(_) => Target::back_to(&source),
    };
    layer.handle_incoming(now(), message, peer, reliable);
    None
}
