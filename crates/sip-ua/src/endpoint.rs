//! The [`Endpoint`]: the whole stack behind one async API. Its listeners feed one
//! transaction driver; one task runs the UAC core ([`Uac`]) and the UAS core
//! ([`Answerer`], asking the application about each call) over it. Calls, registrations
//! and requests are started through the `Endpoint`; calls offered to it and the requests
//! outside a call it is asked (OPTIONS, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, REFER) come out of [`Endpoint::incoming`];
//! a SUBSCRIBE or REFER accepted there makes a subscription this side serves as notifier
//! ([`IncomingSubscription`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sip_ua::endpoint::EndpointError> {
//! use sip_ua::endpoint::{Endpoint, Listener};
//! use sip_ua::uac::CallEvent;
//!
//! let endpoint = Endpoint::builder().listen(Listener::Udp("127.0.0.1:0".parse().unwrap())).build().await?;
//! let mut call = endpoint.call("sip:bob@127.0.0.1:5090".parse().unwrap()).await?;
//! while let Some(event) = call.next_event().await {
//!     if let CallEvent::Answered(_) = event {
//!         call.hangup().await?;
//!     }
//!     if let CallEvent::Ended(_) = event {
//!         break;
//!     }
//! }
//! endpoint.shutdown().await;
//! # Ok(())
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use sip_auth::DigestClient;
use sip_dialog::{EndReason, SessionConfig, SubscriptionConfig};
use sip_message::header::{MediaType, NameAddr, Transport as TransportName};
use sip_message::{Header, Method, Request, Response, StatusCode, Uri};
use sip_sdp::SessionDescription;
use sip_transaction::Config;
use sip_transport::resolve::{Destination, HickoryResolver, Locator};
use sip_transport::stream::StreamSettings;
use sip_transport::tcp::TcpTransport;
use sip_transport::tls::{TlsConfig, TlsTransport};
use sip_transport::udp::{UdpSettings, UdpTransport};
use sip_transport::ws::{WsTransport, WssTransport};
use sip_transport::{
    DEFAULT_INCOMING_CAPACITY, Sent, Target, Transport, TransportError, TransportSet, incoming_channel,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::IdMap;
use crate::answer::{self, AnswerPolicy, Answerer, CallHandle, DialogHandle, RequestHandle, SubscriptionHandle};
use crate::driver::{Events, Tap, TransactionDriver};
use crate::runner::now;
use crate::uac::{
    self, CallEvent, Handle, Peer, RegistrationEvent, SubscriptionEvent, Uac, UacConfig, UacError, UacEvent,
};
use crate::wakeup::Wakeup;

/// How long [`Endpoint::shutdown`] waits for hang-ups and unregistrations to be answered.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Default capacity of each call's and registration's event queue.
pub const DEFAULT_EVENT_QUEUE: usize = 64;

/// Where an endpoint listens.
#[derive(Debug, Clone)]
pub enum Listener {
    /// UDP on this address.
    Udp(SocketAddr),
    /// TCP on this address.
    Tcp(SocketAddr),
    /// TLS on this address, with this certificate and trust.
    Tls(SocketAddr, TlsConfig),
    /// WebSocket (RFC 7118) on this address.
    Ws(SocketAddr),
    /// Secure WebSocket on this address.
    Wss(SocketAddr, TlsConfig),
}

/// What can go wrong, for a caller to act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    /// A listener could not be opened.
    #[error("cannot listen: {0}")]
    Listen(String),
    /// The target could not be located (RFC 3263).
    #[error("cannot locate {0}")]
    Locate(String),
    /// No final response came in time.
    #[error("no response in time")]
    Timeout,
    /// The transport failed.
    #[error("the transport failed")]
    TransportFailed,
    /// The peer answered with this final status.
    #[error("rejected with {0}")]
    Rejected(StatusCode),
    /// The credentials were refused.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// The request or action is not possible now (no such call, a call not answered, ...).
    #[error("{0}")]
    Invalid(String),
    /// The endpoint has shut down.
    #[error("the endpoint has shut down")]
    Closed,
}

impl From<UacError> for EndpointError {
    fn from(e: UacError) -> Self {
        match e {
            UacError::Timeout => Self::Timeout,
            UacError::TransportFailed => Self::TransportFailed,
            UacError::Rejected(status) => Self::Rejected(status),
            UacError::AuthFailed(why) => Self::AuthFailed(why),
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// Builds an [`Endpoint`].
#[derive(Clone)]
pub struct EndpointBuilder {
    listeners: Vec<Listener>,
    identity: Option<Uri>,
    user_agent: String,
    transaction: Config,
    session: SessionConfig,
    max_calls: usize,
    max_outstanding: usize,
    max_asked: usize,
    max_subscriptions: usize,
    notifier: SubscriptionConfig,
    answer_within: Duration,
    udp: UdpSettings,
    streams: StreamSettings,
    credentials: Option<(String, String)>,
    outbound_proxy: Option<Uri>,
    instance: Option<String>,
    tap: Option<Tap>,
}

impl std::fmt::Debug for EndpointBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointBuilder").field("listeners", &self.listeners).field("identity", &self.identity).finish()
    }
}

impl EndpointBuilder {
    /// Listens there too (UDP, TCP, TLS, WS, WSS; IPv4 or IPv6).
    pub fn listen(mut self, listener: Listener) -> Self {
        self.listeners.push(listener);
        self
    }

    /// This side's address of record, for From (default: `sip:sipkit@` the first listener).
    pub fn identity(mut self, uri: Uri) -> Self {
        self.identity = Some(uri);
        self
    }

    /// The User-Agent and Server header value.
    pub fn user_agent(mut self, value: impl Into<String>) -> Self {
        self.user_agent = value.into();
        self
    }

    /// The transaction layer's settings: its timers (T1, T2, T4, the delay before a 100
    /// Trying), the cap on transactions at once, and the Retry-After of the 503 past it.
    pub fn transaction(mut self, config: Config) -> Self {
        self.transaction = config;
        self
    }

    /// The INVITE sessions' settings: 100rel, session timers, T1/T2 of 2xx retransmission.
    pub fn session(mut self, config: SessionConfig) -> Self {
        self.session = config;
        self
    }

    /// Calls offered at most at once (more get 503), and calls, registrations and
    /// requests of this side's at most at once.
    pub fn limits(mut self, max_calls: usize, max_outstanding: usize) -> Self {
        self.max_calls = max_calls;
        self.max_outstanding = max_outstanding;
        self
    }

    /// How long a request outside a call ([`Incoming::Request`]) waits for the
    /// application's answer before it gets the default one.
    pub fn answer_within(mut self, wait: Duration) -> Self {
        self.answer_within = wait;
        self
    }

    /// Requests outside a call ([`Incoming::Request`]) waiting for the application at
    /// most at once; one beyond them gets its default answer at once (default
    /// [`answer::DEFAULT_MAX_ASKED`]).
    pub fn max_asked(mut self, max: usize) -> Self {
        self.max_asked = max;
        self
    }

    /// Subscriptions this side serves as notifier at most at once
    /// ([`IncomingRequest::accept_subscription`]); one accepted beyond them gets 503
    /// (default [`answer::DEFAULT_MAX_SUBSCRIPTIONS`]).
    pub fn max_subscriptions(mut self, max: usize) -> Self {
        self.max_subscriptions = max;
        self
    }

    /// The expiries this side grants the subscriptions it serves as notifier: the one a
    /// SUBSCRIBE without Expires gets, the longest and the shortest (below it: 423). Its
    /// T1 and Via are not used: those are the [`session`](Self::session)'s.
    pub fn notifier(mut self, config: SubscriptionConfig) -> Self {
        self.notifier = config;
        self
    }

    /// The limits every datagram the UDP listeners receive is parsed with (message and
    /// body size, header count, line length, ...).
    pub fn udp_settings(mut self, settings: UdpSettings) -> Self {
        self.udp = settings;
        self
    }

    /// The limits and timers of the stream listeners (TCP, TLS, WS, WSS) and of the
    /// connections this side opens: connections at most, in all and per remote address,
    /// idle and framing timeouts, the framing and parse limits.
    pub fn stream_settings(mut self, settings: StreamSettings) -> Self {
        self.streams = settings;
        self
    }

    /// The user name and password for the digest challenges this side's requests meet.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), password.into()));
        self
    }

    /// Sends every request outside a dialog through this proxy (a loose route).
    pub fn outbound_proxy(mut self, proxy: Uri) -> Self {
        self.outbound_proxy = Some(proxy);
        self
    }

    /// This instance's URN (`urn:uuid:...`): registrations then bind a Contact with
    /// `+sip.instance` and `reg-id=1` (RFC 5626 §4.2).
    pub fn instance(mut self, urn: impl Into<String>) -> Self {
        self.instance = Some(urn.into());
        self
    }

    /// Sees every message sent and received (a message ladder, `--trace-sip`).
    pub fn trace(mut self, tap: Tap) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Opens the listeners and starts the endpoint.
    pub async fn build(self) -> Result<Endpoint, EndpointError> {
        let first = self.listeners.first().ok_or_else(|| EndpointError::Listen("no listener given".into()))?.clone();
        let (incoming_tx, incoming) = incoming_channel(DEFAULT_INCOMING_CAPACITY);
        let mut transports = TransportSet::new();
        let mut local = Vec::new();
        let listen_error = |addr: &SocketAddr, e: TransportError| EndpointError::Listen(format!("{addr}: {e}"));
        for listener in &self.listeners {
            let settings = self.streams;
            let shared: std::sync::Arc<dyn Transport> = match listener {
                Listener::Udp(a) => std::sync::Arc::new(
                    UdpTransport::bind(*a, self.udp, incoming_tx.clone()).await.map_err(|e| listen_error(a, e))?,
                ),
                Listener::Tcp(a) => std::sync::Arc::new(
                    TcpTransport::bind(*a, settings, incoming_tx.clone()).await.map_err(|e| listen_error(a, e))?,
                ),
                Listener::Tls(a, tls) => std::sync::Arc::new(
                    TlsTransport::bind(*a, tls.clone(), settings, incoming_tx.clone())
                        .await
                        .map_err(|e| listen_error(a, e))?,
                ),
                Listener::Ws(a) => std::sync::Arc::new(
                    WsTransport::bind(*a, settings, incoming_tx.clone()).await.map_err(|e| listen_error(a, e))?,
                ),
                Listener::Wss(a, tls) => std::sync::Arc::new(
                    WssTransport::bind(*a, tls.clone(), settings, incoming_tx.clone())
                        .await
                        .map_err(|e| listen_error(a, e))?,
                ),
            };
            local.extend(shared.local_addrs());
            transports = transports.with_shared(shared);
        }
        drop(incoming_tx);
        let (transport, bound) =
            local.first().cloned().ok_or_else(|| EndpointError::Listen("no address bound".into()))?;
        let host = match bound.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        let param = match first {
            Listener::Udp(_) => String::new(),
            _ => format!(";transport={}", transport.as_str().to_ascii_lowercase()),
        };
        let contact: Uri = format!("sip:sipkit@{host}:{}{param}", bound.port())
            .parse()
            .map_err(|e| EndpointError::Listen(format!("the Contact: {e}")))?;
        let mut binding = NameAddr::new(contact.clone());
        if let Some(urn) = &self.instance {
            let instance = format!("\"<{urn}>\"");
            binding = binding
                .with_param("+sip.instance", Some(&instance))
                .and_then(|b| b.with_param("reg-id", Some("1")))
                .map_err(|e| EndpointError::Invalid(format!("the instance {urn:?}: {e}")))?;
        }
        let identity = match self.identity.clone() {
            Some(uri) => uri,
            None => {
                format!("sip:sipkit@{host}").parse().map_err(|e| EndpointError::Listen(format!("the identity: {e}")))?
            }
        };
        let media = if bound.ip().is_unspecified() { IpAddr::V4(Ipv4Addr::LOCALHOST) } else { bound.ip() };
        let mut uac_config = UacConfig::new(contact.clone(), media);
        uac_config.user_agent = self.user_agent.clone();
        uac_config.session = self.session.clone();
        uac_config.max_outstanding = self.max_outstanding;
        let policy = AnswerPolicy {
            ask: true,
            max_calls: self.max_calls,
            max_asked: self.max_asked,
            max_subscriptions: self.max_subscriptions,
            answer_within: self.answer_within,
            ..AnswerPolicy::default()
        };
        let answerer = Answerer::with_entropy(
            policy,
            contact.clone(),
            media,
            self.session.clone(),
            sip_dialog::StdEntropy::default(),
        )
        .with_subscription_config(self.notifier.clone());
        let (driver, events, driver_task) =
            TransactionDriver::spawn_traced(self.transaction, transports, incoming, self.tap.clone());
        let (commands, command_rx) = mpsc::channel(crate::driver::DEFAULT_QUEUE);
        let (offered_tx, offered) = mpsc::channel(crate::driver::DEFAULT_QUEUE);
        let (prepared_tx, prepared) = mpsc::channel(crate::driver::DEFAULT_QUEUE);
        let core = Core {
            uac: Uac::new(uac_config),
            uas: answerer,
            driver,
            events,
            commands: command_rx,
            offered: offered_tx,
            calls: IdMap::default(),
            incoming_calls: IdMap::default(),
            incoming_subscriptions: IdMap::default(),
            registrations: IdMap::default(),
            requests: IdMap::default(),
            first_outcome: IdMap::default(),
            subscriptions: IdMap::default(),
            first_acceptance: IdMap::default(),
            binding,
            own_commands: commands.clone(),
            prepared,
            prepared_tx,
            preparing: HashMap::new(),
        };
        let task = tokio::spawn(core.run());
        Ok(Endpoint {
            commands,
            offered: tokio::sync::Mutex::new(Some(offered)),
            local,
            identity,
            credentials: self.credentials,
            outbound_proxy: self.outbound_proxy,
            task,
            _driver: driver_task,
        })
    }
}

/// A call this side placed: its events, and what can be done with it.
#[derive(Debug)]
pub struct Call {
    handle: Handle,
    commands: mpsc::Sender<Command>,
    events: mpsc::Receiver<CallEvent>,
}

impl Call {
    /// The next thing that happened to the call; `None` once it has ended and said so.
    pub async fn next_event(&mut self) -> Option<CallEvent> {
        self.events.recv().await
    }

    async fn act(&self, action: CallAction) -> Result<(), EndpointError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::CallAction { call: self.handle, action, reply })
            .await
            .map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }

    /// Hangs up: BYE once answered, CANCEL before (§9.1, §15).
    pub async fn hangup(&self) -> Result<(), EndpointError> {
        self.act(CallAction::Hangup).await
    }

    /// Cancels the call before it is answered (the same as [`hangup`](Self::hangup) then).
    pub async fn cancel(&self) -> Result<(), EndpointError> {
        self.act(CallAction::Hangup).await
    }

    /// Puts the call on hold (a re-INVITE offering `sendonly`); [`CallEvent::Held`] follows.
    pub async fn hold(&self) -> Result<(), EndpointError> {
        self.act(CallAction::Hold).await
    }

    /// Takes the call off hold; [`CallEvent::Resumed`] follows.
    pub async fn resume(&self) -> Result<(), EndpointError> {
        self.act(CallAction::Resume).await
    }

    /// Offers `offer` in a re-INVITE; [`CallEvent::Renegotiated`] follows.
    pub async fn reinvite(&self, offer: SessionDescription) -> Result<(), EndpointError> {
        self.act(CallAction::Reinvite(Box::new(offer))).await
    }

    /// Offers `offer` in an UPDATE (RFC 3311); [`CallEvent::Renegotiated`] follows.
    pub async fn update(&self, offer: SessionDescription) -> Result<(), EndpointError> {
        self.act(CallAction::Update(Box::new(offer))).await
    }

    /// Transfers the peer to `target` (REFER, RFC 3515); [`CallEvent::TransferProgress`]
    /// follows.
    pub async fn refer(&self, target: Uri) -> Result<(), EndpointError> {
        self.act(CallAction::Refer(Box::new(target))).await
    }

    /// Tells the peer that asked for a transfer ([`CallEvent::TransferRequested`]) how the
    /// call to its target goes (a NOTIFY); a final status is the last.
    pub async fn transfer_progress(&self, status: StatusCode) -> Result<(), EndpointError> {
        self.act(CallAction::TransferProgress(status)).await
    }

    /// Sends DTMF `digit` lasting `duration` in an INFO (`application/dtmf-relay`).
    pub async fn send_dtmf_info(&self, digit: char, duration: Duration) -> Result<(), EndpointError> {
        self.act(CallAction::Dtmf(digit, duration)).await
    }
}

/// A call offered to this side, from [`Endpoint::incoming`].
#[derive(Debug)]
pub struct IncomingCall {
    handle: CallHandle,
    invite: Box<Request>,
    commands: mpsc::Sender<Command>,
    ended: Option<oneshot::Receiver<EndReason>>,
    transfers: mpsc::Receiver<Uri>,
}

/// Transfers of one incoming call that may wait for the application at once; one beyond
/// them is declined (603).
const TRANSFERS_WAITING: usize = 4;

/// The endpoint's ends of an [`IncomingCall`]'s channels.
#[derive(Debug)]
struct IncomingCallOwner {
    /// Why the call ended, once.
    ended: oneshot::Sender<EndReason>,
    /// The transfers the caller asks for ([`IncomingCall::transfer_requested`]).
    transfers: mpsc::Sender<Uri>,
}

impl IncomingCall {
    /// The INVITE, with the caller's offer when it made one.
    pub fn invite(&self) -> &Request {
        &self.invite
    }

    async fn act(&self, action: IncomingAction) -> Result<(), EndpointError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Incoming { call: self.handle, action, reply };
        self.commands.send(command).await.map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }

    /// Sends 180 Ringing.
    pub async fn ring(&self) -> Result<(), EndpointError> {
        self.act(IncomingAction::Ring).await
    }

    /// Answers with 200 and the SDP answer to the caller's offer (PCMU, PCMA,
    /// telephone-event).
    pub async fn accept(&self) -> Result<(), EndpointError> {
        self.act(IncomingAction::Accept).await
    }

    /// Rejects with `status` (300–699; see [`redirect`](Self::redirect) to name where to go).
    pub async fn reject(&self, status: StatusCode) -> Result<(), EndpointError> {
        self.act(IncomingAction::Reject(status)).await
    }

    /// Hangs up an accepted call with BYE.
    pub async fn hangup(&self) -> Result<(), EndpointError> {
        self.act(IncomingAction::Hangup).await
    }

    /// Answers with any `status` and the `extra` headers: a 1xx as [`ring`](Self::ring)
    /// does, a 2xx as [`accept`](Self::accept) does (with the SDP answer), a 300–699 as
    /// [`reject`](Self::reject) does (a 486 with Retry-After, a 603 with a Reason, ...).
    pub async fn respond(&self, status: StatusCode, extra: Vec<Header>) -> Result<(), EndpointError> {
        self.act(IncomingAction::Respond(status, extra)).await
    }

    /// Redirects the caller to `targets` (302 Moved Temporarily, a Contact for each).
    pub async fn redirect(&self, targets: Vec<Uri>) -> Result<(), EndpointError> {
        self.act(IncomingAction::Redirect(targets)).await
    }

    /// Waits for the caller to ask this side to call someone else instead (a REFER, RFC
    /// 3515: a blind transfer): the Refer-To URI. The transfer is accepted already (202,
    /// and a NOTIFY that the call is being tried); place the new call and say how it went
    /// with [`transfer_progress`](Self::transfer_progress). `None` once the call is over.
    pub async fn transfer_requested(&mut self) -> Option<Uri> {
        self.transfers.recv().await
    }

    /// Tells the caller that asked for a transfer how the new call goes: a NOTIFY with
    /// `status` (RFC 3515 §2.4.5: 100 trying, 200 answered, 603 declined, ...); a final
    /// status is the last.
    pub async fn transfer_progress(&self, status: StatusCode) -> Result<(), EndpointError> {
        self.act(IncomingAction::TransferProgress(status)).await
    }

    /// Waits for the call to end; why it ended.
    pub async fn ended(&mut self) -> Result<EndReason, EndpointError> {
        let ended = self.ended.take().ok_or(EndpointError::Invalid("already waited for".into()))?;
        ended.await.map_err(|_| EndpointError::Closed)
    }
}

/// A request outside a call (OPTIONS, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, REFER), from
/// [`Endpoint::incoming`], waiting for this side's answer. Left
/// unanswered for [`AnswerPolicy::answer_within`], or dropped unanswered, it gets the
/// default answer: 200 with what this side can do for OPTIONS, 480 Temporarily
/// Unavailable for MESSAGE, 405 with Allow for any other method.
#[derive(Debug)]
pub struct IncomingRequest {
    handle: RequestHandle,
    request: Box<Request>,
    commands: mpsc::Sender<Command>,
    answered: bool,
}

impl IncomingRequest {
    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Answers with `status` (200–699) and the `extra` headers. A SUBSCRIBE or REFER
    /// takes its 2xx from [`accept_subscription`](Self::accept_subscription), which makes
    /// the subscription: a 2xx here is refused, and the request gets its default answer
    /// (405).
    pub async fn respond(mut self, status: StatusCode, extra: Vec<Header>) -> Result<(), EndpointError> {
        let method = &self.request.method;
        if status.is_success() && answer::makes_subscription(method) {
            return Err(EndpointError::Invalid(format!(
                "a 2xx to {method} makes a subscription: accept it with accept_subscription"
            )));
        }
        self.answered = true;
        let (reply, answer) = oneshot::channel();
        let command = Command::AnswerRequest { handle: self.handle, answer: Some((status, extra)), reply: Some(reply) };
        self.commands.send(command).await.map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }

    /// Answers with 200 OK (for OPTIONS, with what this side can do).
    pub async fn accept(self) -> Result<(), EndpointError> {
        self.respond(StatusCode::OK, Vec::new()).await
    }

    /// Answers with `status` (300–699).
    pub async fn reject(self, status: StatusCode) -> Result<(), EndpointError> {
        if !status.is_final() || status.is_success() {
            return Err(EndpointError::Invalid("reject takes a 300-699 status".into()));
        }
        self.respond(status, Vec::new()).await
    }

    /// Accepts a SUBSCRIBE or REFER (RFC 6665, RFC 3515): 200 (202 for REFER) with the
    /// Expires granted, and the first NOTIFY, `active` or pending, with `body` (for a
    /// REFER, a `message/sipfrag` such as `SIP/2.0 100 Trying`). This side then answers
    /// the subscriber's refreshes and ends the subscription at its expiry or unsubscribe;
    /// send the state's changes through the [`IncomingSubscription`]. Refused with an
    /// error saying so when the request was answered otherwise: 423 for an Expires below
    /// the shortest taken ([`EndpointBuilder::notifier`]; a minute by default), 489 for a
    /// SUBSCRIBE without an Event, 503 beyond the cap on subscriptions; a request of
    /// another method is refused too, and gets its default answer.
    pub async fn accept_subscription(
        mut self,
        active: bool,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<IncomingSubscription, EndpointError> {
        if !answer::makes_subscription(&self.request.method) {
            return Err(EndpointError::Invalid(format!("a {} makes no subscription", self.request.method)));
        }
        self.answered = true;
        let (reply, answer) = oneshot::channel();
        let command = Command::AcceptSubscription { handle: self.handle, active, body, reply };
        self.commands.send(command).await.map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }
}

/// A subscription this side serves as notifier, from
/// [`IncomingRequest::accept_subscription`]: NOTIFY the subscriber of the resource's
/// changes through it. It ends when it expires, the subscriber unsubscribes, a NOTIFY
/// fails, or [`terminate`](Self::terminate) (or dropping it, or the endpoint's shutdown:
/// `noresource`) ends it.
#[derive(Debug)]
pub struct IncomingSubscription {
    handle: SubscriptionHandle,
    commands: mpsc::Sender<Command>,
    ended: Option<oneshot::Receiver<Option<String>>>,
    terminated: bool,
}

impl IncomingSubscription {
    async fn act(&self, action: SubscriptionAction) -> Result<(), EndpointError> {
        let (reply, answer) = oneshot::channel();
        let command = Command::Notifier { subscription: self.handle, action, reply };
        self.commands.send(command).await.map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }

    /// Sends a NOTIFY of the current state with `body`.
    pub async fn notify(&self, body: Option<(MediaType, Bytes)>) -> Result<(), EndpointError> {
        self.act(SubscriptionAction::Notify(body)).await
    }

    /// Makes a pending subscription active: a NOTIFY saying so, with `body`.
    pub async fn activate(&self, body: Option<(MediaType, Bytes)>) -> Result<(), EndpointError> {
        self.act(SubscriptionAction::Activate(body)).await
    }

    /// Ends the subscription: a last NOTIFY, `terminated` with `reason` (`noresource`,
    /// `rejected`, `deactivated`, ...; empty for none) and `body`.
    pub async fn terminate(&mut self, reason: &str, body: Option<(MediaType, Bytes)>) -> Result<(), EndpointError> {
        self.terminated = true;
        self.act(SubscriptionAction::Terminate(reason.to_owned(), body)).await
    }

    /// Waits for the subscription to end; the reason its last NOTIFY gave (`timeout`
    /// when it expired or the subscriber unsubscribed).
    pub async fn ended(&mut self) -> Result<Option<String>, EndpointError> {
        let ended = self.ended.take().ok_or(EndpointError::Invalid("already waited for".into()))?;
        ended.await.map_err(|_| EndpointError::Closed)
    }
}

impl Drop for IncomingSubscription {
    fn drop(&mut self) {
        if !self.terminated {
            // Nobody is left to NOTIFY changes: the subscription ends. One that ended
            // already refuses, which is nobody's to hear.
            let (reply, _) = oneshot::channel();
            let action = SubscriptionAction::Terminate(NO_RESOURCE.to_owned(), None);
            let _ = self.commands.try_send(Command::Notifier { subscription: self.handle, action, reply });
        }
    }
}

/// The reason a subscription ends with when this side stops serving it (RFC 6665
/// §4.2.2: the resource is gone, and subscribing again is pointless).
const NO_RESOURCE: &str = "noresource";

impl Drop for IncomingRequest {
    fn drop(&mut self) {
        if !self.answered {
            // The default answer; a full queue leaves it to the answer_within deadline.
            let _ = self.commands.try_send(Command::AnswerRequest { handle: self.handle, answer: None, reply: None });
        }
    }
}

/// What [`Endpoint::incoming`] gives: a call offered, or a request outside a call.
#[derive(Debug)]
pub enum Incoming {
    /// An INVITE outside any dialog: accept, reject, redirect or answer it.
    Call(IncomingCall),
    /// Any other request outside a dialog of a method this side knows (an unknown one
    /// gets 501), but those that need a dialog (BYE, PRACK, UPDATE, INFO: 481): answer it.
    Request(IncomingRequest),
}

/// A registration: refreshed before it expires until [`unregister`](Self::unregister)
/// (or the endpoint's shutdown) removes it.
#[derive(Debug)]
pub struct Registration {
    handle: Handle,
    commands: mpsc::Sender<Command>,
    /// The expiry the registrar granted first.
    pub expires: u32,
    events: mpsc::Receiver<RegistrationEvent>,
}

impl Registration {
    /// The next refresh, failure or removal.
    pub async fn next_event(&mut self) -> Option<RegistrationEvent> {
        self.events.recv().await
    }

    /// Removes the binding (REGISTER with expires 0) and waits for the registrar's answer.
    pub async fn unregister(mut self) -> Result<(), EndpointError> {
        let registration = self.handle;
        end_and_wait(
            &self.commands,
            |reply| Command::Unregister { registration, reply },
            &mut self.events,
            |e| match e {
                RegistrationEvent::Unregistered => Some(Ok(())),
                RegistrationEvent::Failed(e) => Some(Err(e.into())),
                RegistrationEvent::Registered { .. } => None,
            },
        )
        .await
    }
}

/// A subscription (RFC 6665): refreshed before it expires until
/// [`unsubscribe`](Self::unsubscribe), the notifier or the endpoint's shutdown ends it.
#[derive(Debug)]
pub struct Subscription {
    handle: Handle,
    commands: mpsc::Sender<Command>,
    /// The expiry the notifier granted.
    pub expires: u32,
    events: mpsc::Receiver<SubscriptionEvent>,
}

impl Subscription {
    /// The next NOTIFY or the end; `None` once it has ended and said so.
    pub async fn next_event(&mut self) -> Option<SubscriptionEvent> {
        self.events.recv().await
    }

    /// Ends the subscription (SUBSCRIBE with Expires 0) and waits for the notifier's
    /// final NOTIFY (RFC 6665 §4.1.2.3); the NOTIFYs that come before it are dropped.
    pub async fn unsubscribe(mut self) -> Result<(), EndpointError> {
        let subscription = self.handle;
        end_and_wait(
            &self.commands,
            |reply| Command::Unsubscribe { subscription, reply },
            &mut self.events,
            |e| match e {
                SubscriptionEvent::Terminated(_) => Some(Ok(())),
                SubscriptionEvent::Failed(e) => Some(Err(e.into())),
                SubscriptionEvent::Accepted { .. } | SubscriptionEvent::Notified { .. } => None,
            },
        )
        .await
    }
}

/// Sends the command that ends a registration or subscription, then waits on its
/// `events` for the one `ended` takes as the end (the others are dropped).
async fn end_and_wait<E>(
    commands: &mpsc::Sender<Command>,
    command: impl FnOnce(Reply<()>) -> Command,
    events: &mut mpsc::Receiver<E>,
    ended: impl Fn(E) -> Option<Result<(), EndpointError>>,
) -> Result<(), EndpointError> {
    let (reply, answer) = oneshot::channel();
    commands.send(command(reply)).await.map_err(|_| EndpointError::Closed)?;
    answer.await.map_err(|_| EndpointError::Closed)??;
    while let Some(event) = events.recv().await {
        if let Some(end) = ended(event) {
            return end;
        }
    }
    Err(EndpointError::Closed)
}

#[derive(Debug)]
enum CallAction {
    Hangup,
    Hold,
    Resume,
    Reinvite(Box<SessionDescription>),
    Update(Box<SessionDescription>),
    Refer(Box<Uri>),
    TransferProgress(StatusCode),
    Dtmf(char, Duration),
}

#[derive(Debug)]
enum SubscriptionAction {
    Notify(Option<(MediaType, Bytes)>),
    Activate(Option<(MediaType, Bytes)>),
    Terminate(String, Option<(MediaType, Bytes)>),
}

#[derive(Debug)]
enum IncomingAction {
    Ring,
    Accept,
    Reject(StatusCode),
    Respond(StatusCode, Vec<Header>),
    Redirect(Vec<Uri>),
    Hangup,
    TransferProgress(StatusCode),
}

type Reply<T> = oneshot::Sender<Result<T, EndpointError>>;

#[derive(Debug)]
enum Command {
    Call {
        peer: Box<Peer>,
        reply: Reply<Call>,
    },
    CallAction {
        call: Handle,
        action: CallAction,
        reply: Reply<()>,
    },
    Incoming {
        call: CallHandle,
        action: IncomingAction,
        reply: Reply<()>,
    },
    /// Answers a request outside a call: with this, or by default.
    AnswerRequest {
        handle: RequestHandle,
        answer: Option<(StatusCode, Vec<Header>)>,
        reply: Option<Reply<()>>,
    },
    AcceptSubscription {
        handle: RequestHandle,
        active: bool,
        body: Option<(MediaType, Bytes)>,
        reply: Reply<IncomingSubscription>,
    },
    Notifier {
        subscription: SubscriptionHandle,
        action: SubscriptionAction,
        reply: Reply<()>,
    },
    Register {
        peer: Box<Peer>,
        aor: NameAddr,
        expires: u32,
        reply: Reply<Registration>,
    },
    Unregister {
        registration: Handle,
        reply: Reply<()>,
    },
    Subscribe {
        peer: Box<Peer>,
        event: String,
        expires: u32,
        reply: Reply<Subscription>,
    },
    Unsubscribe {
        subscription: Handle,
        reply: Reply<()>,
    },
    Request {
        method: Method,
        peer: Box<Peer>,
        body: Option<(MediaType, Bytes)>,
        reply: Reply<Response>,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

/// The composed stack. Dropping it stops everything at once; [`shutdown`](Self::shutdown)
/// first hangs up and unregisters.
#[derive(Debug)]
pub struct Endpoint {
    commands: mpsc::Sender<Command>,
    offered: tokio::sync::Mutex<Option<mpsc::Receiver<Incoming>>>,
    local: Vec<(TransportName, SocketAddr)>,
    identity: Uri,
    credentials: Option<(String, String)>,
    outbound_proxy: Option<Uri>,
    task: JoinHandle<()>,
    _driver: JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Endpoint {
    /// A builder: add listeners, then [`build`](EndpointBuilder::build).
    pub fn builder() -> EndpointBuilder {
        EndpointBuilder {
            listeners: Vec::new(),
            identity: None,
            user_agent: concat!("sipkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            transaction: Config::default(),
            session: SessionConfig::default(),
            max_calls: answer::DEFAULT_MAX_CALLS,
            max_outstanding: uac::DEFAULT_MAX_OUTSTANDING,
            max_asked: answer::DEFAULT_MAX_ASKED,
            max_subscriptions: answer::DEFAULT_MAX_SUBSCRIPTIONS,
            notifier: SubscriptionConfig::default(),
            answer_within: answer::DEFAULT_ANSWER_WITHIN,
            udp: UdpSettings::default(),
            streams: StreamSettings::default(),
            credentials: None,
            outbound_proxy: None,
            instance: None,
            tap: None,
        }
    }

    /// The addresses the listeners are bound to, with their transports.
    pub fn local_addrs(&self) -> &[(TransportName, SocketAddr)] {
        &self.local
    }

    /// Where a request to `uri` goes first, and with which route.
    async fn peer(&self, uri: Uri) -> Result<Peer, EndpointError> {
        let hop = self.outbound_proxy.clone().unwrap_or_else(|| uri.clone());
        let next_hop = locate(&hop, None).await?;
        let mut peer = Peer::new(uri, next_hop, NameAddr::new(self.identity.clone()));
        if let Some(proxy) = &self.outbound_proxy {
            peer.route.push(format!("{proxy};lr").parse().unwrap_or_else(|_| proxy.clone()));
        }
        if let Some((user, password)) = &self.credentials {
            peer.credentials = Some(DigestClient::new(user.clone(), password.clone()));
        }
        Ok(peer)
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, EndpointError> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(command(reply)).await.map_err(|_| EndpointError::Closed)?;
        answer.await.map_err(|_| EndpointError::Closed)?
    }

    /// Calls `target` with an SDP offer (PCMU, PCMA, telephone-event; 100rel and a
    /// session timer offered); the call's events tell how it goes.
    pub async fn call(&self, target: Uri) -> Result<Call, EndpointError> {
        let peer = Box::new(self.peer(target).await?);
        self.ask(|reply| Command::Call { peer, reply }).await
    }

    /// Registers this side at `registrar` for `expires` seconds; returns once the
    /// registrar accepted (after a digest challenge, a 423, ...) or refused.
    pub async fn register(&self, registrar: Uri, expires: u32) -> Result<Registration, EndpointError> {
        let peer = Box::new(self.peer(registrar).await?);
        let aor = NameAddr::new(self.identity.clone());
        self.ask(|reply| Command::Register { peer, aor, expires, reply }).await
    }

    /// Subscribes to the `event` package (`presence`, `dialog`, `message-summary`, ...)
    /// of `target` for `expires` seconds; returns once the notifier accepted (after a
    /// digest challenge, a 423, ...) or refused. Its NOTIFYs come from the
    /// [`Subscription`]'s events.
    pub async fn subscribe(&self, target: Uri, event: &str, expires: u32) -> Result<Subscription, EndpointError> {
        let peer = Box::new(self.peer(target).await?);
        let event = event.to_owned();
        self.ask(|reply| Command::Subscribe { peer, event, expires, reply }).await
    }

    /// Sends OPTIONS to `target`; its final response.
    pub async fn options(&self, target: Uri) -> Result<Response, EndpointError> {
        let peer = Box::new(self.peer(target).await?);
        self.ask(|reply| Command::Request { method: Method::OPTIONS, peer, body: None, reply }).await
    }

    /// Sends `text` to `target` in a MESSAGE (RFC 3428); its final response.
    pub async fn message(&self, target: Uri, text: &str) -> Result<Response, EndpointError> {
        let peer = Box::new(self.peer(target).await?);
        let kind = MediaType::new("text", "plain").map_err(|e| EndpointError::Invalid(e.to_string()))?;
        let body = Some((kind, Bytes::copy_from_slice(text.as_bytes())));
        self.ask(|reply| Command::Request { method: Method::MESSAGE, peer, body, reply }).await
    }

    /// The next call offered to this side (answer it with `accept`, `reject`, ...) or
    /// request outside a call (OPTIONS, MESSAGE, SUBSCRIBE, ...; answer it with `respond`); `None` once the
    /// endpoint has stopped. They wait in a queue until taken (a full queue declines with
    /// 480); a call nobody takes rings on until the caller gives up, a request gets the
    /// default answer after [`AnswerPolicy::answer_within`].
    pub async fn incoming(&self) -> Option<Incoming> {
        let mut offered = self.offered.lock().await;
        offered.as_mut()?.recv().await
    }

    /// The next call offered to this side, the requests outside a call before it given
    /// their default answer; `None` once the endpoint has stopped.
    pub async fn next_call(&self) -> Option<IncomingCall> {
        loop {
            if let Incoming::Call(call) = self.incoming().await? {
                return Some(call);
            }
        }
    }

    /// Hangs up every call, removes every registration, waits up to [`SHUTDOWN_GRACE`]
    /// for the answers, and stops.
    pub async fn shutdown(self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).await.is_ok() {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_secs(1), done).await;
        }
    }
}

/// Where a request to `uri` goes: its numeric address, or what RFC 3263 finds (over
/// UDP, TCP, TLS, WS and WSS); over `transport` when one is given instead of what the URI
/// and the DNS say.
pub async fn locate(uri: &Uri, transport: Option<TransportName>) -> Result<Target, EndpointError> {
    if let Some(mut target) = crate::numeric_target(uri) {
        if let Some(t) = transport {
            target.transport = t;
        }
        return Ok(target);
    }
    let Uri::Sip(sip) = uri else { return Err(EndpointError::Locate(format!("{uri}: not a sip or sips URI"))) };
    let mut destination = Destination::from_uri(sip);
    if transport.is_some() {
        destination.transport = transport;
    }
    let resolver = HickoryResolver::from_system().map_err(|e| EndpointError::Locate(e.to_string()))?;
    let transports =
        vec![TransportName::UDP, TransportName::TCP, TransportName::TLS, TransportName::WS, TransportName::WSS];
    let locator = Locator::new(resolver, transports, 1);
    let targets = locator.locate(&destination).await.map_err(|e| EndpointError::Locate(format!("{uri}: {e}")))?;
    targets.into_iter().next().ok_or_else(|| EndpointError::Locate(format!("{uri}: no address")))
}

/// A registration or subscription waiting for its first outcome: who waits, and its
/// event queue.
type Pending<T, E> = (Reply<T>, mpsc::Sender<E>, mpsc::Receiver<E>);

/// Whose request is being made ready to send.
#[derive(Debug, Clone, Copy)]
enum RequestOwner {
    Uac(Handle),
    Uas(DialogHandle),
    /// The ACK of a 2xx (no transaction, nobody to tell).
    Ack,
}

/// A request on its way out, and whose it is.
type Outgoing = (RequestOwner, Request, Target);

/// A request whose transport was being made ready (a connection opened) on a task of its
/// own, and how that went.
type Prepared = (Outgoing, Result<Sent, TransportError>);

/// Where a request goes over a connection: requests to one peer leave in the order they
/// were made, and only one at a time opens the connection they share.
type StreamPeer = (TransportName, SocketAddr);

/// The task behind an [`Endpoint`].
struct Core {
    uac: Uac,
    uas: Answerer,
    driver: TransactionDriver,
    events: Events,
    commands: mpsc::Receiver<Command>,
    offered: mpsc::Sender<Incoming>,
    /// The event queues of this side's calls.
    calls: IdMap<Handle, mpsc::Sender<CallEvent>>,
    /// How to tell an incoming call's owner what happens to it.
    incoming_calls: IdMap<CallHandle, IncomingCallOwner>,
    /// How to tell a served subscription's owner that it ended, and why.
    incoming_subscriptions: IdMap<SubscriptionHandle, oneshot::Sender<Option<String>>>,
    registrations: IdMap<Handle, mpsc::Sender<RegistrationEvent>>,
    /// Requests waiting for their final response.
    requests: IdMap<Handle, Reply<Response>>,
    /// Registrations waiting for their first outcome, with their event queue.
    first_outcome: IdMap<Handle, Pending<Registration, RegistrationEvent>>,
    subscriptions: IdMap<Handle, mpsc::Sender<SubscriptionEvent>>,
    /// Subscriptions waiting for their 2xx, with their event queue (a NOTIFY may come
    /// first).
    first_acceptance: IdMap<Handle, Pending<Subscription, SubscriptionEvent>>,
    /// The Contact this side registers (with `+sip.instance` and `reg-id` when set).
    binding: NameAddr,
    /// For the handles given out (the endpoint's own sender: the task ends when aborted).
    own_commands: mpsc::Sender<Command>,
    /// Requests back from having their transport made ready.
    prepared: mpsc::Receiver<Prepared>,
    prepared_tx: mpsc::Sender<Prepared>,
    /// The peers a connection is being made ready for (by the first request to each),
    /// with the requests waiting behind it.
    preparing: HashMap<StreamPeer, VecDeque<Outgoing>>,
}

impl Core {
    async fn run(mut self) {
        let mut shutdown: Option<(Instant, oneshot::Sender<()>)> = None;
        let mut wakeup = Wakeup::new();
        loop {
            self.carry_out().await;
            if let Some((until, _)) = &shutdown {
                let settled = self.calls.is_empty()
                    && self.registrations.is_empty()
                    && self.subscriptions.is_empty()
                    && self.requests.is_empty()
                    && self.incoming_calls.is_empty()
                    && self.uas.subscriptions() == 0
                    && self.preparing.is_empty();
                if settled || Instant::now() >= *until {
                    if let Some((_, reply)) = shutdown.take() {
                        let _ = reply.send(());
                    }
                    return;
                }
            }
            let wake =
                [self.uac.poll_timeout(), self.uas.poll_timeout()].into_iter().flatten().min().map(Instant::from_std);
            wakeup.set([wake, shutdown.as_ref().map(|(until, _)| *until)].into_iter().flatten().min());
            tokio::select! {
                event = self.events.recv() => {
                    let Some(event) = event else { return };
                    if let Some(other) = self.uac.handle_event(now(), event) {
                        self.uas.handle_event(now(), other);
                    }
                }
                command = self.commands.recv(), if shutdown.is_none() => {
                    let Some(command) = command else { return };
                    if let Command::Shutdown { reply } = command {
                        self.begin_shutdown();
                        shutdown = Some((Instant::now() + SHUTDOWN_GRACE, reply));
                    } else {
                        self.command(command);
                    }
                }
                // The core holds a sender: this never ends.
                Some((outgoing, ready)) = self.prepared.recv() => self.prepared(outgoing, ready).await,
                () = wakeup.fired() => {
                    self.uac.handle_timeout(now());
                    self.uas.handle_timeout(now());
                }
            }
        }
    }

    /// Sends a request. Over UDP at once; over a connection, its transport is made ready
    /// on a task of its own first (opening a TCP or TLS connection can take up to the
    /// connect timeout, and nothing else may wait for it), behind any request to the same
    /// peer still waiting for that.
    async fn send(&mut self, owner: RequestOwner, request: Request, target: Target) {
        if !target.transport.is_reliable() {
            let ready = self.driver.transports().prepare(&target).await.ok();
            return self.send_prepared((owner, request, target), ready).await;
        }
        let peer = (target.transport.clone(), target.remote);
        if let Some(waiting) = self.preparing.get_mut(&peer) {
            waiting.push_back((owner, request, target));
        } else {
            self.preparing.insert(peer, VecDeque::new());
            self.start_preparing((owner, request, target));
        }
    }

    fn start_preparing(&self, outgoing: Outgoing) {
        let (transports, done) = (self.driver.transports().clone(), self.prepared_tx.clone());
        tokio::spawn(async move {
            let ready = transports.prepare(&outgoing.2).await;
            let _ = done.send((outgoing, ready)).await;
        });
    }

    /// A request is back with its transport made ready (or not): it is sent, and the next
    /// one to its peer is made ready. When the transport could not be made ready, the
    /// requests waiting for the same peer fail with it.
    async fn prepared(&mut self, outgoing: Outgoing, ready: Result<Sent, TransportError>) {
        let peer = (outgoing.2.transport.clone(), outgoing.2.remote);
        let failed = ready.is_err();
        self.send_prepared(outgoing, ready.ok()).await;
        let Some(waiting) = self.preparing.get_mut(&peer) else { return };
        if failed {
            let waiting = std::mem::take(waiting);
            self.preparing.remove(&peer);
            for outgoing in waiting {
                self.send_prepared(outgoing, None).await;
            }
        } else if let Some(next) = waiting.pop_front() {
            self.start_preparing(next);
        } else {
            self.preparing.remove(&peer);
        }
    }

    /// Sends a request whose transport is `ready`, or tells its owner it could not be sent
    /// (`None`: the transport could not be made ready).
    async fn send_prepared(&mut self, (owner, request, target): Outgoing, ready: Option<Sent>) {
        let sent = match (&owner, ready) {
            (RequestOwner::Ack, Some(_)) => {
                let _ = self.driver.send_ack(request, target).await;
                return;
            }
            // An ACK that cannot go: the peer retransmits its 2xx, and the dialog layer
            // sends the ACK again.
            (RequestOwner::Ack, None) => return,
            (_, Some(ready)) => self.driver.send_prepared(request.clone(), target, &ready).await.ok(),
            (_, None) => None,
        };
        match (owner, sent) {
            (RequestOwner::Uac(owner), Some(key)) => self.uac.request_sent(owner, request, key),
            (RequestOwner::Uac(owner), None) => self.uac.request_failed(now(), owner, &request),
            (RequestOwner::Uas(dialog), Some(key)) => self.uas.request_sent(dialog, request, key),
            (RequestOwner::Uas(dialog), None) => self.uas.request_failed(now(), dialog, &request),
            (RequestOwner::Ack, _) => {} // sent above
        }
    }

    fn begin_shutdown(&mut self) {
        for call in self.calls.keys().copied().collect::<Vec<_>>() {
            let _ = self.uac.hangup(now(), call);
        }
        for registration in self.registrations.keys().copied().collect::<Vec<_>>() {
            let _ = self.uac.unregister(now(), registration);
        }
        for subscription in self.subscriptions.keys().copied().collect::<Vec<_>>() {
            let _ = self.uac.unsubscribe(now(), subscription);
        }
        for call in self.incoming_calls.keys().copied().collect::<Vec<_>>() {
            // An answered call gets BYE; one still ringing is declined.
            if self.uas.hangup(call).is_err() {
                let _ = self.uas.reject(call, StatusCode::TEMPORARILY_UNAVAILABLE);
            }
        }
        for subscription in self.incoming_subscriptions.keys().copied().collect::<Vec<_>>() {
            let _ = self.uas.terminate_subscription(now(), subscription, NO_RESOURCE, None);
        }
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Call { peer, reply } => match self.uac.call(now(), *peer) {
                Ok(handle) => {
                    let (tx, events) = mpsc::channel(DEFAULT_EVENT_QUEUE);
                    self.calls.insert(handle, tx);
                    let commands = self.own_commands.clone();
                    let _ = reply.send(Ok(Call { handle, commands, events }));
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Command::CallAction { call, action, reply } => {
                let done = match action {
                    CallAction::Hangup => self.uac.hangup(now(), call),
                    CallAction::Hold => self.uac.hold(now(), call),
                    CallAction::Resume => self.uac.resume(now(), call),
                    CallAction::Reinvite(offer) => self.uac.reinvite(now(), call, *offer),
                    CallAction::Update(offer) => self.uac.update(now(), call, *offer),
                    CallAction::Refer(target) => self.uac.refer(now(), call, &target),
                    CallAction::TransferProgress(status) => self.uac.transfer_progress(now(), call, status),
                    CallAction::Dtmf(digit, duration) => self.uac.send_dtmf_info(now(), call, digit, duration),
                };
                let _ = reply.send(done.map_err(Into::into));
            }
            Command::Incoming { call, action, reply } => {
                let done = match action {
                    IncomingAction::Ring => self.uas.ring(now(), call),
                    IncomingAction::Accept => self.uas.accept(now(), call),
                    IncomingAction::Reject(status) => self.uas.reject(call, status),
                    IncomingAction::Respond(status, extra) => self.uas.respond(now(), call, status, extra),
                    IncomingAction::Redirect(targets) => {
                        self.uas.redirect(call, StatusCode::MOVED_TEMPORARILY, &targets)
                    }
                    IncomingAction::Hangup => self.uas.hangup(call),
                    IncomingAction::TransferProgress(status) => self.uas.transfer_progress(now(), call, status),
                };
                let _ = reply.send(done.map_err(|e| EndpointError::Invalid(e.to_string())));
            }
            Command::AnswerRequest { handle, answer, reply } => {
                let done = match answer {
                    Some((status, extra)) => self.uas.answer_request(handle, status, extra),
                    None => self.uas.answer_request_by_default(handle),
                };
                if let Some(reply) = reply {
                    let _ = reply.send(done.map_err(|e| EndpointError::Invalid(e.to_string())));
                }
            }
            Command::AcceptSubscription { handle, active, body, reply } => {
                let accepted = match self.uas.accept_subscription(now(), handle, active, body) {
                    Ok(subscription) => {
                        let (ended_tx, ended) = oneshot::channel();
                        self.incoming_subscriptions.insert(subscription, ended_tx);
                        let commands = self.own_commands.clone();
                        Ok(IncomingSubscription {
                            handle: subscription,
                            commands,
                            ended: Some(ended),
                            terminated: false,
                        })
                    }
                    Err(refused) => Err(EndpointError::Invalid(refused.to_string())),
                };
                let _ = reply.send(accepted);
            }
            Command::Notifier { subscription, action, reply } => {
                let done = match action {
                    SubscriptionAction::Notify(body) => self.uas.notify(now(), subscription, body),
                    SubscriptionAction::Activate(body) => self.uas.activate_subscription(now(), subscription, body),
                    SubscriptionAction::Terminate(reason, body) => {
                        self.uas.terminate_subscription(now(), subscription, &reason, body)
                    }
                };
                let _ = reply.send(done.map_err(|e| EndpointError::Invalid(e.to_string())));
            }
            Command::Register { peer, aor, expires, reply } => {
                let contact = self.binding.clone();
                match self.uac.register(now(), *peer, aor, contact, expires) {
                    Ok(handle) => {
                        let (tx, rx) = mpsc::channel(DEFAULT_EVENT_QUEUE);
                        self.first_outcome.insert(handle, (reply, tx, rx));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Command::Unregister { registration, reply } => {
                let _ = reply.send(self.uac.unregister(now(), registration).map_err(Into::into));
            }
            Command::Subscribe { peer, event, expires, reply } => {
                match self.uac.subscribe(now(), *peer, &event, expires, None) {
                    Ok(handle) => {
                        let (tx, rx) = mpsc::channel(DEFAULT_EVENT_QUEUE);
                        self.first_acceptance.insert(handle, (reply, tx, rx));
                    }
                    Err(e) => {
                        let _ = reply.send(Err(e.into()));
                    }
                }
            }
            Command::Unsubscribe { subscription, reply } => {
                let _ = reply.send(self.uac.unsubscribe(now(), subscription).map_err(Into::into));
            }
            Command::Request { method, peer, body, reply } => match self.uac.request(now(), method, *peer, body) {
                Ok(handle) => {
                    self.requests.insert(handle, reply);
                }
                Err(e) => {
                    let _ = reply.send(Err(e.into()));
                }
            },
            Command::Shutdown { .. } => {}
        }
    }

    async fn carry_out(&mut self) {
        loop {
            let mut busy = false;
            while let Some(action) = self.uac.poll_action() {
                busy = true;
                match action {
                    uac::Action::Request { owner, request, target } => {
                        self.send(RequestOwner::Uac(owner), request, target).await;
                    }
                    uac::Action::Ack { request, target } => self.send(RequestOwner::Ack, request, target).await,
                    uac::Action::Abandon { key } => {
                        let _ = self.driver.abandon(key).await;
                    }
                    uac::Action::Respond { key, response } => {
                        let _ = self.driver.post_response(key, response).await;
                    }
                    uac::Action::Event(event) => self.deliver(event),
                }
            }
            while let Some(action) = self.uas.poll_action() {
                busy = true;
                match action {
                    answer::Action::Respond { key, response } => {
                        let _ = self.driver.post_response(key, response).await;
                    }
                    answer::Action::Request { dialog, request, target } => {
                        self.send(RequestOwner::Uas(dialog), request, target).await;
                    }
                    answer::Action::Offered { call, invite } => {
                        let (ended_tx, ended) = oneshot::channel();
                        let (transfers_tx, transfers) = mpsc::channel(TRANSFERS_WAITING);
                        self.incoming_calls
                            .insert(call, IncomingCallOwner { ended: ended_tx, transfers: transfers_tx });
                        let offer = IncomingCall {
                            handle: call,
                            invite,
                            commands: self.own_commands.clone(),
                            ended: Some(ended),
                            transfers,
                        };
                        if self.offered.try_send(Incoming::Call(offer)).is_err() {
                            // Nobody takes calls (or too many wait): decline this one.
                            let _ = self.uas.reject(call, StatusCode::TEMPORARILY_UNAVAILABLE);
                        }
                    }
                    answer::Action::Asked { handle, request } => {
                        let asked =
                            IncomingRequest { handle, request, commands: self.own_commands.clone(), answered: false };
                        if let Err(full) = self.offered.try_send(Incoming::Request(asked)) {
                            // Nobody takes requests (or too many wait): the default answer, here.
                            if let Incoming::Request(mut asked) = full.into_inner() {
                                asked.answered = true;
                            }
                            let _ = self.uas.answer_request_by_default(handle);
                        }
                    }
                    answer::Action::TransferRequested { call, target } => {
                        let taken =
                            self.incoming_calls.get(&call).is_some_and(|o| o.transfers.try_send(target).is_ok());
                        if !taken {
                            // Nobody takes it (the call's handle is gone, or too many wait).
                            let _ = self.uas.transfer_progress(now(), call, StatusCode::DECLINE);
                        }
                    }
                    answer::Action::SubscriptionEnded { subscription, reason } => {
                        if let Some(owner) = self.incoming_subscriptions.remove(&subscription) {
                            let _ = owner.send(reason);
                        }
                    }
                    answer::Action::Report(report) => {
                        if let Some(owner) = self.incoming_calls.remove(&report.call) {
                            let _ = owner.ended.send(report.ended);
                        }
                    }
                }
            }
            if !busy {
                return;
            }
        }
    }

    /// Hands a UAC event to whoever waits for it.
    fn deliver(&mut self, event: UacEvent) {
        match event {
            UacEvent::Call { call, event } => {
                let ended = matches!(event, CallEvent::Ended(_));
                if let Some(tx) = self.calls.get(&call) {
                    // A full or dropped queue loses the event; the call goes on.
                    let _ = tx.try_send(event);
                }
                if ended {
                    self.calls.remove(&call);
                }
            }
            UacEvent::Registration { registration, event } => {
                if let Some((reply, tx, rx)) = self.first_outcome.remove(&registration) {
                    let outcome = match event {
                        RegistrationEvent::Registered { expires } => {
                            self.registrations.insert(registration, tx);
                            Ok(Registration {
                                handle: registration,
                                commands: self.own_commands.clone(),
                                expires,
                                events: rx,
                            })
                        }
                        RegistrationEvent::Failed(e) => Err(e.into()),
                        RegistrationEvent::Unregistered => {
                            Err(EndpointError::Invalid("removed before it was made".into()))
                        }
                    };
                    let _ = reply.send(outcome);
                    return;
                }
                let gone = matches!(event, RegistrationEvent::Unregistered | RegistrationEvent::Failed(_));
                if let Some(tx) = self.registrations.get(&registration) {
                    let _ = tx.try_send(event);
                }
                if gone {
                    self.registrations.remove(&registration);
                }
            }
            UacEvent::Subscription { subscription, event } => {
                if let Some((reply, tx, rx)) = self.first_acceptance.remove(&subscription) {
                    let outcome = match event {
                        SubscriptionEvent::Accepted { expires } => {
                            self.subscriptions.insert(subscription, tx);
                            Ok(Subscription {
                                handle: subscription,
                                commands: self.own_commands.clone(),
                                expires,
                                events: rx,
                            })
                        }
                        SubscriptionEvent::Failed(e) => Err(e.into()),
                        SubscriptionEvent::Terminated(reason) => Err(EndpointError::Invalid(format!(
                            "ended before it was accepted: {}",
                            reason.as_deref().unwrap_or("no reason given")
                        ))),
                        notified @ SubscriptionEvent::Notified { .. } => {
                            // A NOTIFY before the 2xx: it waits in the queue.
                            let _ = tx.try_send(notified);
                            self.first_acceptance.insert(subscription, (reply, tx, rx));
                            return;
                        }
                    };
                    let _ = reply.send(outcome);
                    return;
                }
                let gone = matches!(event, SubscriptionEvent::Terminated(_) | SubscriptionEvent::Failed(_));
                if let Some(tx) = self.subscriptions.get(&subscription) {
                    let _ = tx.try_send(event);
                }
                if gone {
                    self.subscriptions.remove(&subscription);
                }
            }
            UacEvent::Response { request, outcome } => {
                if let Some(reply) = self.requests.remove(&request) {
                    let _ = reply.send(outcome.map(|r| *r).map_err(Into::into));
                }
            }
        }
    }
}
