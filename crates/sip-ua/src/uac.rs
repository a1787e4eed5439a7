//! The UAC half of a user agent as a sans-IO core: outgoing calls (INVITE with an SDP
//! offer, provisional responses, the ACK of the 2xx, hold and resume by re-INVITE, BYE,
//! CANCEL), registrations (REGISTER, 423 Min-Expires, refresh before the granted expiry,
//! unregistering), subscriptions (SUBSCRIBE, its NOTIFYs, refresh and unsubscribing,
//! RFC 6665) and single requests outside a dialog (OPTIONS, MESSAGE, ...), each
//! answering 401 and 407 challenges with digest credentials (RFC 3261 §22).
//!
//! It takes the transaction layer's events and the time, and hands back what to send
//! ([`Action`]) and what happened ([`UacEvent`]); [`Uac::poll_timeout`] says when to come
//! back. Events it has no part in (requests outside its dialogs) are handed back from
//! [`Uac::handle_event`] for the layer beside it (an [`Answerer`](crate::answer::Answerer)).

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_auth::{AuthError, DigestClient};
use sip_dialog::{
    Dialog, DialogId, EndReason, Entropy, InviteSession, Output, SessionConfig, SessionEvent, StdEntropy, Subscription,
    SubscriptionConfig, SubscriptionState, session_timer_headers,
};
use sip_message::header::{self, CallId, MediaType, NameAddr, TypedHeader, Via};
use sip_message::{Header, HeaderName, Host, Method, Request, Response, StatusCode, Uri};
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator, OfferAnswer, SessionDescription};
use sip_transaction::{Event, TransactionKey};
use sip_transport::Target;

use crate::{Deadlines, IdMap, Serving};

/// How many times a request is sent again with credentials after a 401 or 407 before
/// the UAC gives up with [`UacError::AuthFailed`].
pub const MAX_AUTH_ATTEMPTS: u32 = 3;

/// The default cap on calls, registrations and requests the UAC runs at once.
pub const DEFAULT_MAX_OUTSTANDING: usize = 10_000;

/// The RTP port the offers name (no media flows: the UAC only signals).
pub const MEDIA_PORT: u16 = 40_002;

/// The option tags the UAC's INVITEs say it supports (RFC 3262, RFC 4028).
pub const SUPPORTED_OPTION_TAGS: &str = "100rel, timer";

/// The methods the UAC takes in its dialogs, for Allow.
pub const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO, MESSAGE, REFER, NOTIFY";

/// What the UAC is and how it sends.
#[derive(Debug, Clone)]
pub struct UacConfig {
    /// This side's Contact: where the peer sends requests in a dialog.
    pub contact: Uri,
    /// The address the SDP offers name for media.
    pub media_address: IpAddr,
    /// The User-Agent header.
    pub user_agent: String,
    /// The INVITE sessions' timers, 100rel and session timer settings.
    pub session: SessionConfig,
    /// Calls, registrations and requests at most at once; more are refused with
    /// [`UacError::TooMany`].
    pub max_outstanding: usize,
}

impl UacConfig {
    /// The defaults for a UAC reached at `contact`, with media at `media_address`.
    pub fn new(contact: Uri, media_address: IpAddr) -> Self {
        Self {
            contact,
            media_address,
            user_agent: concat!("sipkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            session: SessionConfig::default(),
            max_outstanding: DEFAULT_MAX_OUTSTANDING,
        }
    }
}

/// Names one call, registration or request of a [`Uac`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(u64);

/// Who is asking and where the request goes.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The Request-URI.
    pub uri: Uri,
    /// The next hop: the outbound proxy, or the Request-URI's server.
    pub next_hop: Target,
    /// The route set to put in Route (an outbound proxy with `lr`, say).
    pub route: Vec<Uri>,
    /// This side's identity, for From (a tag is added).
    pub from: NameAddr,
    /// Credentials for the challenges the request meets.
    pub credentials: Option<DigestClient>,
}

impl Peer {
    /// A request to `uri` through `next_hop` from `from`, with no route set or credentials.
    pub fn new(uri: Uri, next_hop: Target, from: NameAddr) -> Self {
        Self { uri, next_hop, route: Vec::new(), from, credentials: None }
    }
}

/// A request the UAC could not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UacError {
    /// No final response came in time (Timer B or F, §8.1.3.1).
    #[error("no response in time")]
    Timeout,
    /// The transport could not reach the next hop.
    #[error("the transport could not reach the next hop")]
    TransportFailed,
    /// The peer answered with this final status.
    #[error("rejected with {0}")]
    Rejected(StatusCode),
    /// The credentials were refused, or the challenge could not be answered.
    #[error("authentication failed: {0}")]
    AuthFailed(String),
    /// [`UacConfig::max_outstanding`] are in progress.
    #[error("too many calls, registrations and requests in progress")]
    TooMany,
    /// The request could not be built from what was given.
    #[error("the request cannot be built: {0}")]
    Invalid(String),
}

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallEnd {
    /// This side hung up: its BYE got a 2xx, or its CANCEL ended the INVITE (487).
    HungUp,
    /// The peer hung up (BYE).
    RemoteHangup,
    /// The call was not set up: see the error.
    Failed(UacError),
    /// The session ended for a reason of its own (no ACK, session timer, dialog gone).
    Session(EndReason),
}

/// What happened to a call.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The INVITE got 100 Trying (or another provisional response without more meaning).
    Trying,
    /// The peer is ringing (180).
    Ringing,
    /// A provisional response carried the peer's session description: early media.
    EarlyMedia(Box<SessionDescription>),
    /// The call was answered; the peer's session description, when the answer had one.
    Answered(Option<Box<SessionDescription>>),
    /// The hold asked for with [`Uac::hold`] is in force.
    Held,
    /// The resume asked for with [`Uac::resume`] is in force.
    Resumed,
    /// The offer of [`Uac::reinvite`] or [`Uac::update`] was answered; the session
    /// described by it is in force.
    Renegotiated,
    /// A NOTIFY about the transfer asked for with [`Uac::refer`] (RFC 3515): the status
    /// the transferee's call got; `done` when it was the last. A subscription that runs
    /// out before a NOTIFY ends it gives one more, `done`, with the last status heard
    /// (408 when no NOTIFY came).
    TransferProgress {
        /// The status line of the NOTIFY's message/sipfrag.
        status: StatusCode,
        /// The implicit subscription ended with it.
        done: bool,
    },
    /// The peer asks this side to call `target` instead (a REFER, RFC 3515, a blind
    /// transfer). It was accepted (202) and the peer told the call is being tried: place
    /// the call, and tell the peer how it went with [`Uac::transfer_progress`] (a final
    /// status ends the transfer; decline it with one that says so, as 603).
    TransferRequested {
        /// The Refer-To URI.
        target: Uri,
    },
    /// A request in the call failed with this status; the call goes on as it was.
    RequestFailed {
        /// The request's method.
        method: Method,
        /// The status.
        status: StatusCode,
    },
    /// The call is over.
    Ended(CallEnd),
}

/// What happened to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// The registrar accepted the binding for this many seconds; it is refreshed before.
    Registered {
        /// The expiry the registrar granted.
        expires: u32,
    },
    /// The binding was removed ([`Uac::unregister`]).
    Unregistered,
    /// The registration failed; it is not tried again.
    Failed(UacError),
}

/// What happened to a subscription (RFC 6665).
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionEvent {
    /// The notifier accepted the SUBSCRIBE (2xx) for this many seconds; it is refreshed
    /// before they run out.
    Accepted {
        /// The expiry the notifier granted.
        expires: u32,
    },
    /// A NOTIFY came (and was answered 200): the state it gives, and its body.
    Notified {
        /// The subscription's state by the NOTIFY's Subscription-State.
        state: SubscriptionState,
        /// The body's type and content, if any.
        body: Option<(MediaType, Bytes)>,
    },
    /// The subscription ended (the notifier terminated it, it expired, it was
    /// unsubscribed, no NOTIFY came), with the reason given.
    Terminated(Option<String>),
    /// The SUBSCRIBE failed; no subscription was made.
    Failed(UacError),
}

/// What the UAC reports.
#[derive(Debug, Clone, PartialEq)]
pub enum UacEvent {
    /// About a call of [`Uac::call`].
    Call {
        /// The call.
        call: Handle,
        /// What happened.
        event: CallEvent,
    },
    /// About a registration of [`Uac::register`].
    Registration {
        /// The registration.
        registration: Handle,
        /// What happened.
        event: RegistrationEvent,
    },
    /// About a subscription of [`Uac::subscribe`].
    Subscription {
        /// The subscription.
        subscription: Handle,
        /// What happened.
        event: SubscriptionEvent,
    },
    /// The outcome of a request of [`Uac::request`]: its final response (any status
    /// but a challenge answered), or why there was none.
    Response {
        /// The request.
        request: Handle,
        /// The final response, or the failure.
        outcome: Result<Box<Response>, UacError>,
    },
}

/// What the UAC hands its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send `request` in a new client transaction to `target`; then tell
    /// [`Uac::request_sent`] its key, or [`Uac::request_failed`] that it could not go.
    Request {
        /// Whose request it is.
        owner: Handle,
        /// The request (its top Via gets its transport and sent-by when it goes).
        request: Request,
        /// Where it goes.
        target: Target,
    },
    /// Send the ACK of a 2xx, outside any transaction (§13.2.2.4), to `target`.
    Ack {
        /// The ACK.
        request: Request,
        /// Where it goes.
        target: Target,
    },
    /// Send `response` through server transaction `key` (the peer's BYE, re-INVITE, ...).
    Respond {
        /// The server transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// End client transaction `key` (the transaction layer's `abandon`): an INVITE
    /// whose CANCEL got no final response within 64·T1 (§9.1).
    Abandon {
        /// The client transaction.
        key: TransactionKey,
    },
    /// Report this.
    Event(UacEvent),
}

/// A change of the call's media this side asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Hold,
    Resume,
    Offer,
}

#[derive(Debug)]
struct OutgoingCall {
    peer: Peer,
    /// The INVITE as last sent (the one with credentials after a challenge).
    invite: Request,
    /// Its client transaction, once sent.
    invite_key: Option<TransactionKey>,
    /// The negotiator, until a session takes it.
    negotiator: Option<Negotiator>,
    session: Option<InviteSession>,
    /// The server transactions waiting for responses of the session, by CSeq.
    serving: Serving,
    auth_attempts: u32,
    /// A provisional response came: a CANCEL may go (§9.1).
    provisional: bool,
    /// Hang up asked for before the INVITE could be cancelled or the call was answered.
    hangup_wanted: bool,
    cancelled: bool,
    /// When the INVITE's transaction is given up if no final response came after the
    /// CANCEL (§9.1).
    cancel_deadline: Option<Instant>,
    /// The INVITE got a final response.
    invite_final: bool,
    answered: bool,
    change: Option<Change>,
    /// The end, once reported.
    ended: bool,
}

#[derive(Debug)]
struct Registration {
    peer: Peer,
    /// The binding's Contact, with its parameters (`+sip.instance`, `reg-id`).
    contact: NameAddr,
    asked: u32,
    request: Request,
    auth_attempts: u32,
    /// Sent with expires 0.
    removing: bool,
    in_flight: bool,
    refresh_at: Option<Instant>,
    /// The last challenge answered: every later REGISTER carries credentials for it at
    /// once, with the next nonce count (RFC 7616 §3.4.5), until the registrar asks again.
    challenge: Option<Box<Response>>,
}

impl Registration {
    /// Puts credentials for the last challenge in `request`, if there was one.
    fn reauthorize(&mut self, request: &mut Request, cnonce: &str) -> Result<(), UacError> {
        reauthorize(self.peer.credentials.as_mut(), self.challenge.as_deref(), request, cnonce)
    }
}

/// Puts credentials for `challenge`, the last one answered, in `request` (with the next
/// nonce count), if there was one.
fn reauthorize(
    credentials: Option<&mut DigestClient>,
    challenge: Option<&Response>,
    request: &mut Request,
    cnonce: &str,
) -> Result<(), UacError> {
    let Some(challenge) = challenge else { return Ok(()) };
    let mut unauthorized = request.clone();
    unauthorized.headers.remove(&HeaderName::AUTHORIZATION);
    unauthorized.headers.remove(&HeaderName::PROXY_AUTHORIZATION);
    credentials_for(credentials, request, &unauthorized, challenge, cnonce)
}

/// What a registration or a subscription keeps to answer a refusal of its request: the
/// credentials, the challenges answered so far and the last one, the expiry asked for.
struct Refused<'a> {
    credentials: Option<&'a mut DigestClient>,
    auth_attempts: &'a mut u32,
    challenge: &'a mut Option<Box<Response>>,
    asked: &'a mut u32,
}

impl Refused<'_> {
    /// Makes `retry` (the request as last sent) the answer to `response`, a final refusal of
    /// `sent`: with credentials for a 401 or 407 (at most [`MAX_AUTH_ATTEMPTS`] times; the
    /// challenge is kept for later requests), or asking for the Min-Expires of a 423
    /// through `set_expiry` (and the credentials of the last challenge). Any other status,
    /// or a refusal that cannot be answered, is the error to fail with.
    fn retry(
        &mut self,
        retry: &mut Request,
        sent: &Request,
        response: &Response,
        via: Via,
        cnonce: &str,
        set_expiry: impl FnOnce(&mut Request, u32) -> Result<(), UacError>,
    ) -> Result<(), UacError> {
        let seq = cseq_of(&sent.headers).map_or(1, |c| c.0) + 1;
        match response.status.as_u16() {
            401 | 407 => {
                *self.auth_attempts += 1;
                if *self.auth_attempts > MAX_AUTH_ATTEMPTS {
                    return Err(UacError::AuthFailed("too many challenges".into()));
                }
                next_attempt(retry, seq, via)?;
                credentials_for(self.credentials.as_deref_mut(), retry, sent, response, cnonce)?;
                *self.challenge = Some(Box::new(response.clone()));
                Ok(())
            }
            423 => {
                let min = response.headers.typed::<header::MinExpires>().and_then(Result::ok).map(|m| m.0);
                let Some(min) = min.filter(|&m| m > *self.asked) else {
                    return Err(UacError::Rejected(response.status));
                };
                *self.asked = min;
                next_attempt(retry, seq, via)?;
                set_expiry(retry, min)?;
                reauthorize(self.credentials.as_deref_mut(), self.challenge.as_deref(), retry, cnonce)
            }
            _ => Err(UacError::Rejected(response.status)),
        }
    }
}

/// A subscription this side asked for.
#[derive(Debug)]
struct OutgoingSubscription {
    peer: Peer,
    /// The SUBSCRIBE that makes the subscription, as last sent (with credentials after a
    /// challenge, a longer expiry after a 423).
    request: Request,
    /// The expiry asked for, and asked for again on each refresh.
    asked: u32,
    auth_attempts: u32,
    /// The last challenge answered: the refreshes carry credentials for it at once.
    challenge: Option<Box<Response>>,
    /// Made by the 2xx to the SUBSCRIBE, or by a NOTIFY that came before it.
    subscription: Option<Subscription>,
    /// The server transactions of NOTIFYs waiting for their response.
    serving: Serving,
    /// The 2xx came (and was reported).
    accepted: bool,
    /// Unsubscribing was asked for before the subscription was made.
    unsubscribe_wanted: bool,
    /// The end, once reported.
    ended: bool,
}

#[derive(Debug)]
struct Single {
    peer: Peer,
    request: Request,
    auth_attempts: u32,
}

#[derive(Debug)]
enum Outstanding {
    Call(Box<OutgoingCall>),
    Registration(Box<Registration>),
    Subscription(Box<OutgoingSubscription>),
    Single(Box<Single>),
}

/// The UAC core. Sans-IO: inputs carry the time, [`Uac::poll_action`] gives what to
/// send and report, [`Uac::poll_timeout`] when to call [`Uac::handle_timeout`].
#[derive(Debug)]
pub struct Uac<E: Entropy = StdEntropy> {
    config: UacConfig,
    entropy: E,
    outstanding: IdMap<u64, Outstanding>,
    /// The client transactions in flight: whose, and the request as sent.
    by_key: IdMap<TransactionKey, (u64, Request)>,
    by_dialog: HashMap<DialogId, u64>,
    deadlines: Deadlines,
    next: u64,
    actions: VecDeque<Action>,
    /// The latest time an input carried.
    clock: Option<Instant>,
}

fn cseq_of(headers: &sip_message::Headers) -> Option<(u32, Method)> {
    headers.cseq().and_then(Result::ok).map(|c| (c.seq, c.method))
}

/// The CANCEL of `invite` (§9.1): its Request-URI, Call-ID, From, To, CSeq number, top
/// Via and Route, method CANCEL.
fn cancel_of(invite: &Request) -> Option<Request> {
    let mut headers = sip_message::Headers::new();
    let keep = [HeaderName::VIA, HeaderName::FROM, HeaderName::TO, HeaderName::CALL_ID, HeaderName::ROUTE];
    let mut via_taken = false;
    for h in invite.headers.iter() {
        if *h.name() == HeaderName::VIA {
            if via_taken {
                continue;
            }
            via_taken = true;
        }
        if keep.contains(h.name()) {
            headers.push(h.clone());
        }
    }
    let (seq, _) = cseq_of(&invite.headers)?;
    headers.push_typed(&header::CSeq::new(seq, Method::CANCEL).ok()?).ok()?;
    headers.push_typed(&header::MaxForwards(70)).ok()?;
    headers.push(Header::content_length(0));
    Some(Request { method: Method::CANCEL, uri: invite.uri.clone(), headers, body: Bytes::new() })
}

impl Uac<StdEntropy> {
    /// A UAC with `config`.
    pub fn new(config: UacConfig) -> Self {
        Self::with_entropy(config, StdEntropy::default())
    }
}

impl<E: Entropy> Uac<E> {
    /// A UAC with `config` and the randomness given (tags, branches, Call-IDs, cnonces).
    pub fn with_entropy(config: UacConfig, entropy: E) -> Self {
        Self {
            config,
            entropy,
            outstanding: IdMap::default(),
            by_key: IdMap::default(),
            by_dialog: HashMap::new(),
            deadlines: Deadlines::default(),
            next: 0,
            actions: VecDeque::new(),
            clock: None,
        }
    }

    fn tick(&mut self, now: Instant) {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
    }

    /// Sends the CANCEL of call `id`'s INVITE (once), and gives its transaction 64·T1 to
    /// end before it is abandoned (§9.1).
    fn send_cancel(&mut self, id: u64) {
        let give_up = self.clock.map(|now| now + self.config.session.t1 * 64);
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        if c.cancelled || c.invite_final {
            return;
        }
        c.cancelled = true;
        c.cancel_deadline = give_up;
        if let Some(cancel) = cancel_of(&c.invite) {
            let target = c.peer.next_hop.clone();
            self.send(id, cancel, target);
        }
    }

    /// Calls, registrations and requests in progress.
    pub fn outstanding(&self) -> usize {
        self.outstanding.len()
    }

    /// The next thing to send or report.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.next()
    }

    fn random_hex(&mut self) -> String {
        format!("{:016x}", self.entropy.next_u64())
    }

    fn via(&mut self) -> Via {
        let via = Via::new(&header::Transport::UDP, &Host::from(Ipv4Addr::UNSPECIFIED), None);
        let branch = format!("z9hG4bK{}", self.random_hex());
        via.with_branch(&branch).unwrap_or(via)
    }

    fn call_id(&mut self) -> Result<CallId, UacError> {
        let host = match &self.config.contact {
            Uri::Sip(sip) => sip.host_str().trim_start_matches('[').trim_end_matches(']').to_owned(),
            _ => "sipkit".to_owned(),
        };
        let id = format!("{}{}@{host}", self.random_hex(), self.random_hex());
        CallId::new(id).map_err(|e| UacError::Invalid(e.to_string()))
    }

    /// A new request outside any dialog (§8.1.1).
    fn new_request(
        &mut self,
        method: Method,
        peer: &Peer,
        to: NameAddr,
        call_id: CallId,
        seq: u32,
    ) -> Result<Request, UacError> {
        let tag = self.random_hex();
        let from = peer.from.with_tag(&tag).map_err(|e| UacError::Invalid(e.to_string()))?;
        let mut builder = Request::builder(method, peer.uri.clone())
            .via(self.via())
            .max_forwards(70)
            .from(from)
            .to(to)
            .call_id(call_id)
            .cseq(seq);
        for route in &peer.route {
            builder = builder.route(NameAddr::new(route.clone()));
        }
        builder = builder.raw_header(HeaderName::USER_AGENT, self.config.user_agent.clone());
        builder.build().map_err(|e| UacError::Invalid(e.to_string()))
    }

    fn admit(&self) -> Result<u64, UacError> {
        if self.outstanding.len() >= self.config.max_outstanding {
            return Err(UacError::TooMany);
        }
        Ok(self.next)
    }

    /// Keeps `what` as `id` (the number [`admit`](Self::admit) gave) and sends its first
    /// request.
    fn start(&mut self, id: u64, what: Outstanding, request: Request, target: Target) -> Handle {
        self.next += 1;
        self.outstanding.insert(id, what);
        self.send(id, request, target);
        Handle(id)
    }

    fn send(&mut self, id: u64, request: Request, target: Target) {
        self.actions.push_back(Action::Request { owner: Handle(id), request, target });
    }

    fn report(&mut self, event: UacEvent) {
        tracing::debug!(?event, "uac");
        self.actions.push_back(Action::Event(event));
    }

    // ---- calls ------------------------------------------------------------------------

    /// Calls `peer.uri` with an SDP offer of PCMU, PCMA and telephone-event, asking for
    /// reliable provisional responses and a session timer when the session settings do.
    pub fn call(&mut self, now: Instant, peer: Peer) -> Result<Handle, UacError> {
        self.tick(now);
        let id = self.admit()?;
        let caps = Capabilities::new(
            self.config.media_address,
            vec![MediaCapability::audio(MEDIA_PORT, vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event()])],
        );
        let mut negotiator = Negotiator::new(caps, self.entropy.next_u64() >> 1);
        let offer = negotiator.create_offer();
        let call_id = self.call_id()?;
        let seq = 1;
        let mut invite = self.new_request(Method::INVITE, &peer, NameAddr::new(peer.uri.clone()), call_id, seq)?;
        invite.headers.push(Header::contact(&self.config.contact));
        for (name, value) in [(HeaderName::ALLOW, ALLOWED_METHODS), (HeaderName::SUPPORTED, SUPPORTED_OPTION_TAGS)] {
            if let Ok(h) = Header::new(name, value) {
                invite.headers.push(h);
            }
        }
        if let Some(interval) = self.config.session.session_expires {
            for h in session_timer_headers(interval, self.config.session.min_se, true) {
                // Supported is there already, with timer.
                if *h.name() != HeaderName::SUPPORTED {
                    invite.headers.push(h);
                }
            }
        }
        invite.set_body(Some(MediaType::application_sdp()), offer.to_bytes());
        let call = OutgoingCall {
            peer,
            invite: invite.clone(),
            invite_key: None,
            negotiator: Some(negotiator),
            session: None,
            serving: Serving::default(),
            auth_attempts: 0,
            provisional: false,
            hangup_wanted: false,
            cancelled: false,
            cancel_deadline: None,
            invite_final: false,
            answered: false,
            change: None,
            ended: false,
        };
        let target = call.peer.next_hop.clone();
        Ok(self.start(id, Outstanding::Call(Box::new(call)), invite, target))
    }

    fn call_mut(&mut self, call: Handle) -> Option<&mut OutgoingCall> {
        match self.outstanding.get_mut(&call.0) {
            Some(Outstanding::Call(c)) => Some(c),
            _ => None,
        }
    }

    /// Puts `call` on hold with a re-INVITE (RFC 6337 §5.3); [`CallEvent::Held`] follows.
    pub fn hold(&mut self, now: Instant, call: Handle) -> Result<(), UacError> {
        self.change(now, call, Change::Hold)
    }

    /// Takes `call` off hold with a re-INVITE; [`CallEvent::Resumed`] follows.
    pub fn resume(&mut self, now: Instant, call: Handle) -> Result<(), UacError> {
        self.change(now, call, Change::Resume)
    }

    /// Offers `offer` in a re-INVITE (new media, a session refresh); [`CallEvent::Renegotiated`]
    /// follows when it is answered.
    pub fn reinvite(&mut self, now: Instant, call: Handle, offer: SessionDescription) -> Result<(), UacError> {
        self.in_call(now, call, Some(Change::Offer), |session| session.reinvite(offer))
    }

    /// Offers `offer` in an UPDATE (RFC 3311), which needs no ringing or ACK;
    /// [`CallEvent::Renegotiated`] follows.
    pub fn update(&mut self, now: Instant, call: Handle, offer: SessionDescription) -> Result<(), UacError> {
        self.in_call(now, call, Some(Change::Offer), |session| session.update(offer))
    }

    /// Asks the peer to call `target` instead (a blind transfer, RFC 3515): a REFER;
    /// its NOTIFYs come as [`CallEvent::TransferProgress`].
    pub fn refer(&mut self, now: Instant, call: Handle, target: &Uri) -> Result<(), UacError> {
        self.in_call(now, call, None, |session| session.refer(target))
    }

    /// Tells the peer that asked for a transfer ([`CallEvent::TransferRequested`]) how the
    /// call to its target goes: a NOTIFY with `status` (RFC 3515 §2.4.5); a final status
    /// is the last.
    pub fn transfer_progress(&mut self, now: Instant, call: Handle, status: StatusCode) -> Result<(), UacError> {
        self.in_call(now, call, None, |session| session.refer_progress(now, status))
    }

    /// Sends DTMF `digit` (0-9, *, #, A-D) lasting `duration` in an INFO
    /// (`application/dtmf-relay`, the form most gateways take).
    pub fn send_dtmf_info(
        &mut self,
        now: Instant,
        call: Handle,
        digit: char,
        duration: Duration,
    ) -> Result<(), UacError> {
        let digit = digit.to_ascii_uppercase();
        if !matches!(digit, '0'..='9' | '*' | '#' | 'A'..='D') {
            return Err(UacError::Invalid(format!("{digit:?} is not a DTMF digit")));
        }
        let body = Bytes::from(format!("Signal={digit}\r\nDuration={}\r\n", duration.as_millis()));
        let kind = MediaType::new("application", "dtmf-relay").map_err(|e| UacError::Invalid(e.to_string()))?;
        self.in_call(now, call, None, move |session| {
            session.request(Method::INFO, |info| info.set_body(Some(kind), body))
        })
    }

    fn change(&mut self, now: Instant, call: Handle, change: Change) -> Result<(), UacError> {
        self.in_call(now, call, Some(change), |session| match change {
            Change::Hold => session.hold(),
            Change::Resume => session.resume(),
            Change::Offer => Err(sip_dialog::SessionError::State("an offer needs its description")),
        })
    }

    /// Does `act` on the session of answered `call`; `change` is what its answer brings.
    fn in_call(
        &mut self,
        _now: Instant,
        call: Handle,
        change: Option<Change>,
        act: impl FnOnce(&mut InviteSession) -> Result<(), sip_dialog::SessionError>,
    ) -> Result<(), UacError> {
        let c = self.call_mut(call).ok_or(UacError::Invalid("no such call".into()))?;
        if !c.answered || c.ended {
            return Err(UacError::Invalid("the call is not answered".into()));
        }
        let session = c.session.as_mut().ok_or(UacError::Invalid("the call has no session".into()))?;
        act(session).map_err(|e| UacError::Invalid(e.to_string()))?;
        if change.is_some() {
            c.change = change;
        }
        self.settle(call.0);
        Ok(())
    }

    /// Ends `call`: BYE once answered; before that CANCEL (once a provisional response
    /// came, §9.1), or BYE right after the answer if it comes first.
    pub fn hangup(&mut self, now: Instant, call: Handle) -> Result<(), UacError> {
        self.tick(now);
        let c = self.call_mut(call).ok_or(UacError::Invalid("no such call".into()))?;
        if c.ended {
            return Ok(());
        }
        if c.answered {
            if let Some(session) = c.session.as_mut() {
                session.bye().map_err(|e| UacError::Invalid(e.to_string()))?;
            }
        } else {
            c.hangup_wanted = true;
            if c.provisional {
                self.send_cancel(call.0);
            }
        }
        self.settle(call.0);
        Ok(())
    }

    /// The peer's session description in force in `call`, once negotiated.
    pub fn remote_description(&self, call: Handle) -> Option<&SessionDescription> {
        let Some(Outstanding::Call(c)) = self.outstanding.get(&call.0) else { return None };
        match c.session.as_ref()?.offer_answer() {
            OfferAnswer::Negotiated(session) => Some(&session.remote),
            _ => None,
        }
    }

    /// A response to the call's INVITE (not through the session yet).
    fn invite_response(&mut self, now: Instant, id: u64, sent: &Request, response: &Response) {
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        let status = response.status.as_u16();
        if matches!(status, 401 | 407) {
            if c.peer.credentials.is_none() {
                return self.end_call(id, CallEnd::Failed(UacError::Rejected(response.status)));
            }
            c.auth_attempts += 1;
            if c.auth_attempts > MAX_AUTH_ATTEMPTS {
                return self.end_call(id, CallEnd::Failed(UacError::AuthFailed("too many challenges".into())));
            }
            let mut retry = c.invite.clone();
            let seq = cseq_of(&sent.headers).map_or(1, |s| s.0) + 1;
            let cnonce = format!("{:016x}", self.entropy.next_u64());
            let via = self.via();
            let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
            let authorized = next_attempt(&mut retry, seq, via)
                .and_then(|()| credentials_for(c.peer.credentials.as_mut(), &mut retry, sent, response, &cnonce));
            match authorized {
                Ok(()) => {
                    c.invite = retry.clone();
                    c.invite_key = None;
                    let target = c.peer.next_hop.clone();
                    if c.hangup_wanted {
                        return self.end_call(id, CallEnd::HungUp);
                    }
                    self.send(id, retry, target);
                }
                Err(e) => self.end_call(id, CallEnd::Failed(e)),
            }
            return;
        }
        let has_tag = response.headers.to().and_then(Result::ok).is_some_and(|t| t.tag().is_some());
        if response.status.is_provisional() {
            c.provisional = true;
            let event = if status == 180 {
                CallEvent::Ringing
            } else {
                match sdp(response) {
                    Some(sdp) => CallEvent::EarlyMedia(Box::new(sdp)),
                    None => CallEvent::Trying,
                }
            };
            if has_tag && c.session.is_none() && status > 100 {
                self.start_session(now, id, response);
            } else if let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) {
                if let Some(session) = c.session.as_mut() {
                    let _ = session.receive_response(now, response);
                }
            }
            self.report(UacEvent::Call { call: Handle(id), event });
            let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
            if c.hangup_wanted {
                self.send_cancel(id);
            }
            self.settle(id);
            return;
        }
        c.invite_final = true;
        if response.status.is_success() {
            let same_dialog = c
                .session
                .as_ref()
                .is_some_and(|s| DialogId::of_response(response).ok().as_ref() == Some(s.dialog().id()));
            if c.answered && !same_dialog {
                // A second 2xx from another fork: its dialog is not wanted (§13.2.2.4) —
                // acknowledged and ended at once by a session of its own.
                return self.discard_fork(now, id, response);
            }
            if same_dialog {
                if let Some(session) = c.session.as_mut() {
                    let _ = session.receive_response(now, response);
                }
            } else {
                self.start_session(now, id, response);
            }
            let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
            if !c.answered && c.session.is_some() {
                c.answered = true;
                let remote = match c.session.as_ref().map(InviteSession::offer_answer) {
                    Some(OfferAnswer::Negotiated(s)) => Some(Box::new(s.remote.clone())),
                    _ => None,
                };
                let hang_up = c.hangup_wanted;
                self.report(UacEvent::Call { call: Handle(id), event: CallEvent::Answered(remote) });
                if hang_up {
                    if let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) {
                        if let Some(session) = c.session.as_mut() {
                            let _ = session.bye();
                        }
                    }
                }
            }
            self.settle(id);
            return;
        }
        // A final non-2xx: the INVITE failed (the transaction sends its ACK).
        if let Some(session) = c.session.as_mut() {
            let _ = session.receive_response(now, response);
        }
        let end = if c.cancelled && status == 487 {
            CallEnd::HungUp
        } else {
            CallEnd::Failed(UacError::Rejected(response.status))
        };
        self.end_call(id, end);
    }

    /// Makes the call's session from a response with a To tag that makes its dialog.
    fn start_session(&mut self, now: Instant, id: u64, response: &Response) {
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        let Ok(dialog) = Dialog::new_uac(&c.invite, response) else { return };
        let Some(negotiator) = c.negotiator.take() else { return };
        let session_config = SessionConfig { via: self.via(), ..self.config.session.clone() };
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        match InviteSession::uac(now, dialog, &c.invite, response, negotiator, session_config, StdEntropy::default()) {
            Ok(session) => {
                self.by_dialog.insert(session.dialog().id().clone(), id);
                c.session = Some(session);
            }
            // The session cannot start from this response (its offer or answer cannot
            // be taken): the call fails.
            Err(e) => self.end_call(id, CallEnd::Failed(UacError::Invalid(e.to_string()))),
        }
    }

    /// A 2xx of a fork this call does not keep: ACK it and BYE it (§13.2.2.4).
    fn discard_fork(&mut self, now: Instant, id: u64, response: &Response) {
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        let Ok(dialog) = Dialog::new_uac(&c.invite, response) else { return };
        let target = dialog_target(&dialog, &c.peer.next_hop);
        let negotiator = Negotiator::new(Capabilities::new(self.config.media_address, Vec::new()), 1);
        let config = SessionConfig { via: self.via(), session_expires: None, ..self.config.session.clone() };
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        let Ok(mut fork) =
            InviteSession::uac(now, dialog, &c.invite, response, negotiator, config, StdEntropy::default())
        else {
            return;
        };
        let _ = fork.bye();
        while let Some(output) = fork.poll_output() {
            if let Output::Request(request) = output {
                if request.method == Method::ACK {
                    self.actions.push_back(Action::Ack { request, target: target.clone() });
                } else {
                    // Its response is nobody's: the fork's session is gone.
                    self.actions.push_back(Action::Request {
                        owner: Handle(u64::MAX),
                        request,
                        target: target.clone(),
                    });
                }
            }
        }
    }

    fn end_call(&mut self, id: u64, end: CallEnd) {
        if let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) {
            if !c.ended {
                c.ended = true;
                self.report(UacEvent::Call { call: Handle(id), event: CallEvent::Ended(end) });
            }
        }
        self.settle(id);
    }

    /// Takes what call `id`'s session produced, files its next deadline, and forgets a
    /// finished call.
    fn settle(&mut self, id: u64) {
        let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
        let mut events = Vec::new();
        let mut sends = Vec::new();
        if let Some(session) = c.session.as_mut() {
            let target = dialog_target(session.dialog(), &c.peer.next_hop);
            while let Some(output) = session.poll_output() {
                match output {
                    Output::Request(request) if request.method == Method::ACK => {
                        self.actions.push_back(Action::Ack { request, target: target.clone() });
                    }
                    Output::Request(request) => sends.push((request, target.clone())),
                    Output::Response(mut response) => {
                        let Some(key) = c.serving.key_for(&response) else { continue };
                        if let Ok(h) = Header::new(HeaderName::SERVER, self.config.user_agent.clone()) {
                            response.headers.push(h);
                        }
                        self.actions.push_back(Action::Respond { key, response });
                    }
                    Output::Event(SessionEvent::Negotiated) => match c.change.take() {
                        Some(Change::Hold) => events.push(CallEvent::Held),
                        Some(Change::Resume) => events.push(CallEvent::Resumed),
                        Some(Change::Offer) => events.push(CallEvent::Renegotiated),
                        None => {}
                    },
                    Output::Event(SessionEvent::ReferProgress { status, done }) => {
                        events.push(CallEvent::TransferProgress { status, done });
                    }
                    Output::Event(SessionEvent::OfferFailed(_)) => {
                        if c.change.take().is_some() {
                            events.push(CallEvent::RequestFailed {
                                method: Method::INVITE,
                                status: StatusCode::NOT_ACCEPTABLE_HERE,
                            });
                        }
                    }
                    Output::Event(SessionEvent::Failed { method, status }) => {
                        if method == Method::INVITE {
                            c.change = None;
                        }
                        events.push(CallEvent::RequestFailed { method, status });
                    }
                    Output::Event(SessionEvent::Request(request)) => {
                        // In-dialog requests the session leaves to the application: OPTIONS,
                        // INFO and MESSAGE are taken, anything else is not allowed.
                        let status = crate::in_dialog_status(&request.method);
                        let mut response = Response::from_request(&request, status);
                        if let Ok(h) = Header::new(HeaderName::ALLOW, ALLOWED_METHODS) {
                            response.headers.push(h);
                        }
                        session.send_response(response);
                    }
                    // A transfer (RFC 3515): accepted at once (202, then a NOTIFY of 100
                    // Trying, both taken in this loop); the application places the call
                    // and reports how it went (`transfer_progress`).
                    // (The 202 goes first; only the NOTIFY can fail, in a dialog that can
                    // send nothing more.)
                    // (A REFER arrives through `handle_event`, which set the clock.)
                    Output::Event(SessionEvent::Refer { target, request }) => {
                        if self.clock.is_some_and(|now| session.accept_refer(now, &request).is_ok()) {
                            events.push(CallEvent::TransferRequested { target });
                        }
                    }
                    // This side's BYE: the call is over when the BYE is answered.
                    Output::Event(SessionEvent::Ended(EndReason::ByeSent)) => c.hangup_wanted = true,
                    Output::Event(SessionEvent::Ended(reason)) => {
                        if !c.ended {
                            c.ended = true;
                            let end = match reason {
                                EndReason::ByeSent | EndReason::Cancelled => CallEnd::HungUp,
                                EndReason::ByeReceived => CallEnd::RemoteHangup,
                                EndReason::Rejected(status) => CallEnd::Failed(UacError::Rejected(status)),
                                other => CallEnd::Session(other),
                            };
                            events.push(CallEvent::Ended(end));
                        }
                    }
                }
            }
        }
        // A call that ended before its INVITE got a final response (its early dialog
        // gone): the INVITE is cancelled, once a provisional response allows it (§9.1).
        let unanswered = c.ended && !c.invite_final && c.invite_key.is_some();
        let cancel_now = unanswered && c.provisional && !c.cancelled;
        if unanswered {
            c.hangup_wanted = true;
        }
        let cancel_due = c.cancel_deadline.filter(|_| c.invite_key.is_some() && !c.invite_final);
        let session_due = c.session.as_ref().and_then(InviteSession::poll_timeout);
        let invite_pending = c.invite_key.is_some() || (!c.ended && !c.answered);
        let done = c.ended && !invite_pending && session_due.is_none() && c.serving.only_invites();
        for event in events {
            self.report(UacEvent::Call { call: Handle(id), event });
        }
        for (request, target) in sends {
            self.send(id, request, target);
        }
        if cancel_now {
            self.send_cancel(id);
        }
        let cancel_due = cancel_due.or_else(|| match self.outstanding.get(&id) {
            Some(Outstanding::Call(c)) => c.cancel_deadline,
            _ => None,
        });
        self.deadlines.file(id, [session_due, cancel_due].into_iter().flatten().min());
        if done {
            self.forget(id);
        }
    }

    fn forget(&mut self, id: u64) {
        if let Some(Outstanding::Call(c)) = self.outstanding.remove(&id) {
            if let Some(session) = &c.session {
                self.by_dialog.remove(session.dialog().id());
            }
        }
        self.deadlines.file(id, None);
        self.by_key.retain(|_, (owner, _)| *owner != id);
    }

    // ---- registrations ----------------------------------------------------------------

    /// Registers `contact` (with any parameters: `+sip.instance`, `reg-id` of RFC 5626)
    /// for the address of record `aor` at the registrar `peer.uri`, asking for `expires`
    /// seconds; the binding is refreshed before what the registrar grants runs out.
    pub fn register(
        &mut self,
        _now: Instant,
        peer: Peer,
        aor: NameAddr,
        contact: NameAddr,
        expires: u32,
    ) -> Result<Handle, UacError> {
        let id = self.admit()?;
        let call_id = self.call_id()?;
        let mut request = self.new_request(Method::REGISTER, &peer, aor, call_id, 1)?;
        set_binding(&mut request, &contact, expires)?;
        let target = peer.next_hop.clone();
        let registration = Registration {
            peer,
            contact,
            asked: expires,
            request: request.clone(),
            auth_attempts: 0,
            removing: false,
            in_flight: true,
            refresh_at: None,
            challenge: None,
        };
        Ok(self.start(id, Outstanding::Registration(Box::new(registration)), request, target))
    }

    /// Removes the binding of `registration` (a REGISTER with expires 0);
    /// [`RegistrationEvent::Unregistered`] follows.
    pub fn unregister(&mut self, now: Instant, registration: Handle) -> Result<(), UacError> {
        let Some(Outstanding::Registration(r)) = self.outstanding.get_mut(&registration.0) else {
            return Err(UacError::Invalid("no such registration".into()));
        };
        r.removing = true;
        r.refresh_at = None;
        if !r.in_flight {
            self.send_registration(now, registration.0);
        }
        Ok(())
    }

    /// Sends the registration's REGISTER again: the next CSeq, a new branch, the same
    /// Call-ID (§10.2.4), the expiry asked for (0 when removing).
    fn send_registration(&mut self, _now: Instant, id: u64) {
        let via = self.via();
        let cnonce = self.random_hex();
        let Some(Outstanding::Registration(r)) = self.outstanding.get_mut(&id) else { return };
        let mut request = r.request.clone();
        let seq = cseq_of(&request.headers).map_or(1, |s| s.0) + 1;
        let expires = if r.removing { 0 } else { r.asked };
        let contact = r.contact.clone();
        let built = next_attempt(&mut request, seq, via)
            .and_then(|()| set_binding(&mut request, &contact, expires))
            .and_then(|()| r.reauthorize(&mut request, &cnonce));
        if let Err(e) = built {
            return self.registration_failed(id, e);
        }
        r.request = request.clone();
        r.in_flight = true;
        r.auth_attempts = 0;
        let target = r.peer.next_hop.clone();
        self.deadlines.file(id, None);
        self.send(id, request, target);
    }

    fn registration_failed(&mut self, id: u64, error: UacError) {
        self.outstanding.remove(&id);
        self.deadlines.file(id, None);
        self.report(UacEvent::Registration { registration: Handle(id), event: RegistrationEvent::Failed(error) });
    }

    fn registration_response(&mut self, now: Instant, id: u64, sent: &Request, response: &Response) {
        if response.status.is_provisional() {
            return;
        }
        let via = self.via();
        let cnonce = self.random_hex();
        let Some(Outstanding::Registration(r)) = self.outstanding.get_mut(&id) else { return };
        if response.status.is_success() {
            r.in_flight = false;
            if r.removing {
                self.outstanding.remove(&id);
                self.deadlines.file(id, None);
                let event = RegistrationEvent::Unregistered;
                return self.report(UacEvent::Registration { registration: Handle(id), event });
            }
            let granted = granted_expiry(response, &r.contact).unwrap_or(r.asked);
            if granted == 0 {
                return self.registration_failed(id, UacError::Rejected(response.status));
            }
            let refresh = refresh_delay(granted);
            r.refresh_at = Some(now + refresh);
            self.deadlines.file(id, r.refresh_at);
            let event = RegistrationEvent::Registered { expires: granted };
            return self.report(UacEvent::Registration { registration: Handle(id), event });
        }
        let mut retry = r.request.clone();
        let contact = r.contact.clone();
        let mut refused = Refused {
            credentials: r.peer.credentials.as_mut(),
            auth_attempts: &mut r.auth_attempts,
            challenge: &mut r.challenge,
            asked: &mut r.asked,
        };
        // §10.2.8: a 423 is answered with the binding asked again for Min-Expires.
        let outcome =
            refused.retry(&mut retry, sent, response, via, &cnonce, |request, min| set_binding(request, &contact, min));
        match outcome {
            Ok(()) => {
                r.request = retry.clone();
                let target = r.peer.next_hop.clone();
                self.send(id, retry, target);
            }
            Err(e) => self.registration_failed(id, e),
        }
    }

    // ---- subscriptions ----------------------------------------------------------------

    /// Subscribes to the `event` package (`presence`, `dialog`, `message-summary`, ...) of
    /// `peer.uri` for `expires` seconds (RFC 6665 §4.1), asking for bodies of type
    /// `accept` when given: [`SubscriptionEvent::Accepted`] follows the 2xx, each NOTIFY
    /// comes as [`SubscriptionEvent::Notified`], and the subscription is refreshed before
    /// it runs out until [`Uac::unsubscribe`] or the notifier ends it.
    pub fn subscribe(
        &mut self,
        now: Instant,
        peer: Peer,
        event: &str,
        expires: u32,
        accept: Option<MediaType>,
    ) -> Result<Handle, UacError> {
        self.tick(now);
        let invalid = |e: sip_message::DecodeError| UacError::Invalid(e.to_string());
        let event = header::Event::decode(&Bytes::copy_from_slice(event.as_bytes())).map_err(invalid)?;
        let id = self.admit()?;
        let call_id = self.call_id()?;
        let mut request = self.new_request(Method::SUBSCRIBE, &peer, NameAddr::new(peer.uri.clone()), call_id, 1)?;
        request.headers.push(Header::contact(&self.config.contact));
        request.headers.push_typed(&event).map_err(invalid)?;
        request.headers.push_typed(&header::Expires(expires)).map_err(invalid)?;
        if let Some(kind) = accept {
            request.headers.push_typed(&header::Accept(kind)).map_err(invalid)?;
        }
        if let Ok(h) = Header::new(HeaderName::ALLOW, "NOTIFY") {
            request.headers.push(h);
        }
        let target = peer.next_hop.clone();
        let subscription = OutgoingSubscription {
            peer,
            request: request.clone(),
            asked: expires,
            auth_attempts: 0,
            challenge: None,
            subscription: None,
            serving: Serving::default(),
            accepted: false,
            unsubscribe_wanted: false,
            ended: false,
        };
        Ok(self.start(id, Outstanding::Subscription(Box::new(subscription)), request, target))
    }

    /// Ends `subscription`: a SUBSCRIBE with Expires 0, whose final NOTIFY ends it with
    /// [`SubscriptionEvent::Terminated`] (RFC 6665 §4.1.2.3); asked before the
    /// subscription is made, it goes once the 2xx comes.
    pub fn unsubscribe(&mut self, now: Instant, subscription: Handle) -> Result<(), UacError> {
        self.tick(now);
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&subscription.0) else {
            return Err(UacError::Invalid("no such subscription".into()));
        };
        match s.subscription.as_mut() {
            Some(sub) if s.accepted => {
                sub.unsubscribe().map_err(|e| UacError::Invalid(e.to_string()))?;
            }
            _ => s.unsubscribe_wanted = true,
        }
        self.settle_subscription(now, subscription.0);
        Ok(())
    }

    /// The subscription `notify` belongs to, when it came before the 2xx to the SUBSCRIBE
    /// (RFC 6665 §4.1.2.4): the Call-ID of a SUBSCRIBE still waiting, and its From tag
    /// as the NOTIFY's To tag.
    fn waiting_for(&self, notify: &Request) -> Option<u64> {
        let call_id = notify.headers.call_id().and_then(Result::ok)?;
        let to_tag = notify.headers.to().and_then(Result::ok)?.tag().map(str::to_owned)?;
        self.outstanding.iter().find_map(|(id, o)| match o {
            Outstanding::Subscription(s) if s.subscription.is_none() => {
                let same_call = s.request.headers.call_id().and_then(Result::ok).is_some_and(|c| c == call_id);
                let ours = s.request.headers.from().and_then(Result::ok).is_some_and(|f| f.tag() == Some(&to_tag));
                (same_call && ours).then_some(*id)
            }
            _ => None,
        })
    }

    /// Makes subscription `id`'s dialog and subscriber side from `response`, a 2xx to its
    /// SUBSCRIBE (or one standing for the NOTIFY that came first).
    fn start_subscription(&mut self, now: Instant, id: u64, response: &Response) -> Result<(), UacError> {
        let via = self.via();
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return Ok(()) };
        let dialog = Dialog::new_uac(&s.request, response).map_err(|e| UacError::Invalid(e.to_string()))?;
        let config = SubscriptionConfig {
            t1: self.config.session.t1,
            via,
            default_expires: s.asked,
            ..SubscriptionConfig::default()
        };
        let sub = Subscription::subscriber(now, dialog, &s.request, response, config, StdEntropy::default())
            .map_err(|e| UacError::Invalid(e.to_string()))?;
        self.by_dialog.insert(sub.dialog().id().clone(), id);
        s.subscription = Some(sub);
        Ok(())
    }

    /// A 2xx standing for `notify`, a NOTIFY that came before the 2xx to `subscribe`: its
    /// To tag is the NOTIFY's From tag, its Contact and Record-Route the NOTIFY's (the
    /// Record-Route reversed, as a UAC reads a response's).
    fn standing_for(subscribe: &Request, notify: &Request) -> Option<Response> {
        let tag = notify.headers.from().and_then(Result::ok)?.tag().map(str::to_owned)?;
        let mut ok = Response::from_request(subscribe, StatusCode::OK).with_to_tag(&tag).ok()?;
        for h in notify.headers.iter().filter(|h| *h.name() == HeaderName::CONTACT) {
            ok.headers.push(h.clone());
        }
        let routes: Vec<_> = notify.headers.iter().filter(|h| *h.name() == HeaderName::RECORD_ROUTE).collect();
        for h in routes.into_iter().rev() {
            ok.headers.push(h.clone());
        }
        Some(ok)
    }

    /// A response to subscription `id`'s requests: the SUBSCRIBE that makes it
    /// (challenges, 423, the 2xx, a refusal) or a refresh in its dialog.
    fn subscription_response(&mut self, now: Instant, id: u64, sent: &Request, response: &Response) {
        let via = self.via();
        let cnonce = self.random_hex();
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
        let initial = sent.method == Method::SUBSCRIBE && cseq_of(&sent.headers) == cseq_of(&s.request.headers);
        if !initial {
            if let Some(sub) = s.subscription.as_mut() {
                sub.receive_response(now, response);
            }
            if sent.method == Method::SUBSCRIBE {
                self.refresh_refused(id, sent, response, &cnonce);
            }
            return self.settle_subscription(now, id);
        }
        if response.status.is_provisional() {
            return;
        }
        if response.status.is_success() {
            if s.subscription.is_none() {
                if let Err(e) = self.start_subscription(now, id, response) {
                    return self.subscription_failed(id, e);
                }
            } else if let Some(sub) = s.subscription.as_mut() {
                // A NOTIFY made the subscription first: the 2xx sets its expiry.
                sub.receive_response(now, response);
            }
            let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
            let expires = response.headers.expires().and_then(Result::ok).map_or(s.asked, |e| e.0);
            s.accepted = true;
            let event = SubscriptionEvent::Accepted { expires };
            self.report(UacEvent::Subscription { subscription: Handle(id), event });
            let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
            if s.unsubscribe_wanted {
                if let Some(sub) = s.subscription.as_mut() {
                    let _ = sub.unsubscribe();
                }
            }
            return self.settle_subscription(now, id);
        }
        let mut retry = s.request.clone();
        let mut refused = Refused {
            credentials: s.peer.credentials.as_mut(),
            auth_attempts: &mut s.auth_attempts,
            challenge: &mut s.challenge,
            asked: &mut s.asked,
        };
        // RFC 6665 §4.1.2.1: a 423 is answered with the SUBSCRIBE asked again for Min-Expires.
        let outcome = refused.retry(&mut retry, sent, response, via, &cnonce, |request, min| {
            request.headers.set_typed(&header::Expires(min)).map_err(|e| UacError::Invalid(e.to_string()))
        });
        match outcome {
            Ok(()) => {
                s.request = retry.clone();
                let target = s.peer.next_hop.clone();
                self.send(id, retry, target);
            }
            Err(e) => self.subscription_failed(id, e),
        }
    }

    /// A refresh (or unsubscribe) of subscription `id` answered `response`. A 2xx ends a
    /// run of challenges; a 401 or 407 the credentials can answer (at most
    /// [`MAX_AUTH_ATTEMPTS`] in a row) is answered with the refresh again, credentials in
    /// it (RFC 6665 §4.1.2.2 keeps the subscription meanwhile). Other refusals are the
    /// subscription's own to handle (it ends, asks again, or tries later).
    fn refresh_refused(&mut self, id: u64, sent: &Request, response: &Response, cnonce: &str) {
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
        if response.status.is_success() {
            s.auth_attempts = 0;
        }
        let Some(sub) = s.subscription.as_mut().filter(|sub| !sub.is_terminated()) else { return };
        if !matches!(response.status.as_u16(), 401 | 407) {
            return;
        }
        s.auth_attempts += 1;
        // Credentials for the new challenge, tried on a copy: wrong ones (challenged again
        // without stale=true) are not sent again.
        let mut scratch = sent.clone();
        let answerable = s.auth_attempts <= MAX_AUTH_ATTEMPTS
            && credentials_for(s.peer.credentials.as_mut(), &mut scratch, sent, response, cnonce).is_ok();
        if !answerable {
            tracing::warn!(status = response.status.as_u16(), "a subscription refresh was refused");
            return;
        }
        s.challenge = Some(Box::new(response.clone()));
        // The same expiry again (0 for an unsubscribe); settling the subscription puts
        // the credentials for the challenge in it.
        let expires = sent.headers.expires().and_then(Result::ok).map_or(s.asked, |e| e.0);
        let _ = sub.refresh(expires);
    }

    fn subscription_failed(&mut self, id: u64, error: UacError) {
        if let Some(Outstanding::Subscription(s)) = self.outstanding.get(&id) {
            // A NOTIFY may have made the subscription already: it is over too.
            let event = if s.subscription.is_some() {
                SubscriptionEvent::Terminated(Some(format!("the SUBSCRIBE failed: {error}")))
            } else {
                SubscriptionEvent::Failed(error)
            };
            self.forget_subscription(id);
            self.report(UacEvent::Subscription { subscription: Handle(id), event });
        }
    }

    fn forget_subscription(&mut self, id: u64) {
        if let Some(Outstanding::Subscription(s)) = self.outstanding.remove(&id) {
            if let Some(sub) = &s.subscription {
                self.by_dialog.remove(sub.dialog().id());
            }
        }
        self.deadlines.file(id, None);
        self.by_key.retain(|_, (owner, _)| *owner != id);
    }

    /// Takes what subscription `id` produced (its responses to NOTIFYs, its refreshes, its
    /// events), files its next deadline, and forgets it once it has ended.
    fn settle_subscription(&mut self, _now: Instant, id: u64) {
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
        let Some(sub) = s.subscription.as_mut() else { return };
        let mut sends = Vec::new();
        let mut events = Vec::new();
        let target = dialog_target(sub.dialog(), &s.peer.next_hop);
        while let Some(output) = sub.poll_output() {
            match output {
                Output::Request(request) => sends.push(request),
                Output::Response(mut response) => {
                    let Some(key) = s.serving.key_for(&response) else { continue };
                    if let Ok(h) = Header::new(HeaderName::SERVER, self.config.user_agent.clone()) {
                        response.headers.push(h);
                    }
                    self.actions.push_back(Action::Respond { key, response });
                }
                Output::Event(_) => {}
            }
        }
        while let Some(event) = sub.poll_event() {
            match event {
                sip_dialog::SubscriptionEvent::Notified { state, body } => {
                    events.push(SubscriptionEvent::Notified { state, body });
                }
                sip_dialog::SubscriptionEvent::Terminated(reason) => {
                    if !s.ended {
                        s.ended = true;
                        events.push(SubscriptionEvent::Terminated(reason));
                    }
                }
            }
        }
        let due = sub.poll_timeout();
        let done = s.ended && s.serving.keys().next().is_none();
        for mut request in sends {
            let cnonce = format!("{:016x}", self.entropy.next_u64());
            let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
            // A refresh the credentials cannot be put in goes without them: the
            // notifier's challenge is then answered as any other (`refresh_refused`).
            let _ = reauthorize(s.peer.credentials.as_mut(), s.challenge.as_deref(), &mut request, &cnonce);
            self.send(id, request, target.clone());
        }
        for event in events {
            self.report(UacEvent::Subscription { subscription: Handle(id), event });
        }
        self.deadlines.file(id, due);
        if done {
            self.forget_subscription(id);
        }
    }

    /// A NOTIFY for subscription `id` that came before the 2xx to its SUBSCRIBE: it makes
    /// the dialog (RFC 6665 §4.1.2.4), and is taken as in it.
    fn early_notify(&mut self, now: Instant, id: u64, key: Option<TransactionKey>, notify: &Request) {
        let Some(Outstanding::Subscription(s)) = self.outstanding.get(&id) else { return };
        let made = match Self::standing_for(&s.request, notify) {
            Some(ok) => self.start_subscription(now, id, &ok),
            None => Err(UacError::Invalid("the NOTIFY has no From tag".into())),
        };
        if made.is_err() {
            // A NOTIFY that cannot make the dialog is refused; the SUBSCRIBE goes on.
            if let Some(key) = key {
                let response = Response::from_request(notify, StatusCode::BAD_REQUEST);
                self.actions.push_back(Action::Respond { key, response });
            }
            return;
        }
        self.subscription_request(now, id, key, notify);
    }

    /// A request in subscription `id`'s dialog (a NOTIFY), through server transaction `key`.
    fn subscription_request(&mut self, now: Instant, id: u64, key: Option<TransactionKey>, request: &Request) {
        let Some(Outstanding::Subscription(s)) = self.outstanding.get_mut(&id) else { return };
        if let (Some(key), Some((seq, method))) = (key, cseq_of(&request.headers)) {
            s.serving.push(seq, method, key);
        }
        if let Some(sub) = s.subscription.as_mut() {
            sub.receive_request(now, request);
        }
        self.settle_subscription(now, id);
    }

    // ---- single requests --------------------------------------------------------------

    /// Sends `method` (OPTIONS, MESSAGE, ...) to `peer.uri` outside any dialog, with
    /// `body` of its type; [`UacEvent::Response`] tells how it went.
    pub fn request(
        &mut self,
        _now: Instant,
        method: Method,
        peer: Peer,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<Handle, UacError> {
        if matches!(method, Method::INVITE | Method::ACK | Method::CANCEL | Method::REGISTER) {
            return Err(UacError::Invalid(format!("{method} has its own call")));
        }
        let id = self.admit()?;
        let call_id = self.call_id()?;
        let mut request = self.new_request(method, &peer, NameAddr::new(peer.uri.clone()), call_id, 1)?;
        if let Some((kind, body)) = body {
            request.set_body(Some(kind), body);
        }
        let target = peer.next_hop.clone();
        let single = Outstanding::Single(Box::new(Single { peer, request: request.clone(), auth_attempts: 0 }));
        Ok(self.start(id, single, request, target))
    }

    fn single_response(&mut self, id: u64, sent: &Request, response: &Response) {
        if response.status.is_provisional() {
            return;
        }
        let via = self.via();
        let cnonce = self.random_hex();
        let Some(Outstanding::Single(s)) = self.outstanding.get_mut(&id) else { return };
        if matches!(response.status.as_u16(), 401 | 407) && s.peer.credentials.is_some() {
            s.auth_attempts += 1;
            let mut retry = s.request.clone();
            let seq = cseq_of(&sent.headers).map_or(1, |c| c.0) + 1;
            let outcome = if s.auth_attempts > MAX_AUTH_ATTEMPTS {
                Err(UacError::AuthFailed("too many challenges".into()))
            } else {
                next_attempt(&mut retry, seq, via)
                    .and_then(|()| credentials_for(s.peer.credentials.as_mut(), &mut retry, sent, response, &cnonce))
            };
            match outcome {
                Ok(()) => {
                    s.request = retry.clone();
                    let target = s.peer.next_hop.clone();
                    self.send(id, retry, target);
                }
                Err(e) => self.single_done(id, Err(e)),
            }
            return;
        }
        self.single_done(id, Ok(Box::new(response.clone())));
    }

    fn single_done(&mut self, id: u64, outcome: Result<Box<Response>, UacError>) {
        self.outstanding.remove(&id);
        self.report(UacEvent::Response { request: Handle(id), outcome });
    }

    // ---- events in ----------------------------------------------------------------------

    /// Records that `request`, sent for `owner`, went out in client transaction `key`.
    pub fn request_sent(&mut self, owner: Handle, request: Request, key: TransactionKey) {
        if let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&owner.0) {
            if request.method == Method::INVITE && cseq_of(&request.headers) == cseq_of(&c.invite.headers) {
                c.invite_key = Some(key.clone());
            }
        }
        if self.outstanding.contains_key(&owner.0) {
            self.by_key.insert(key, (owner.0, request));
        }
    }

    /// Records that `request`, sent for `owner`, could not go (the transport failed).
    pub fn request_failed(&mut self, now: Instant, owner: Handle, request: &Request) {
        self.tick(now);
        self.fail(now, owner.0, request, UacError::TransportFailed);
    }

    fn fail(&mut self, now: Instant, id: u64, request: &Request, error: UacError) {
        match self.outstanding.get_mut(&id) {
            Some(Outstanding::Call(c)) => {
                let is_invite =
                    request.method == Method::INVITE && cseq_of(&request.headers) == cseq_of(&c.invite.headers);
                if is_invite {
                    c.invite_key = None;
                    if !c.answered {
                        let end = if c.cancelled { CallEnd::HungUp } else { CallEnd::Failed(error) };
                        return self.end_call(id, end);
                    }
                } else if request.method != Method::CANCEL {
                    if let Some(session) = c.session.as_mut() {
                        // §8.1.3.1: no response is a 408 for the session (the dialog ends).
                        let timeout = Response::from_request(request, StatusCode::REQUEST_TIMEOUT);
                        let _ = session.receive_response(now, &timeout);
                    }
                    if request.method == Method::BYE {
                        return self.end_call(id, CallEnd::Failed(error));
                    }
                }
                self.settle(id);
            }
            Some(Outstanding::Registration(_)) => self.registration_failed(id, error),
            Some(Outstanding::Subscription(s)) => {
                let initial = cseq_of(&request.headers) == cseq_of(&s.request.headers);
                match s.subscription.as_mut() {
                    Some(sub) if !initial => {
                        // §8.1.3.1: no response is a 408, which ends the subscription.
                        sub.receive_response(now, &Response::from_request(request, StatusCode::REQUEST_TIMEOUT));
                        self.settle_subscription(now, id);
                    }
                    _ => self.subscription_failed(id, error),
                }
            }
            Some(Outstanding::Single(_)) => self.single_done(id, Err(error)),
            None => {}
        }
    }

    /// Fires what is due at `now`: the sessions' timers and registration refreshes.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        while let Some(id) = self.deadlines.pop_due(now) {
            match self.outstanding.get_mut(&id) {
                Some(Outstanding::Call(c)) => {
                    if let Some(session) = c.session.as_mut() {
                        if session.poll_timeout().is_some_and(|t| t <= now) {
                            session.handle_timeout(now);
                        }
                    }
                    if c.cancel_deadline.is_some_and(|t| t <= now) {
                        // §9.1: no final response 64·T1 after the CANCEL; the INVITE is
                        // taken as cancelled and its transaction destroyed.
                        c.cancel_deadline = None;
                        if let Some(key) = c.invite_key.take().filter(|_| !c.invite_final) {
                            self.by_key.remove(&key);
                            self.actions.push_back(Action::Abandon { key });
                            if !c.ended {
                                c.ended = true;
                                let event = CallEvent::Ended(CallEnd::HungUp);
                                self.report(UacEvent::Call { call: Handle(id), event });
                            }
                        }
                    }
                    self.settle(id);
                }
                Some(Outstanding::Registration(r)) if r.refresh_at.is_some_and(|t| t <= now) && !r.in_flight => {
                    r.refresh_at = None;
                    self.send_registration(now, id);
                }
                Some(Outstanding::Subscription(s)) => {
                    if let Some(sub) = s.subscription.as_mut() {
                        sub.handle_timeout(now);
                    }
                    self.settle_subscription(now, id);
                }
                _ => {}
            }
        }
    }

    /// A transaction layer event. Returns it when it is not the UAC's: a request outside
    /// its dialogs, a stray response.
    pub fn handle_event(&mut self, now: Instant, event: Event<Target>) -> Option<Event<Target>> {
        self.tick(now);
        match event {
            Event::Response { key, response } => {
                let Some((id, sent)) = self.by_key.get(&key).cloned() else {
                    return Some(Event::Response { key, response });
                };
                if response.status.is_final() && sent.method != Method::INVITE {
                    self.by_key.remove(&key);
                }
                self.response(now, id, &key, &sent, &response);
                None
            }
            Event::Timeout { key, timer } => match self.by_key.remove(&key) {
                Some((id, sent)) => {
                    self.fail(now, id, &sent, UacError::Timeout);
                    None
                }
                None => Some(Event::Timeout { key, timer }),
            },
            Event::TransportError { key } => match self.by_key.remove(&key) {
                Some((id, sent)) => {
                    self.fail(now, id, &sent, UacError::TransportFailed);
                    None
                }
                None => Some(Event::TransportError { key }),
            },
            Event::Terminated { key } => {
                let mine = self.by_key.remove(&key);
                let mut served = None;
                for (id, o) in &mut self.outstanding {
                    if let Outstanding::Call(c) = o {
                        if c.invite_key.as_ref() == Some(&key) {
                            c.invite_key = None;
                            served = Some(*id);
                        }
                        if c.serving.forget(&key) {
                            served = Some(*id);
                        }
                    }
                }
                match (mine, served) {
                    (_, Some(id)) | (Some((id, _)), None) => {
                        self.settle(id);
                        None
                    }
                    (None, None) => Some(Event::Terminated { key }),
                }
            }
            Event::Request { key, request, from, cancels } => {
                let dialog = DialogId::of_request(&request).ok().flatten();
                let Some(&id) = dialog.as_ref().and_then(|d| self.by_dialog.get(d)) else {
                    if request.method == Method::NOTIFY {
                        if let Some(id) = self.waiting_for(&request) {
                            self.early_notify(now, id, key, &request);
                            return None;
                        }
                    }
                    return Some(Event::Request { key, request, from, cancels });
                };
                if let Some(Outstanding::Subscription(_)) = self.outstanding.get(&id) {
                    self.subscription_request(now, id, key, &request);
                    return None;
                }
                let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return None };
                if let (Some(key), Some((seq, method))) = (key, cseq_of(&request.headers)) {
                    if request.method != Method::ACK {
                        c.serving.push(seq, method, key);
                    }
                }
                if let Some(session) = c.session.as_mut() {
                    session.receive_request(now, &request);
                }
                self.settle(id);
                None
            }
            Event::StrayResponse { response, from } => Some(Event::StrayResponse { response, from }),
        }
    }

    fn response(&mut self, now: Instant, id: u64, key: &TransactionKey, sent: &Request, response: &Response) {
        match self.outstanding.get_mut(&id) {
            Some(Outstanding::Call(c)) => {
                if c.invite_key.as_ref() == Some(key) {
                    self.invite_response(now, id, sent, response);
                } else if sent.method == Method::CANCEL {
                    // The INVITE's 487 ends the call.
                } else if let Some(session) = c.session.as_mut() {
                    let _ = session.receive_response(now, response);
                    // The session tracks its INVITEs, UPDATEs, PRACKs and BYEs; the
                    // failure of any other request of the call (INFO, REFER) is told here.
                    let tracked = matches!(sent.method, Method::INVITE | Method::UPDATE | Method::PRACK | Method::BYE);
                    if !tracked && response.status.is_final() && !response.status.is_success() {
                        let event = CallEvent::RequestFailed { method: sent.method.clone(), status: response.status };
                        self.report(UacEvent::Call { call: Handle(id), event });
                    }
                    let Some(Outstanding::Call(c)) = self.outstanding.get_mut(&id) else { return };
                    if sent.method == Method::BYE && response.status.is_final() && c.hangup_wanted {
                        let end = if response.status.is_success() {
                            CallEnd::HungUp
                        } else {
                            CallEnd::Session(EndReason::DialogGone(response.status))
                        };
                        return self.end_call(id, end);
                    }
                    self.settle(id);
                }
            }
            Some(Outstanding::Registration(_)) => self.registration_response(now, id, sent, response),
            Some(Outstanding::Subscription(_)) => self.subscription_response(now, id, sent, response),
            Some(Outstanding::Single(_)) => self.single_response(id, sent, response),
            None => {}
        }
    }
}

/// Makes `request` the next attempt of a request: CSeq `seq`, a new top Via branch.
fn next_attempt(request: &mut Request, seq: u32, via: Via) -> Result<(), UacError> {
    let invalid = |e: sip_message::DecodeError| UacError::Invalid(e.to_string());
    let cseq = header::CSeq::new(seq, request.method.clone()).map_err(invalid)?;
    request.headers.set_typed(&cseq).map_err(invalid)?;
    request.headers.set_typed(&via).map_err(invalid)
}

/// Puts the credentials answering `response` (a challenge of `sent`) in `retry`.
fn credentials_for(
    credentials: Option<&mut DigestClient>,
    retry: &mut Request,
    sent: &Request,
    response: &Response,
    cnonce: &str,
) -> Result<(), UacError> {
    let Some(credentials) = credentials else { return Err(UacError::Rejected(response.status)) };
    credentials.authorize(retry, sent, response, cnonce).map_err(|e| match e {
        AuthError::Rejected(realm) => UacError::AuthFailed(format!("the credentials for realm {realm} were refused")),
        other => UacError::AuthFailed(other.to_string()),
    })
}

/// Sets the REGISTER's Contact and Expires to `contact` for `expires` seconds.
fn set_binding(request: &mut Request, contact: &NameAddr, expires: u32) -> Result<(), UacError> {
    let invalid = |e: sip_message::DecodeError| UacError::Invalid(e.to_string());
    request.headers.set_typed(&header::Contact::Address(contact.clone())).map_err(invalid)?;
    request.headers.set_typed(&header::Expires(expires)).map_err(invalid)
}

/// The expiry a registrar granted the binding of `contact` (§10.2.4): the `expires` of the
/// Contact in the 2xx naming it, else the 2xx's Expires.
fn granted_expiry(response: &Response, contact: &NameAddr) -> Option<u32> {
    let ours = response
        .headers
        .contact()
        .filter_map(Result::ok)
        .find(|c| c.address().is_some_and(|a| a.uri() == contact.uri()));
    ours.and_then(|c| c.expires()).or_else(|| response.headers.expires().and_then(Result::ok).map(|e| e.0))
}

/// When to refresh a binding granted for `granted` seconds: half-way for short ones, 10
/// minutes ahead of the expiry for long ones.
fn refresh_delay(granted: u32) -> Duration {
    let seconds = if granted > 1200 { granted - 600 } else { granted / 2 };
    Duration::from_secs(u64::from(seconds.max(1)))
}

/// The session description of a message, if it carries one.
fn sdp(response: &Response) -> Option<SessionDescription> {
    let sdp = response.headers.content_type().and_then(Result::ok).is_some_and(|ct| ct.0.is("application", "sdp"));
    if !sdp || response.body.is_empty() {
        return None;
    }
    SessionDescription::parse_lenient(response.body.clone()).ok()
}

/// Where requests in `dialog` go: the first hop of its route set, else its remote
/// target, when that names an IP address — over the transport it names, or the one the
/// call went out on; `fallback` (the call's next hop) otherwise.
fn dialog_target(dialog: &Dialog, fallback: &Target) -> Target {
    let (uri, route) = dialog.request_target();
    let next = route.first().map_or(&uri, |r| r.uri());
    let named = matches!(next, Uri::Sip(sip) if sip.params().transport().is_some());
    match crate::numeric_target(next) {
        Some(target) if named => target,
        Some(target) => Target { transport: fallback.transport.clone(), ..target },
        None => fallback.clone(),
    }
}
