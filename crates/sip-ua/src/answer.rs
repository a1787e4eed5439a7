//! An answering UAS as a sans-IO core: it takes the transaction layer's events and the
//! time, answers every INVITE by an [`AnswerPolicy`] (ring, then 200 with an SDP answer, or
//! reject; an invitation that expires first, per its `Expires`, gets 487), runs each call's
//! [`InviteSession`] (2xx until ACK, BYE, CANCEL, session timers),
//! answers OPTIONS and MESSAGE with 200 (or, asking, leaves them to the application),
//! serves as notifier the subscriptions the application accepts (RFC 6665, RFC 3515),
//! and hands back what to send.
//!
//! [`serve`] drives it, with a transaction layer of its own, over the transports;
//! `sipkit answer` is that driver on the listeners a user names.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_dialog::{
    Dialog, DialogId, EndReason, Entropy, InviteSession, Output, SessionConfig, SessionEvent, StdEntropy, Subscription,
    SubscriptionConfig, SubscriptionEvent,
};
use sip_message::header::MediaType;
use sip_message::{Header, HeaderName, Message, Method, Request, Response, StatusCode, Uri};
use sip_sdp::{Capabilities, Codec, MediaCapability, Negotiator};
use sip_transaction::{Config, Event, TransactionKey, TransactionLayer};
use sip_transport::{Incoming, Sent, Target, Transport, TransportError, TransportSet};
use tokio::sync::mpsc;

use crate::driver::{DEFAULT_QUEUE, Pump, address_request, address_response, now, receive};
use crate::wakeup::Wakeup;
use crate::{Deadlines, IdMap, Serving};

/// The methods the answerer accepts, for Allow.
pub const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, PRACK, INFO";

/// The methods the answerer accepts with [`AnswerPolicy::ask`], for Allow: SUBSCRIBE
/// and REFER too (a subscription the application accepts runs here,
/// [`Answerer::accept_subscription`]; a transfer in a call goes to the application,
/// [`Action::TransferRequested`]).
pub const ALLOWED_METHODS_ASKING: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, PRACK, INFO, SUBSCRIBE, REFER";

/// The methods the answerer accepts with [`AnswerPolicy::serve_events`] and without
/// asking, for Allow: SUBSCRIBE too.
pub const ALLOWED_METHODS_SERVING: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE, PRACK, INFO, SUBSCRIBE";

/// The Allow value of an answerer with `policy`.
fn allowed_methods(policy: &AnswerPolicy) -> &'static str {
    if policy.ask {
        ALLOWED_METHODS_ASKING
    } else if !policy.serve_events.is_empty() {
        ALLOWED_METHODS_SERVING
    } else {
        ALLOWED_METHODS
    }
}

/// The option tags the answerer supports (RFC 3262, RFC 4028): a request requiring
/// any other gets 420.
pub const SUPPORTED_OPTION_TAGS: [&str; 2] = ["100rel", "timer"];

/// The default cap on calls in progress at once; an INVITE beyond it gets 503.
pub const DEFAULT_MAX_CALLS: usize = 10_000;

/// How long, by default, a request outside a call left to the application waits for its
/// answer ([`AnswerPolicy::answer_within`]); well inside the 32 s a UAC waits (Timer F).
pub const DEFAULT_ANSWER_WITHIN: Duration = Duration::from_secs(8);

/// The default cap on requests outside a call waiting for the application at once
/// ([`AnswerPolicy::max_asked`]); one beyond it gets its default answer straight away.
pub const DEFAULT_MAX_ASKED: usize = 1024;

/// The default cap on subscriptions served at once ([`AnswerPolicy::max_subscriptions`]).
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 10_000;

/// How the answerer answers an INVITE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPolicy {
    /// Leave each INVITE to the application: it is reported as [`Action::Offered`] and
    /// answered with [`Answerer::ring`], [`Answerer::accept`], [`Answerer::reject`] or
    /// [`Answerer::respond`] (`ring` and `reject` below then do nothing); and each other
    /// request outside a dialog of a method this side knows that needs no dialog (OPTIONS,
    /// MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, REFER), reported as
    /// [`Action::Asked`] and answered with [`Answerer::answer_request`].
    pub ask: bool,
    /// With `ask`: how long a request outside a call waits for the application's answer
    /// before it gets the default one ([`Answerer::answer_request_by_default`]).
    pub answer_within: Duration,
    /// Send 180 Ringing and wait this long before the final response; `None`: answer at once.
    pub ring: Option<Duration>,
    /// Reject every INVITE with this 300–699 status instead of accepting it.
    pub reject: Option<StatusCode>,
    /// Calls in progress at most (each holds an [`InviteSession`]); an INVITE beyond
    /// them gets 503 Service Unavailable.
    pub max_calls: usize,
    /// With `ask`: requests outside a call waiting for the application at most; one
    /// beyond them gets the default answer at once, so a flood cannot pile them up.
    pub max_asked: usize,
    /// Subscriptions this side serves as notifier at most (each holds a
    /// [`Subscription`]); one accepted beyond them gets 503 instead.
    pub max_subscriptions: usize,
    /// Event packages (RFC 6665 §8.4: `presence`, `dialog`, ...) whose SUBSCRIBEs this
    /// side accepts at once, without asking, and serves active with NOTIFYs that carry no
    /// body (it keeps no state of its own to report): `sipkit answer --serve-event`.
    /// Without `ask`, a SUBSCRIBE for any other package gets 489 with Allow-Events.
    pub serve_events: Vec<String>,
}

impl Default for AnswerPolicy {
    fn default() -> Self {
        Self {
            ask: false,
            answer_within: DEFAULT_ANSWER_WITHIN,
            ring: None,
            reject: None,
            max_calls: DEFAULT_MAX_CALLS,
            max_asked: DEFAULT_MAX_ASKED,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            serve_events: Vec::new(),
        }
    }
}

/// What the answerer hands its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send `response` through server transaction `key`.
    Respond {
        /// The server transaction.
        key: TransactionKey,
        /// The response.
        response: Response,
    },
    /// Send `request` (a BYE of a call the answerer ends, a session refresh, a NOTIFY of
    /// a subscription) in a new client transaction to `target`.
    Request {
        /// The dialog it belongs to: tell [`Answerer::request_sent`] or
        /// [`Answerer::request_failed`] how sending went.
        dialog: DialogHandle,
        /// The request.
        request: Request,
        /// Where it goes: where the INVITE, SUBSCRIBE or REFER that made the dialog came from.
        target: Target,
    },
    /// With [`AnswerPolicy::ask`]: a call is offered; answer it through `call`.
    Offered {
        /// The call.
        call: CallHandle,
        /// Its INVITE (with the caller's offer, when it made one).
        invite: Box<Request>,
    },
    /// With [`AnswerPolicy::ask`]: a request outside a call (OPTIONS, MESSAGE, SUBSCRIBE,
    /// ...: any this side knows but INVITE and those that need a dialog) waits for the application's
    /// answer, through `handle`.
    Asked {
        /// The request's handle.
        handle: RequestHandle,
        /// The request.
        request: Box<Request>,
    },
    /// With [`AnswerPolicy::ask`]: the peer of a call asks this side to call `target`
    /// instead (a REFER, RFC 3515: a blind transfer of this side). It was accepted (202)
    /// and the peer told the call is being tried; tell it how the new call goes with
    /// [`Answerer::transfer_progress`] (a final status ends the transfer; decline it with
    /// one that says so, as 603).
    TransferRequested {
        /// The call.
        call: CallHandle,
        /// The Refer-To URI.
        target: Uri,
    },
    /// A subscription this side served ([`Answerer::accept_subscription`]) ended: it
    /// expired, the subscriber unsubscribed, a NOTIFY failed (`dialog gone`), or this side
    /// terminated it; `reason` is the one the last NOTIFY gave.
    SubscriptionEnded {
        /// The subscription.
        subscription: SubscriptionHandle,
        /// Why it ended.
        reason: Option<String>,
    },
    /// A call ended: one line for a log.
    Report(CallReport),
}

/// Names one request outside a call left to the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestHandle(u64);

/// Names one call of an [`Answerer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallHandle(u64);

/// Names one subscription an [`Answerer`] serves as notifier (RFC 6665; a REFER's,
/// RFC 3515), made by [`Answerer::accept_subscription`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionHandle(u64);

/// The dialog a request of the answerer's is sent in: a call's or a subscription's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DialogHandle {
    /// A call's (a BYE, a session refresh, a NOTIFY of a transfer).
    Call(CallHandle),
    /// A subscription's (a NOTIFY).
    Subscription(SubscriptionHandle),
}

impl DialogHandle {
    /// The number the answerer keeps the call or subscription by (one numbering for both).
    fn id(self) -> u64 {
        match self {
            Self::Call(CallHandle(id)) | Self::Subscription(SubscriptionHandle(id)) => id,
        }
    }
}

/// Why [`Answerer::accept_subscription`] made no subscription.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriptionRefused {
    /// No SUBSCRIBE or REFER waits for an answer under that handle.
    #[error("no SUBSCRIBE or REFER waits for an answer under that handle")]
    Unknown,
    /// The request was answered with this status instead: 423 with Min-Expires for an
    /// Expires below the minimum, 489 for a SUBSCRIBE without an Event, 503 beyond
    /// [`AnswerPolicy::max_subscriptions`], or the status of a dialog that cannot be made.
    #[error("answered {0} instead")]
    Answered(StatusCode),
}

/// How one call went: the answerer reports each call once, when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallReport {
    /// The call.
    pub call: CallHandle,
    /// The call's Call-ID.
    pub call_id: String,
    /// The caller: the INVITE's From URI.
    pub from: String,
    /// Whether the call was answered with 200.
    pub answered: bool,
    /// Why it ended.
    pub ended: EndReason,
}

/// One call: its session, the transactions it answers through and where it came from.
#[derive(Debug)]
struct Call {
    session: InviteSession,
    /// Where the INVITE came from: the target of the requests this side sends.
    peer: Target,
    /// The server transactions waiting for this call's responses, by CSeq number and method.
    serving: Serving,
    /// When the policy's ring delay is over and the INVITE gets its final response.
    answer_at: Option<Instant>,
    /// When the invitation expires (the INVITE's `Expires`, §13.3.1): still without a
    /// final response by then, it is answered 487.
    expires_at: Option<Instant>,
    /// The caller, for the report.
    from: String,
    /// Whether a 200 went out.
    answered: bool,
}

/// One subscription served: its state machine, where the subscriber is, and the
/// transactions of its requests waiting for an answer.
#[derive(Debug)]
struct Notifier {
    subscription: Subscription,
    /// Where the SUBSCRIBE or REFER came from: the target of the NOTIFYs.
    peer: Target,
    /// The server transactions waiting for the subscription's responses.
    serving: Serving,
    /// NOTIFYs handed out and not yet answered: an ended subscription is kept until they are.
    notifying: usize,
    /// Whether [`Action::SubscriptionEnded`] went out.
    reported: bool,
}

/// The answering UAS core. Sans-IO: inputs carry the time, [`Answerer::poll_action`]
/// gives what to send, [`Answerer::poll_timeout`] when to call
/// [`Answerer::handle_timeout`].
#[derive(Debug)]
pub struct Answerer<E: Entropy = StdEntropy> {
    policy: AnswerPolicy,
    session: SessionConfig,
    media_address: IpAddr,
    contact: Uri,
    /// The Contact for calls that come over a given transport, when it is not `contact`.
    contacts: Vec<(sip_message::header::Transport, Uri)>,
    user_agent: String,
    entropy: E,
    calls: IdMap<u64, Call>,
    by_dialog: HashMap<DialogId, u64>,
    by_invite: IdMap<TransactionKey, u64>,
    /// Client transactions of the calls' own requests, to route their responses.
    by_request: IdMap<TransactionKey, (u64, Request)>,
    /// Requests outside a call waiting for the application's answer, by handle, with
    /// where they came from (the numbers are the calls'; the deadlines too).
    asked: IdMap<u64, (TransactionKey, Request, Target)>,
    /// The subscriptions served, by handle (numbered as the request that made each;
    /// `by_dialog`, `by_request` and the deadlines take them as they take calls).
    notifiers: IdMap<u64, Notifier>,
    /// The expiries the subscriptions served are granted (T1 and Via are the session's).
    subscription: SubscriptionConfig,
    deadlines: Deadlines,
    next_call: u64,
    actions: VecDeque<Action>,
    /// The latest time an input brought (for what a session starts while its outputs are
    /// taken: an accepted REFER's subscription).
    clock: Option<Instant>,
}

/// The RTP port the answers offer (no media flows: the answerer only signals).
const MEDIA_PORT: u16 = 40_000;

/// How this side answers a request outside any call that it does not leave to the
/// application: 200 for OPTIONS (with what this side can do) and MESSAGE, 405 (with
/// Allow) for a method it has no use for alone.
fn own_status(method: &Method) -> StatusCode {
    match *method {
        Method::OPTIONS | Method::MESSAGE => StatusCode::OK,
        _ => StatusCode::METHOD_NOT_ALLOWED,
    }
}

/// How this side answers a request outside any call that the application leaves
/// unanswered: as [`own_status`], but a MESSAGE nobody read gets 480 Temporarily
/// Unavailable (a 200 would say it was delivered).
fn default_status(method: &Method) -> StatusCode {
    match *method {
        Method::MESSAGE => StatusCode::TEMPORARILY_UNAVAILABLE,
        _ => own_status(method),
    }
}

/// Whether a 2xx to `method` outside a dialog would make a subscription (RFC 6665 §4.2.1,
/// RFC 3515 §2.4.4): its NOTIFYs would then be owed in a dialog this side does not keep.
pub(crate) fn makes_subscription(method: &Method) -> bool {
    *method == Method::SUBSCRIBE || *method == Method::REFER
}

fn cseq_of(headers: &sip_message::Headers) -> Option<(u32, Method)> {
    headers.cseq().and_then(Result::ok).map(|c| (c.seq, c.method))
}

impl Answerer<StdEntropy> {
    /// An answerer whose Contact is `contact` and whose SDP answers name `media_address`.
    pub fn new(policy: AnswerPolicy, contact: Uri, media_address: IpAddr) -> Self {
        Self::with_entropy(policy, contact, media_address, SessionConfig::default(), StdEntropy::default())
    }
}

impl<E: Entropy> Answerer<E> {
    /// An answerer with the session settings and randomness given.
    pub fn with_entropy(
        policy: AnswerPolicy,
        contact: Uri,
        media_address: IpAddr,
        session: SessionConfig,
        entropy: E,
    ) -> Self {
        Self {
            policy,
            session,
            media_address,
            contact,
            contacts: Vec::new(),
            user_agent: concat!("sipkit/", env!("CARGO_PKG_VERSION")).to_owned(),
            entropy,
            calls: IdMap::default(),
            by_dialog: HashMap::new(),
            by_invite: IdMap::default(),
            by_request: IdMap::default(),
            asked: IdMap::default(),
            notifiers: IdMap::default(),
            subscription: SubscriptionConfig::default(),
            deadlines: Deadlines::default(),
            next_call: 0,
            actions: VecDeque::new(),
            clock: None,
        }
    }

    /// A number for a new call, request asked or subscription (one numbering for all,
    /// so the deadlines and routing maps take any of them).
    fn next_id(&mut self) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        id
    }

    fn tick(&mut self, now: Instant) {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
    }

    /// Gives calls that come over `transport` the Contact `contact` (the listener of that
    /// transport), so the caller's requests in the dialog come back the same way.
    pub fn with_contact_for(mut self, transport: sip_message::header::Transport, contact: Uri) -> Self {
        self.contacts.retain(|(t, _)| *t != transport);
        self.contacts.push((transport, contact));
        self
    }

    /// Grants the subscriptions this side serves the expiries of `config`: the one a
    /// SUBSCRIBE without Expires gets, the longest, and the shortest taken (below it:
    /// 423). Its T1 and Via are not used: those are the session's.
    pub fn with_subscription_config(mut self, config: SubscriptionConfig) -> Self {
        self.subscription = config;
        self
    }

    /// Calls in progress.
    pub fn calls(&self) -> usize {
        self.calls.len()
    }

    /// Subscriptions served: running, or ended with a last NOTIFY not yet answered.
    pub fn subscriptions(&self) -> usize {
        self.notifiers.len()
    }

    /// The Contact for what comes over `transport`.
    fn contact_for(&self, transport: &sip_message::header::Transport) -> &Uri {
        self.contacts.iter().find(|(t, _)| t == transport).map_or(&self.contact, |(_, c)| c)
    }

    /// The next thing to send or report.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.next()
    }

    /// Fires what is due at `now`: ring delays over, invitations expired (487), the
    /// sessions' and subscriptions' timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        while let Some(id) = self.deadlines.pop_due(now) {
            if self.asked.contains_key(&id) {
                let _ = self.answer_request_by_default(RequestHandle(id));
                continue;
            }
            let Some(call) = self.calls.get_mut(&id) else {
                if let Some(notifier) = self.notifiers.get_mut(&id) {
                    notifier.subscription.handle_timeout(now);
                    self.settle_subscription(id);
                }
                continue;
            };
            if call.expires_at.is_some_and(|e| e <= now) {
                // §13.3.1: the invitation expired before a final response.
                (call.expires_at, call.answer_at) = (None, None);
                let _ = call.session.reject(StatusCode::REQUEST_TERMINATED);
            }
            if call.answer_at.is_some_and(|a| a <= now) {
                call.answer_at = None;
                // The INVITE may be gone (cancelled) by now: nothing to answer then.
                let _ = match self.policy.reject {
                    Some(status) => call.session.reject(status),
                    None => call.session.accept(now),
                };
            }
            if call.session.poll_timeout().is_some_and(|t| t <= now) {
                call.session.handle_timeout(now);
            }
            self.settle(id);
        }
    }

    /// A transaction layer event.
    pub fn handle_event(&mut self, now: Instant, event: Event<Target>) {
        self.tick(now);
        match event {
            Event::Request { key, request, from, cancels } => self.request(now, key, request, from, cancels),
            Event::Response { key, response } => {
                let final_response = response.status.is_final();
                if let Some(&(id, _)) = self.by_request.get(&key) {
                    if final_response {
                        self.by_request.remove(&key);
                    }
                    self.take_response(now, id, &response);
                }
            }
            Event::Timeout { key, .. } | Event::TransportError { key } => {
                if let Some((id, request)) = self.by_request.remove(&key) {
                    self.failed(now, id, &request);
                }
            }
            Event::Terminated { key } => {
                // A NOTIFY whose transaction ended unanswered counts as failed, so its
                // subscription is not kept waiting for the answer.
                if let Some((id, request)) = self.by_request.remove(&key) {
                    if self.notifiers.contains_key(&id) {
                        self.failed(now, id, &request);
                    }
                }
                if let Some(id) = self.by_invite.remove(&key) {
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.serving.forget(&key);
                    }
                    self.settle(id);
                }
            }
            Event::StrayResponse { .. } => {}
        }
    }

    fn respond_status(&mut self, key: TransactionKey, request: &Request, status: StatusCode) {
        self.respond_with(key, request, status, Vec::new());
    }

    /// Answers a request outside any call: with a To tag of its own when the request's
    /// To has none (§8.2.6.2), `extra` headers, and Allow, Accept and Supported where the
    /// answer is about what this side can do (OPTIONS, 405, 501).
    fn respond_with(&mut self, key: TransactionKey, request: &Request, status: StatusCode, extra: Vec<Header>) {
        let mut response = Response::from_request(request, status);
        for h in extra {
            response.headers.push(h);
        }
        self.respond_outside(key, request, response);
    }

    /// Sends `response` to `request`, outside any dialog: with a To tag of its own when the
    /// request's To has none, and what this side can do where it is about that.
    fn respond_outside(&mut self, key: TransactionKey, request: &Request, mut response: Response) {
        if request.headers.to().and_then(Result::ok).is_some_and(|t| t.tag().is_none()) {
            response = response.clone().with_to_tag(&crate::new_tag(&mut self.entropy)).unwrap_or(response);
        }
        let capabilities = matches!(response.status, StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED)
            || request.method == Method::OPTIONS;
        decorate(&mut response, &self.user_agent, capabilities.then(|| allowed_methods(&self.policy)));
        self.actions.push_back(Action::Respond { key, response });
    }

    fn request(
        &mut self,
        now: Instant,
        key: Option<TransactionKey>,
        request: Request,
        from: Target,
        cancels: Option<Box<TransactionKey>>,
    ) {
        let Some(key) = key else {
            // An ACK for a 2xx whose transaction is gone, or a stray one: its dialog takes it.
            if request.method == Method::ACK {
                let dialog_id = DialogId::of_request(&request).ok().flatten();
                if let Some(&id) = dialog_id.as_ref().and_then(|d| self.by_dialog.get(d)) {
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.session.receive_request(now, &request);
                    }
                    self.settle(id);
                }
            }
            return;
        };
        if request.method == Method::ACK {
            if let Some(&id) = self.by_invite.get(&key) {
                if let Some(call) = self.calls.get_mut(&id) {
                    call.session.receive_request(now, &request);
                }
                self.settle(id);
            }
            return;
        }
        // A UAS decodes every header it knows before acting on a request.
        let message = Message::Request(request);
        let valid = message.validate();
        let Message::Request(request) = message else { return };
        if let Err(e) = valid {
            let status = e.status().unwrap_or(StatusCode::BAD_REQUEST);
            tracing::debug!(method = %request.method, error = %e, status = status.as_u16(), "refused: a header does not decode");
            self.respond_status(key, &request, status);
            return;
        }
        if let Some((status, headers)) = refusal(&request) {
            tracing::debug!(method = %request.method, status = status.as_u16(), "refused (§8.2)");
            self.respond_with(key, &request, status, headers);
            return;
        }
        // After the validation, which decoded From and To: their tags come from there.
        let dialog_id = DialogId::of_request(&request).ok().flatten();
        if request.method == Method::CANCEL {
            let Some(id) = cancels.and_then(|k| self.by_invite.get(&k).copied()) else {
                // §9.2: a CANCEL matching no transaction gets 481.
                self.respond_status(key, &request, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
                return;
            };
            let Some(call) = self.calls.get_mut(&id) else { return };
            call.serving.push(cseq_of(&request.headers).map_or(0, |c| c.0), Method::CANCEL, key);
            call.answer_at = None;
            call.session.receive_cancel(&request);
            self.settle(id);
            return;
        }
        if let Some(dialog_id) = dialog_id {
            let Some(&id) = self.by_dialog.get(&dialog_id) else {
                self.respond_status(key, &request, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST);
                return;
            };
            let Some(call) = self.calls.get_mut(&id) else {
                // A subscription's: a refresh or unsubscribe, or a request it answers 405.
                if let Some(notifier) = self.notifiers.get_mut(&id) {
                    if let Some((seq, method)) = cseq_of(&request.headers) {
                        notifier.serving.push(seq, method, key);
                    }
                    notifier.subscription.receive_request(now, &request);
                    self.settle_subscription(id);
                }
                return;
            };
            if let Some((seq, method)) = cseq_of(&request.headers) {
                call.serving.push(seq, method, key.clone());
            }
            if request.method == Method::INVITE {
                self.by_invite.insert(key, id);
            }
            call.session.receive_request(now, &request);
            self.settle(id);
            return;
        }
        match request.method {
            Method::INVITE => self.offered(now, key, request, from),
            // Out of any dialog: nothing to end or acknowledge (§15.1.2, RFC 3262 §4).
            Method::BYE | Method::PRACK | Method::UPDATE | Method::INFO => {
                self.respond_status(key, &request, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST)
            }
            Method::SUBSCRIBE if self.serves_event(&request) => {
                let id = self.next_id();
                // Refused ones are answered inside, as the error says.
                let _ = self.serve_subscription(now, id, (key, request, from), true, None);
            }
            // RFC 6665 §8.2.2: a package this side does not serve (and cannot ask about).
            Method::SUBSCRIBE if !self.policy.ask && !self.policy.serve_events.is_empty() => {
                let events = self.policy.serve_events.join(", ");
                let allow_events = Header::new(HeaderName::ALLOW_EVENTS, events).into_iter().collect();
                self.respond_with(key, &request, StatusCode::BAD_EVENT, allow_events);
            }
            // RFC 3515 §2.4.1: a REFER without one valid Refer-To is refused before the
            // application is asked.
            Method::REFER
                if self.policy.ask
                    && !matches!(request.headers.typed::<sip_message::header::ReferTo>(), Some(Ok(_))) =>
            {
                self.respond_status(key, &request, StatusCode::BAD_REQUEST)
            }
            _ if self.policy.ask && self.asked.len() >= self.policy.max_asked => {
                self.respond_status(key, &request, default_status(&request.method))
            }
            _ if self.policy.ask => {
                let id = self.next_id();
                self.deadlines.file(id, Some(now + self.policy.answer_within));
                self.actions.push_back(Action::Asked { handle: RequestHandle(id), request: Box::new(request.clone()) });
                self.asked.insert(id, (key, request, from));
            }
            _ => self.respond_status(key, &request, own_status(&request.method)),
        }
    }

    fn offered(&mut self, now: Instant, key: TransactionKey, invite: Request, from: Target) {
        if self.calls.len() >= self.policy.max_calls {
            self.respond_status(key, &invite, StatusCode::SERVICE_UNAVAILABLE);
            return;
        }
        let tag = crate::new_tag(&mut self.entropy);
        let dialog = match Dialog::new_uas_early(&invite, &tag, self.contact_for(&from.transport)) {
            Ok(d) => d,
            Err(e) => {
                self.respond_status(key, &invite, e.status());
                return;
            }
        };
        let caps = Capabilities::new(
            self.media_address,
            vec![MediaCapability::audio(MEDIA_PORT, vec![Codec::pcmu(), Codec::pcma(), Codec::telephone_event()])],
        );
        let negotiator = Negotiator::new(caps, self.entropy.next_u64() >> 1);
        let entropy = StdEntropy::default();
        // What the call keeps of the INVITE, read before the session takes it.
        let seq = cseq_of(&invite.headers).map_or(0, |c| c.0);
        let expires_at = invite
            .headers
            .typed::<sip_message::header::Expires>()
            .and_then(Result::ok)
            .and_then(|expires| now.checked_add(Duration::from_secs(u64::from(expires.0))));
        let from_uri =
            invite.headers.from().and_then(Result::ok).map(|f| f.uri().as_str().to_owned()).unwrap_or_default();
        let asked = self.policy.ask.then(|| Box::new(invite.clone()));
        let mut session = match InviteSession::uas(dialog, invite, negotiator, self.session.clone(), entropy) {
            Ok(s) => s,
            Err(refused) => {
                self.respond_status(key, &refused.invite, StatusCode::NOT_ACCEPTABLE_HERE);
                return;
            }
        };
        let id = self.next_id();
        let mut answer_at = None;
        match (asked, self.policy.ring) {
            (Some(invite), _) => {
                self.actions.push_back(Action::Offered { call: CallHandle(id), invite });
            }
            (None, Some(delay)) => {
                // Ringing cannot fail for an INVITE being answered; without it, the
                // final response still goes at the end of the delay.
                let _ = session.ring(now, StatusCode::RINGING);
                answer_at = Some(now + delay);
            }
            (None, None) => {
                let _ = match self.policy.reject {
                    Some(status) => session.reject(status),
                    None => session.accept(now),
                };
            }
        }
        let mut serving = Serving::default();
        serving.push(seq, Method::INVITE, key.clone());
        let dialog_id = session.dialog().id().clone();
        self.calls
            .insert(id, Call { session, peer: from, serving, answer_at, expires_at, from: from_uri, answered: false });
        self.by_dialog.insert(dialog_id, id);
        self.by_invite.insert(key, id);
        self.settle(id);
    }

    /// Takes what call `id`'s session produced, files its next deadline, and forgets the
    /// call once it has ended and its transactions are done.
    fn settle(&mut self, id: u64) {
        let Some(call) = self.calls.get_mut(&id) else { return self.settle_subscription(id) };
        while let Some(output) = call.session.poll_output() {
            match output {
                Output::Response(mut response) => {
                    let Some(key) = call.serving.key_for(&response) else { continue };
                    let to_invite = cseq_of(&response.headers).is_some_and(|(_, m)| m == Method::INVITE);
                    call.answered |= to_invite && response.status.is_success();
                    if to_invite && response.status.is_final() {
                        call.expires_at = None;
                    }
                    decorate(&mut response, &self.user_agent, None);
                    self.actions.push_back(Action::Respond { key, response });
                }
                Output::Request(request) => {
                    self.actions.push_back(Action::Request {
                        dialog: DialogHandle::Call(CallHandle(id)),
                        request,
                        target: call.peer.clone(),
                    });
                }
                Output::Event(SessionEvent::Request(request)) => {
                    // In-dialog requests the session leaves to the application: OPTIONS,
                    // INFO and MESSAGE are taken, anything else is not allowed.
                    let status = crate::in_dialog_status(&request.method);
                    let mut response = Response::from_request(&request, status);
                    // An OPTIONS in a call is answered as one outside (§11.2): with what
                    // this side can do, as a 405 is.
                    let capabilities = status == StatusCode::METHOD_NOT_ALLOWED || request.method == Method::OPTIONS;
                    let allow = capabilities.then(|| allowed_methods(&self.policy));
                    decorate(&mut response, &self.user_agent, allow);
                    call.session.send_response(response);
                }
                // A transfer (RFC 3515) goes to the application, accepted at once (202,
                // then a NOTIFY of 100 Trying, both taken in this loop); without one to
                // place the new call, this side does not take transfers: 405 (§8.2.1, a
                // method it knows but does not take), with Allow.
                Output::Event(SessionEvent::Refer { target, request }) if self.policy.ask => {
                    // A REFER arrives through `handle_event`, which set the clock.
                    let accepted = match self.clock {
                        Some(now) => call.session.accept_refer(now, &request),
                        None => Err(sip_dialog::SessionError::State("no time yet")),
                    };
                    match accepted {
                        Ok(()) => self.actions.push_back(Action::TransferRequested { call: CallHandle(id), target }),
                        Err(_) => call
                            .session
                            .send_response(Response::from_request(&request, StatusCode::SERVER_INTERNAL_ERROR)),
                    }
                }
                Output::Event(SessionEvent::Refer { request, .. }) => {
                    let mut response = Response::from_request(&request, StatusCode::METHOD_NOT_ALLOWED);
                    decorate(&mut response, &self.user_agent, Some(allowed_methods(&self.policy)));
                    call.session.send_response(response);
                }
                Output::Event(SessionEvent::Ended(reason)) => {
                    tracing::info!(call_id = %String::from_utf8_lossy(call.session.dialog().id().call_id()), ?reason, "call ended");
                    self.actions.push_back(Action::Report(CallReport {
                        call: CallHandle(id),
                        call_id: String::from_utf8_lossy(call.session.dialog().id().call_id()).into_owned(),
                        from: call.from.clone(),
                        answered: call.answered,
                        ended: reason,
                    }));
                }
                Output::Event(_) => {}
            }
        }
        let session_due = call.session.poll_timeout();
        let next = [call.answer_at, call.expires_at, session_due].into_iter().flatten().min();
        self.deadlines.file(id, next);
        let done = call.session.is_ended() && call.serving.only_invites() && session_due.is_none();
        if done {
            let Some(call) = self.calls.remove(&id) else { return };
            self.deadlines.file(id, None);
            self.by_dialog.remove(call.session.dialog().id());
            for key in call.serving.keys() {
                self.by_invite.remove(key);
            }
            self.by_request.retain(|_, (c, _)| *c != id);
        }
    }

    /// Sends 180 Ringing for offered `call` (reliably when both sides support 100rel).
    pub fn ring(&mut self, now: Instant, call: CallHandle) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, |session| session.ring(now, StatusCode::RINGING))
    }

    /// Accepts offered `call`: 200 with the SDP answer to its offer (or an offer of
    /// this side's when it had none).
    pub fn accept(&mut self, now: Instant, call: CallHandle) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, |session| session.accept(now))
    }

    /// Rejects offered `call` with `status` (300–699).
    pub fn reject(&mut self, call: CallHandle, status: StatusCode) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, |session| session.reject(status))
    }

    /// Redirects offered `call` with a 3xx naming `targets` in Contact.
    pub fn redirect(
        &mut self,
        call: CallHandle,
        status: StatusCode,
        targets: &[Uri],
    ) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, |session| session.redirect(status, targets))
    }

    /// Answers offered `call` with any `status` and the `extra` headers: a 1xx as
    /// [`ring`](Self::ring), a 2xx as [`accept`](Self::accept) (with the SDP answer), a
    /// 300–699 as [`reject`](Self::reject).
    pub fn respond(
        &mut self,
        now: Instant,
        call: CallHandle,
        status: StatusCode,
        extra: Vec<Header>,
    ) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, |session| session.respond(now, status, extra))
    }

    /// Answers the request outside a call `handle` names with `status` (200–699) and the
    /// `extra` headers, a To tag of this side's, and for OPTIONS what this side can do.
    pub fn answer_request(
        &mut self,
        handle: RequestHandle,
        status: StatusCode,
        extra: Vec<Header>,
    ) -> Result<(), sip_dialog::SessionError> {
        if !status.is_final() {
            return Err(sip_dialog::SessionError::State("a request outside a call takes a 200-699 status"));
        }
        const UNKNOWN: sip_dialog::SessionError = sip_dialog::SessionError::State("no such request, or answered");
        let (_, request, _) = self.asked.get(&handle.0).ok_or(UNKNOWN)?;
        if status.is_success() && makes_subscription(&request.method) {
            return Err(sip_dialog::SessionError::State(
                "a 2xx to SUBSCRIBE or REFER makes a subscription: accept it with accept_subscription",
            ));
        }
        let (key, request, _) = self.asked.remove(&handle.0).ok_or(UNKNOWN)?;
        self.deadlines.file(handle.0, None);
        self.respond_with(key, &request, status, extra);
        Ok(())
    }

    /// Answers the request `handle` names as this side does when the application does
    /// not: OPTIONS with 200 and what this side can do, MESSAGE with 480 Temporarily
    /// Unavailable (nobody read it), any other method with 405 and Allow.
    pub fn answer_request_by_default(&mut self, handle: RequestHandle) -> Result<(), sip_dialog::SessionError> {
        let Some((_, request, _)) = self.asked.get(&handle.0) else {
            return Err(sip_dialog::SessionError::State("no such request, or answered"));
        };
        let status = default_status(&request.method);
        self.answer_request(handle, status, Vec::new())
    }

    /// Accepts the SUBSCRIBE or REFER outside a call that `handle` names (RFC 6665
    /// §4.2.1, RFC 3515 §2.4.2) and serves the subscription it makes: 200 (202 for a
    /// REFER) with the Expires granted (the one asked for, by default an hour when none and
    /// a day at most: [`with_subscription_config`](Self::with_subscription_config)) and a
    /// Contact, then at once the first NOTIFY, `active` or pending, with `body` (for
    /// a REFER, a `message/sipfrag` of how the referred request goes). From then on this
    /// side answers the subscriber's refreshes, each with a NOTIFY of the state, and ends
    /// the subscription when it expires or the subscriber unsubscribes (a last NOTIFY,
    /// `terminated;reason=timeout`) or a NOTIFY fails, reporting
    /// [`Action::SubscriptionEnded`]. Tell the subscriber of changes with
    /// [`notify`](Self::notify). A SUBSCRIBE asking for a non-zero Expires below the
    /// shortest taken (a minute by default) gets 423 with Min-Expires instead, one without
    /// an Event 489, one beyond [`AnswerPolicy::max_subscriptions`] 503: the error says
    /// which.
    pub fn accept_subscription(
        &mut self,
        now: Instant,
        handle: RequestHandle,
        active: bool,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<SubscriptionHandle, SubscriptionRefused> {
        self.tick(now);
        // Anything else stays waiting for its answer.
        if !self.asked.get(&handle.0).is_some_and(|(_, r, _)| makes_subscription(&r.method)) {
            return Err(SubscriptionRefused::Unknown);
        }
        let Some((key, request, from)) = self.asked.remove(&handle.0) else { return Err(SubscriptionRefused::Unknown) };
        self.deadlines.file(handle.0, None);
        // The subscription keeps the number the request was asked under.
        self.serve_subscription(now, handle.0, (key, request, from), active, body)
    }

    /// Whether `subscribe` names a package of [`AnswerPolicy::serve_events`].
    fn serves_event(&self, subscribe: &Request) -> bool {
        let Some(Ok(event)) = subscribe.headers.typed::<sip_message::header::Event>() else { return false };
        self.policy.serve_events.iter().any(|served| served.eq_ignore_ascii_case(event.package()))
    }

    /// Makes subscription `id` of what `request` (a SUBSCRIBE or REFER from `from`,
    /// waiting in server transaction `key`) asks for and serves it, or answers why not.
    fn serve_subscription(
        &mut self,
        now: Instant,
        id: u64,
        (key, request, from): (TransactionKey, Request, Target),
        active: bool,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<SubscriptionHandle, SubscriptionRefused> {
        if self.notifiers.len() >= self.policy.max_subscriptions {
            self.respond_status(key, &request, StatusCode::SERVICE_UNAVAILABLE);
            return Err(SubscriptionRefused::Answered(StatusCode::SERVICE_UNAVAILABLE));
        }
        let tag = crate::new_tag(&mut self.entropy);
        let dialog = match Dialog::new_uas_early(&request, &tag, self.contact_for(&from.transport)) {
            Ok(dialog) => dialog,
            Err(e) => {
                self.respond_status(key, &request, e.status());
                return Err(SubscriptionRefused::Answered(e.status()));
            }
        };
        let config =
            SubscriptionConfig { t1: self.session.t1, via: self.session.via.clone(), ..self.subscription.clone() };
        let subscription =
            match Subscription::notifier(now, dialog, &request, active, body, config, StdEntropy::default()) {
                Ok(subscription) => subscription,
                Err(refusal) => {
                    let status = refusal.status;
                    self.respond_outside(key, &request, *refusal);
                    return Err(SubscriptionRefused::Answered(status));
                }
            };
        let mut serving = Serving::default();
        if let Some((seq, method)) = cseq_of(&request.headers) {
            serving.push(seq, method, key);
        }
        self.by_dialog.insert(subscription.dialog().id().clone(), id);
        self.notifiers.insert(id, Notifier { subscription, peer: from, serving, notifying: 0, reported: false });
        self.settle_subscription(id);
        Ok(SubscriptionHandle(id))
    }

    /// Tells the subscriber of `subscription` the resource's new state: a NOTIFY with
    /// `body`.
    pub fn notify(
        &mut self,
        now: Instant,
        subscription: SubscriptionHandle,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<(), sip_dialog::SessionError> {
        self.serve(now, subscription, |s| s.notify(now, body))
    }

    /// Makes pending `subscription` active (the subscriber was authorized): a NOTIFY
    /// saying so, with `body`.
    pub fn activate_subscription(
        &mut self,
        now: Instant,
        subscription: SubscriptionHandle,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<(), sip_dialog::SessionError> {
        self.serve(now, subscription, |s| s.activate(now, body))
    }

    /// Ends `subscription` from this side: a last NOTIFY, `terminated` with `reason`
    /// (RFC 6665 §4.2.2: `noresource`, `rejected`, `deactivated`, `giveup`, ...; empty
    /// for none) and `body`.
    pub fn terminate_subscription(
        &mut self,
        now: Instant,
        subscription: SubscriptionHandle,
        reason: &str,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<(), sip_dialog::SessionError> {
        self.serve(now, subscription, |s| s.terminate(now, reason, body))
    }

    fn serve(
        &mut self,
        now: Instant,
        subscription: SubscriptionHandle,
        act: impl FnOnce(&mut Subscription) -> Result<(), sip_dialog::DialogError>,
    ) -> Result<(), sip_dialog::SessionError> {
        self.tick(now);
        let notifier =
            self.notifiers.get_mut(&subscription.0).ok_or(sip_dialog::SessionError::State("no such subscription"))?;
        let done = act(&mut notifier.subscription);
        self.settle_subscription(subscription.0);
        Ok(done?)
    }

    /// Takes what subscription `id` produced, files its next deadline, reports its end,
    /// and forgets it once it has ended and its last NOTIFY was answered.
    fn settle_subscription(&mut self, id: u64) {
        let Some(notifier) = self.notifiers.get_mut(&id) else { return };
        while let Some(output) = notifier.subscription.poll_output() {
            match output {
                Output::Response(mut response) => {
                    let Some(key) = notifier.serving.key_for(&response) else { continue };
                    decorate(&mut response, &self.user_agent, None);
                    self.actions.push_back(Action::Respond { key, response });
                }
                Output::Request(request) => {
                    notifier.notifying += 1;
                    self.actions.push_back(Action::Request {
                        dialog: DialogHandle::Subscription(SubscriptionHandle(id)),
                        request,
                        target: notifier.peer.clone(),
                    });
                }
                Output::Event(_) => {}
            }
        }
        while let Some(event) = notifier.subscription.poll_event() {
            if let SubscriptionEvent::Terminated(reason) = event {
                if !std::mem::replace(&mut notifier.reported, true) {
                    tracing::info!(call_id = %String::from_utf8_lossy(notifier.subscription.dialog().id().call_id()), ?reason, "subscription ended");
                    let subscription = SubscriptionHandle(id);
                    self.actions.push_back(Action::SubscriptionEnded { subscription, reason });
                }
            }
        }
        self.deadlines.file(id, notifier.subscription.poll_timeout());
        if notifier.subscription.is_terminated() && notifier.notifying == 0 {
            let Some(notifier) = self.notifiers.remove(&id) else { return };
            self.by_dialog.remove(notifier.subscription.dialog().id());
            self.by_request.retain(|_, (n, _)| *n != id);
        }
    }

    /// Ends answered `call` with BYE.
    pub fn hangup(&mut self, call: CallHandle) -> Result<(), sip_dialog::SessionError> {
        self.answer(call, InviteSession::bye)
    }

    /// Tells the peer of `call` that asked for a transfer ([`Action::TransferRequested`])
    /// how the call to its target goes: a NOTIFY with `status` (RFC 3515 §2.4.5); a final
    /// status is the last.
    pub fn transfer_progress(
        &mut self,
        now: Instant,
        call: CallHandle,
        status: StatusCode,
    ) -> Result<(), sip_dialog::SessionError> {
        self.tick(now);
        self.answer(call, |session| session.refer_progress(now, status))
    }

    fn answer(
        &mut self,
        call: CallHandle,
        act: impl FnOnce(&mut InviteSession) -> Result<(), sip_dialog::SessionError>,
    ) -> Result<(), sip_dialog::SessionError> {
        let c = self.calls.get_mut(&call.0).ok_or(sip_dialog::SessionError::State("no such call"))?;
        c.answer_at = None;
        let done = act(&mut c.session);
        self.settle(call.0);
        done
    }

    /// Records that `request`, sent in `dialog`, went out in client transaction `key`:
    /// its responses go to the call's session or the subscription.
    pub fn request_sent(&mut self, dialog: DialogHandle, request: Request, key: TransactionKey) {
        let id = dialog.id();
        if self.calls.contains_key(&id) || self.notifiers.contains_key(&id) {
            self.by_request.insert(key, (id, request));
        }
    }

    /// Records that `request`, sent in `dialog`, got no response (the transport failed or
    /// its transaction timed out): the call's session or the subscription takes it as a
    /// 408 (§8.1.3.1), which ends the dialog.
    pub fn request_failed(&mut self, now: Instant, dialog: DialogHandle, request: &Request) {
        self.failed(now, dialog.id(), request);
    }

    fn failed(&mut self, now: Instant, id: u64, request: &Request) {
        let timeout = Response::from_request(request, StatusCode::REQUEST_TIMEOUT);
        self.take_response(now, id, &timeout);
    }

    /// Gives `response`, to a request call or subscription `id` sent, to its session or
    /// subscription (a final one answers a NOTIFY waited for), and settles it.
    fn take_response(&mut self, now: Instant, id: u64, response: &Response) {
        if let Some(call) = self.calls.get_mut(&id) {
            // A response the session cannot take is dropped (it ends on its own timers);
            // after a 408 an error only says it had ended already.
            let _ = call.session.receive_response(now, response);
        } else if let Some(notifier) = self.notifiers.get_mut(&id) {
            notifier.subscription.receive_response(now, response);
            let answered = usize::from(response.status.is_final());
            notifier.notifying = notifier.notifying.saturating_sub(answered);
        }
        self.settle(id);
    }
}

/// Adds Server (when absent) and, given `allow` (the methods this side takes), what this
/// side can do: Allow, Accept and Supported.
fn decorate(response: &mut Response, user_agent: &str, allow: Option<&str>) {
    let has_server = response.headers.contains(&HeaderName::SERVER);
    let mut add = |name, value: &str| {
        if let Ok(h) = Header::new(name, value.to_owned()) {
            response.headers.push(h);
        }
    };
    if let Some(allow) = allow {
        add(HeaderName::ALLOW, allow);
        add(HeaderName::ACCEPT, "application/sdp");
        add(HeaderName::SUPPORTED, &SUPPORTED_OPTION_TAGS.join(", "));
    }
    if !has_server {
        add(HeaderName::SERVER, user_agent);
    }
}

/// The checks of a UAS before it acts on a request (§8.2), in the RFC's order: the
/// method (501 for one it does not know, with Allow), the Request-URI scheme (416), the
/// option tags it must support (420 with Unsupported; not for ACK or CANCEL), the body's
/// type and coding (415 with Accept or Accept-Encoding; MESSAGE and INFO take any type), and for an
/// INVITE, whether the caller accepts the SDP a 200 carries (406). `None`: go ahead.
fn refusal(request: &Request) -> Option<(StatusCode, Vec<Header>)> {
    let header = |name, value: &str| Header::new(name, value.to_owned()).into_iter().collect::<Vec<_>>();
    if request.method.is_extension() {
        return Some((StatusCode::NOT_IMPLEMENTED, Vec::new()));
    }
    if matches!(request.uri, Uri::Absolute(_)) {
        return Some((StatusCode::UNSUPPORTED_URI_SCHEME, Vec::new()));
    }
    if request.method != Method::ACK && request.method != Method::CANCEL {
        let unknown: Vec<String> = request
            .headers
            .require()
            .filter_map(Result::ok)
            .map(|r| String::from_utf8_lossy(&r.0).into_owned())
            .filter(|tag| !SUPPORTED_OPTION_TAGS.iter().any(|s| s.eq_ignore_ascii_case(tag)))
            .collect();
        if !unknown.is_empty() {
            return Some((StatusCode::BAD_EXTENSION, header(HeaderName::UNSUPPORTED, &unknown.join(", "))));
        }
    }
    // MESSAGE carries any type (RFC 3428), and so does INFO (RFC 6086; DTMF relay and
    // other legacy uses); the requests of event packages (RFC 6665, RFC 3903, RFC 3515)
    // carry their package's types, for the application to judge: only the bodies of the
    // session's requests must be SDP.
    let any_type = matches!(
        request.method,
        Method::MESSAGE | Method::INFO | Method::SUBSCRIBE | Method::NOTIFY | Method::PUBLISH | Method::REFER
    );
    if !request.body.is_empty() && !any_type {
        let sdp = request.headers.content_type().and_then(Result::ok).is_some_and(|ct| ct.0.is("application", "sdp"));
        if !sdp {
            return Some((StatusCode::UNSUPPORTED_MEDIA_TYPE, header(HeaderName::ACCEPT, "application/sdp")));
        }
        let coded = request
            .headers
            .typed_all::<sip_message::header::ContentEncoding>()
            .filter_map(Result::ok)
            .any(|c| !c.0.eq_ignore_ascii_case(b"identity"));
        if coded {
            return Some((StatusCode::UNSUPPORTED_MEDIA_TYPE, header(HeaderName::ACCEPT_ENCODING, "identity")));
        }
    }
    if request.method == Method::INVITE && request.headers.contains(&HeaderName::ACCEPT) {
        let accepts_sdp = request
            .headers
            .typed_all::<sip_message::header::Accept>()
            .filter_map(Result::ok)
            .any(|a| a.accepts("application", "sdp") && a.q() > 0);
        if !accepts_sdp {
            return Some((StatusCode::NOT_ACCEPTABLE, header(HeaderName::ACCEPT, "application/sdp")));
        }
    }
    None
}

/// A request of the answerer's whose transport is being made ready (a connection opened).
type Preparing = (DialogHandle, Request, Target, Result<Sent, TransportError>);

/// Runs `answerer` with a transaction layer of its own (`config`) over `transports`, whose
/// received items arrive on `incoming`, until the transports are gone; `log` gets one line
/// per call stage. One loop in this task owns both cores: the layer's events go straight
/// to the answerer and its responses straight back down, with no queue or task switch
/// between them. A request the answerer sends (a BYE) gets its transport made ready on a
/// task of its own, so opening a TCP or TLS connection never stalls the answering.
pub async fn serve(
    mut answerer: Answerer,
    config: Config,
    transports: TransportSet,
    mut incoming: Incoming,
    mut log: impl FnMut(&CallReport),
) {
    let mut layer = TransactionLayer::new(config);
    let pump = Pump::new(transports, None);
    let mut tags = StdEntropy::default();
    let (prepared_tx, mut prepared) = mpsc::channel::<Preparing>(DEFAULT_QUEUE);
    let mut wakeup = Wakeup::new();
    loop {
        let deadline = [layer.poll_timeout(), answerer.poll_timeout()].into_iter().flatten().min();
        wakeup.set(deadline.map(tokio::time::Instant::from_std));
        tokio::select! {
            item = incoming.recv() => {
                let Some(item) = item else { return };
                if let Some((to, bytes)) = receive(&mut layer, item, &mut tags) {
                    // Stateless: a failed send of an error response is nobody's to retry.
                    let _ = pump.send(&to, bytes).await;
                }
            }
            // The loop holds a sender: this never ends.
            Some((dialog, mut request, target, ready)) = prepared.recv() => {
                let target = ready.ok().and_then(|ready| address_request(&mut request, target, &ready, pump.wildcard).ok());
                let key = target.and_then(|target| {
                    let reliable = target.transport.is_reliable();
                    layer.send_request(now(), request.clone(), target, reliable).ok()
                });
                match key {
                    Some(key) => answerer.request_sent(dialog, request, key),
                    None => answerer.request_failed(now(), dialog, &request),
                }
            }
            () = wakeup.fired() => {
                let at = now();
                layer.handle_timeout(at);
                answerer.handle_timeout(at);
            }
        }
        // Carry events up and actions down until both cores are quiet.
        loop {
            let mut busy = false;
            while let Some(transmit) = layer.poll_transmit() {
                busy = true;
                if pump.send(&transmit.to, transmit.bytes).await.is_err() {
                    layer.handle_transport_error(now(), &transmit.key);
                }
            }
            while let Some(event) = layer.poll_event() {
                busy = true;
                answerer.handle_event(now(), event);
            }
            while let Some(action) = answerer.poll_action() {
                busy = true;
                match action {
                    Action::Respond { key, mut response } => {
                        address_response(&layer, &pump, &key, &mut response).await;
                        // The transaction may have ended (a CANCEL raced the answer): nothing to send.
                        let _ = layer.send_response(now(), &key, response);
                    }
                    Action::Request { dialog, request, target } => {
                        let (transports, done) = (pump.transports.clone(), prepared_tx.clone());
                        tokio::spawn(async move {
                            let ready = transports.prepare(&target).await;
                            let _ = done.send((dialog, request, target, ready)).await;
                        });
                    }
                    Action::Report(report) => log(&report),
                    // Not with the policies `serve` is for: with `ask`, use the Endpoint.
                    Action::Offered { .. }
                    | Action::Asked { .. }
                    | Action::TransferRequested { .. }
                    | Action::SubscriptionEnded { .. } => {}
                }
            }
            if !busy {
                break;
            }
        }
    }
}
