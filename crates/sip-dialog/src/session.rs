//! The INVITE session on a dialog (RFC 3261 §13–15, RFC 3311 UPDATE): offer/answer through
//! INVITE, 2xx, ACK and UPDATE with a [`Negotiator`]; the UAS's 2xx retransmitted until its
//! ACK and the session ended with BYE when none comes (§13.3.1.4); the UAC's ACK for every
//! 2xx; re-INVITE and UPDATE with 491 and the randomized retry of §14.1 on glare; CANCEL of
//! the INVITE being answered; BYE.
//!
//! Sans-IO: inputs carry the time, [`InviteSession::poll_output`] gives what to send and
//! what happened, [`InviteSession::poll_timeout`] when to call
//! [`InviteSession::handle_timeout`].

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use sip_message::header::{self, MediaType, Via};
use sip_message::{Header, HeaderName, Host, Method, Request, Response, StatusCode};
use sip_sdp::{NegotiationError, Negotiator, OfferAnswer, SessionDescription};

use crate::dialog::{Dialog, DialogState, Role};
use crate::error::DialogError;

/// Where randomness comes from: Via branches and the glare retry delays of §14.1.
pub trait Entropy {
    /// 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// Randomness from the standard library's randomly keyed SipHash over a counter.
#[derive(Debug, Clone, Default)]
pub struct StdEntropy {
    keys: RandomState,
    counter: u64,
}

impl Entropy for StdEntropy {
    fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.keys.hash_one(self.counter)
    }
}

/// `via` with a new branch (the magic cookie and 64 random bits) for a new transaction.
pub(crate) fn via_with_new_branch(via: &Via, entropy: &mut impl Entropy) -> Via {
    let branch = format!("z9hG4bK{:016x}", entropy.next_u64());
    // A branch of the magic cookie and hex digits is always a token.
    via.with_branch(&branch).unwrap_or_else(|_| via.clone())
}

/// How long the implicit subscription of an accepted REFER lasts at most (RFC 3515
/// §2.4.4 leaves it to the notifier): a transfer whose call has no final status by then
/// ends with `Subscription-State: terminated;reason=timeout`.
pub const REFER_SUBSCRIPTION_DURATION: Duration = Duration::from_secs(60);

/// The implicit subscription of a REFER this side sent, as this side follows it (RFC
/// 3515 §2.4.4, RFC 6665 §4.1.2): which REFER, when the subscription runs out, and the
/// last status a NOTIFY gave.
#[derive(Debug, Clone)]
struct ReferWatch {
    /// The REFER's CSeq number.
    seq: u32,
    /// When the subscription runs out: unknown until the 202 (its Expires, or Timer N
    /// when it has none) or a NOTIFY (its `expires`) says.
    expires_at: Option<Instant>,
    /// The status the last NOTIFY gave.
    last: Option<StatusCode>,
}

/// The implicit subscription of a REFER this side accepted.
#[derive(Debug, Clone)]
struct ReferSubscription {
    expires_at: Instant,
    /// The last status reported, which a NOTIFY ending the subscription repeats.
    last: StatusCode,
}

/// `d` in whole seconds, rounded up.
fn whole_seconds(d: Duration) -> u32 {
    u32::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(u32::MAX)
}

/// Timer values and the Via of the requests a session sends.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// T1: the first 2xx retransmission interval (§13.3.1.4).
    pub t1: Duration,
    /// T2: the longest 2xx retransmission interval.
    pub t2: Duration,
    /// The top Via of requests sent, without a branch (each gets a new one); the transport
    /// fills in its transport and sent-by when it sends (§18.1.1).
    pub via: Via,
    /// Whether provisional responses are sent reliably (RFC 3262) when the INVITE allows
    /// it (`100rel` in Supported or Require).
    pub reliable_provisional: bool,
    /// The session interval this side asks for and grants when the peer asks for none
    /// (RFC 4028), in seconds; `None` turns session timers off.
    pub session_expires: Option<u32>,
    /// The smallest session interval this side accepts (RFC 4028 Min-SE), in seconds;
    /// a request asking for less gets 422.
    pub min_se: u32,
    /// Whether this side refreshes the session with an UPDATE without a session
    /// description (when the peer allows UPDATE) instead of a re-INVITE offering the
    /// description in force (RFC 4028 §10 prefers UPDATE).
    pub refresh_with_update: bool,
    /// How often a UAS that has not answered an INVITE sends its provisional response
    /// again (§13.3.1.1: at least every minute, as a proxy may cancel a transaction after
    /// three minutes without a response).
    pub progress_refresh: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            via: Via::new(&header::Transport::UDP, &Host::from(Ipv4Addr::UNSPECIFIED), None),
            reliable_provisional: true,
            session_expires: Some(1800),
            min_se: 90,
            refresh_with_update: false,
            progress_refresh: DEFAULT_PROGRESS_REFRESH,
        }
    }
}

/// Default of [`SessionConfig::progress_refresh`]: the minute of §13.3.1.1.
pub const DEFAULT_PROGRESS_REFRESH: Duration = Duration::from_secs(60);

/// Why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndReason {
    /// The peer sent BYE.
    ByeReceived,
    /// This side sent BYE.
    ByeSent,
    /// This side's 2xx got no ACK within 64·T1, so it sent BYE (§13.3.1.4).
    NoAck,
    /// The INVITE this side was answering was cancelled (487).
    Cancelled,
    /// The INVITE was rejected with this status (by this side as UAS, or by the peer).
    Rejected(StatusCode),
    /// A reliable provisional response got no PRACK within 64·T1, so this side rejected
    /// the INVITE with 500 (RFC 3262 §3).
    NoPrack,
    /// The session interval passed without a refresh, so this side sent BYE (RFC 4028
    /// §10).
    SessionExpired,
    /// A request in the dialog got 481 or 408: the dialog is gone.
    DialogGone(StatusCode),
}

/// What happened in a session, for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// An offer/answer exchange completed: [`InviteSession::offer_answer`] holds the
    /// session now in force.
    Negotiated,
    /// An offer was refused or its answer was not valid; the session before it stays.
    OfferFailed(String),
    /// A request of ours was answered with this final status (not 2xx, not 491).
    Failed {
        /// The request's method.
        method: Method,
        /// The status.
        status: StatusCode,
    },
    /// A request in the dialog the session does not answer itself (INFO, MESSAGE, OPTIONS,
    /// NOTIFY of other packages, ...): answer it with [`InviteSession::send_response`].
    Request(Request),
    /// The peer asks this side to call `target` (RFC 3515): accept with
    /// [`InviteSession::accept_refer`] (202 and the first NOTIFY) and report how the
    /// call goes with [`InviteSession::refer_progress`], or refuse it with
    /// [`InviteSession::send_response`].
    Refer {
        /// The Refer-To URI.
        target: sip_message::Uri,
        /// The REFER.
        request: Request,
    },
    /// A NOTIFY of the transfer this side asked for with [`InviteSession::refer`]: the
    /// status of the call the peer made (its message/sipfrag), and whether that was the
    /// last one.
    ReferProgress {
        /// The status line's code.
        status: StatusCode,
        /// The subscription ended with this NOTIFY.
        done: bool,
    },
    /// The session ended.
    Ended(EndReason),
}

/// What a session hands out.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// A request to send: in a new client transaction, except ACK, which goes to the
    /// transport as it is (§13.2.2.4).
    Request(Request),
    /// A response to send through the server transaction of the request it answers (2xx
    /// retransmissions too: RFC 6026 passes them through).
    Response(Response),
    /// Something the application learns.
    Event(SessionEvent),
}

/// Why a session could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The dialog refused (ended, CSeq used up, ...).
    #[error(transparent)]
    Dialog(#[from] DialogError),
    /// The offer/answer step failed.
    #[error(transparent)]
    Negotiation(#[from] NegotiationError),
    /// The session is not in a state for this (an INVITE still in progress, nothing to
    /// answer, ...).
    #[error("{0}")]
    State(&'static str),
}

/// An INVITE no UAS session could be made for, given back so it can be answered.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct Refused {
    /// Why: the offer could not be taken (answer 488).
    pub error: SessionError,
    /// The INVITE.
    pub invite: Box<Request>,
}

/// A 2xx sent and not yet acknowledged (§13.3.1.4).
#[derive(Debug, Clone)]
struct Unacked {
    response: Response,
    seq: u32,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// A reliable provisional response waiting for its PRACK (RFC 3262 §3).
#[derive(Debug, Clone)]
struct Unpracked {
    response: Response,
    rseq: u32,
    invite_seq: u32,
    next: Instant,
    interval: Duration,
    give_up: Instant,
    /// Whether it carries a session description (then no 2xx before its PRACK).
    has_sdp: bool,
}

/// UAS: the provisional response last sent to the INVITE being answered, sent again
/// every [`SessionConfig::progress_refresh`] until the final response (§13.3.1.1).
#[derive(Debug, Clone)]
struct ProgressRefresh {
    /// The CSeq number of the INVITE it answers.
    invite_seq: u32,
    response: Response,
    /// Whether it went reliably (RFC 3262): then it is sent anew, with the next RSeq.
    reliable: bool,
    due: Instant,
}

/// The session timer in force (RFC 4028): who refreshes, and when the next refresh or the
/// expiry is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SessionTimer {
    interval: u32,
    /// This side refreshes (at half the interval); otherwise it ends the session when no
    /// refresh came (interval minus the lesser of 32 s and a third of it).
    refresher: bool,
    due: Instant,
}

impl SessionTimer {
    fn start(now: Instant, interval: u32, refresher: bool) -> Self {
        let after = if refresher {
            Duration::from_millis(u64::from(interval) * 500)
        } else {
            Duration::from_secs(u64::from(interval - (interval / 3).min(32)))
        };
        Self { interval, refresher, due: now + after }
    }
}

/// A request of ours waiting for its final response.
#[derive(Debug, Clone)]
struct Outgoing {
    method: Method,
    seq: u32,
    offered: bool,
}

/// The INVITE session of one dialog.
#[derive(Debug)]
pub struct InviteSession<E = StdEntropy> {
    dialog: Dialog,
    negotiator: Negotiator,
    offer_answer: OfferAnswer,
    config: SessionConfig,
    entropy: E,
    /// The INVITE this side is answering (the first, or a re-INVITE), until its final
    /// response.
    serving: Option<Box<Request>>,
    /// UAS: the provisional response to send again while the INVITE waits for its final.
    progress_refresh: Option<Box<ProgressRefresh>>,
    unacked: Option<Box<Unacked>>,
    /// The INVITE or UPDATE this side sent, until its final response.
    outgoing: Option<Outgoing>,
    /// The ACK of the last 2xx this side received: sent again for its retransmissions.
    ack: Option<(u32, Request)>,
    /// A request refused with 491 to send again at this instant, with its offer (§14.1).
    glare_retry: Option<Box<(Instant, Method, Option<SessionDescription>)>>,
    /// UAS: whether the INVITE being answered allows reliable provisional responses.
    peer_100rel: bool,
    /// UAS: the reliable provisional response waiting for its PRACK.
    unpracked: Option<Box<Unpracked>>,
    /// UAS: the RSeq and INVITE CSeq of a reliable provisional response (without a
    /// session description) still unacknowledged when the 2xx went: its PRACK, when it
    /// comes, gets 200, not 481 (RFC 3262 §3); it is no longer sent again.
    unpracked_after_final: Option<(u32, u32)>,
    /// UAS: the RSeq of the next reliable provisional response.
    next_rseq: u32,
    /// UAS: [`InviteSession::accept`] waits for the PRACK of a provisional response with
    /// a session description (RFC 3262 §3): the 2xx status and the headers it adds.
    accept_deferred: Option<Box<(StatusCode, Vec<Header>)>>,
    /// UAC: the RSeq of the last reliable provisional response acknowledged.
    last_rseq: Option<u32>,
    /// UAC: the offer/answer of the INVITE in progress completed in a reliable
    /// provisional response and its PRACK.
    early_offer_answer: bool,
    /// A REFER accepted from the peer: NOTIFYs of the `refer` package go out until a final
    /// status (RFC 3515 §2.4.4), or until the implicit subscription expires.
    refer_in: Option<ReferSubscription>,
    /// A REFER this side sent: the peer's NOTIFYs of the `refer` package come in until one
    /// ends the subscription, the REFER is refused, or the subscription runs out.
    refer_out: Option<ReferWatch>,
    /// The session timer, when the two sides agreed on one.
    timer: Option<SessionTimer>,
    /// The session interval asked for in the INVITE or UPDATE in progress.
    requested_interval: Option<u32>,
    outputs: VecDeque<Output>,
}

/// The SDP body of a message, if it has one.
fn sdp_body(headers: &sip_message::Headers, body: &bytes::Bytes) -> Option<Result<SessionDescription, String>> {
    if body.is_empty() {
        return None;
    }
    match headers.content_type() {
        Some(Ok(ct)) if ct.0.is("application", "sdp") => {
            Some(SessionDescription::parse_lenient(body.clone()).map_err(|e| e.to_string()))
        }
        _ => None,
    }
}

fn cseq_of(headers: &sip_message::Headers) -> Option<header::CSeq> {
    headers.cseq().and_then(Result::ok)
}

fn session_expires_of(headers: &sip_message::Headers) -> Option<header::SessionExpires> {
    headers.typed::<header::SessionExpires>().and_then(Result::ok)
}

/// The headers that ask for a session timer of `interval` seconds in an INVITE or UPDATE
/// (RFC 4028 §7.1): `Supported: timer`, `Session-Expires` (with `refresher=uac` when this
/// side wants to refresh) and `Min-SE`. A UA puts them in its first INVITE;
/// [`InviteSession`] adds them to the re-INVITEs and UPDATEs it sends.
pub fn session_timer_headers(interval: u32, min_se: u32, refresh: bool) -> Vec<Header> {
    let refresher = refresh.then_some(header::Refresher::Uac);
    [
        Header::new(HeaderName::SUPPORTED, "timer"),
        Header::typed(&header::SessionExpires::new(interval, refresher)),
        Header::typed(&header::MinSe::new(min_se)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl<E: Entropy> InviteSession<E> {
    /// The UAC's session, made when a response to its INVITE made `dialog`: a 2xx (the
    /// answer to the INVITE's offer, or an offer answered in the ACK; the ACK is sent) or a
    /// 101–199 (an early session: a reliable one is acknowledged with PRACK, carrying the
    /// answer when it brought an offer; the final response comes to
    /// [`receive_response`](Self::receive_response)).
    pub fn uac(
        now: Instant,
        dialog: Dialog,
        invite: &Request,
        ok: &Response,
        negotiator: Negotiator,
        config: SessionConfig,
        entropy: E,
    ) -> Result<Self, SessionError> {
        let mut s = Self::new(dialog, negotiator, config, entropy);
        if let Some(Ok(offer)) = sdp_body(&invite.headers, &invite.body) {
            s.offer_answer.send_offer(offer)?;
        }
        s.requested_interval = session_expires_of(&invite.headers).map(|se| se.interval);
        let seq = cseq_of(&invite.headers).map_or(1, |c| c.seq);
        if ok.status.is_provisional() {
            let offered = s.offer_answer.offer_pending();
            s.outgoing = Some(Outgoing { method: Method::INVITE, seq, offered });
            s.take_provisional(seq, ok)?;
        } else {
            s.take_2xx(now, seq, ok)?;
        }
        Ok(s)
    }

    /// The UAS's session on `dialog`, made when `invite` arrived: records its offer, if
    /// any, and keeps the INVITE to answer it. Answer with [`ring`](Self::ring),
    /// [`accept`](Self::accept) or [`reject`](Self::reject). An offer this side cannot
    /// take gives the INVITE back in [`Refused`], to answer it 488.
    pub fn uas(
        dialog: Dialog,
        invite: Request,
        negotiator: Negotiator,
        config: SessionConfig,
        entropy: E,
    ) -> Result<Self, Refused> {
        let mut s = Self::new(dialog, negotiator, config, entropy);
        match sdp_body(&invite.headers, &invite.body) {
            Some(Ok(offer)) => {
                if let Err(error) = s.offer_answer.receive_offer(offer) {
                    return Err(Refused { error: error.into(), invite: Box::new(invite) });
                }
            }
            Some(Err(e)) => s.event(SessionEvent::OfferFailed(e)),
            None => {}
        }
        s.peer_100rel = invite.headers.supports("100rel");
        s.next_rseq = u32::try_from(s.entropy.next_u64() % u64::from(crate::dialog::MAX_CSEQ)).unwrap_or(0) + 1;
        s.serving = Some(Box::new(invite));
        Ok(s)
    }

    fn new(dialog: Dialog, negotiator: Negotiator, config: SessionConfig, entropy: E) -> Self {
        Self {
            dialog,
            negotiator,
            offer_answer: OfferAnswer::Initial,
            config,
            entropy,
            serving: None,
            progress_refresh: None,
            unacked: None,
            outgoing: None,
            ack: None,
            glare_retry: None,
            peer_100rel: false,
            unpracked: None,
            unpracked_after_final: None,
            next_rseq: 0,
            accept_deferred: None,
            last_rseq: None,
            early_offer_answer: false,
            refer_in: None,
            refer_out: None,
            timer: None,
            requested_interval: None,
            outputs: VecDeque::new(),
        }
    }

    /// The dialog.
    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }

    /// The offer/answer state.
    pub fn offer_answer(&self) -> &OfferAnswer {
        &self.offer_answer
    }

    /// Whether the session has ended.
    pub fn is_ended(&self) -> bool {
        self.dialog.state() == DialogState::Terminated
    }

    /// The next thing to send or report.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let retransmit = self.unacked.as_ref().map(|u| u.next.min(u.give_up));
        let retry = self.glare_retry.as_deref().map(|(at, _, _)| *at);
        let provisional = self.unpracked.as_ref().map(|u| u.next.min(u.give_up));
        let timer = self.timer.as_ref().map(|t| t.due);
        let refer = self.refer_in.as_ref().map(|r| r.expires_at);
        let referred = self.refer_out.as_ref().and_then(|w| w.expires_at);
        let progress = self.progress_refresh.as_ref().map(|r| r.due);
        [retransmit, retry, provisional, timer, refer, referred, progress].into_iter().flatten().min()
    }

    fn event(&mut self, e: SessionEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn via(&mut self) -> Via {
        via_with_new_branch(&self.config.via, &mut self.entropy)
    }

    fn with_sdp<M>(message: &mut M, sdp: &SessionDescription, set: impl FnOnce(&mut M, MediaType, bytes::Bytes)) {
        set(message, MediaType::application_sdp(), sdp.to_bytes());
    }

    /// A response of this side's to `request`, with the dialog's To tag and, for
    /// dialog-creating ones, the Record-Route of the request and this side's Contact.
    fn response_to(&self, request: &Request, status: StatusCode) -> Response {
        let mut r = Response::from_request(request, status);
        // This side's tag, unless the request's To (copied into the response) has one; a
        // To the tag cannot be added to stays as it is.
        if let Some(tag) = std::str::from_utf8(self.dialog.id().local_tag()).ok().filter(|t| !t.is_empty()) {
            let _ = r.set_to_tag(tag);
        }
        if (101..300).contains(&status.as_u16()) && request.method == Method::INVITE {
            for rr in request.headers.get_all(&HeaderName::RECORD_ROUTE) {
                r.headers.push(rr.clone());
            }
            r.headers.push(Header::contact(self.dialog.local_target()));
        }
        r
    }

    // ---- UAS: answering the INVITE ------------------------------------------------------

    /// Whether provisional responses to the INVITE being answered go reliably (RFC 3262).
    pub fn reliable_provisional(&self) -> bool {
        self.config.reliable_provisional && self.peer_100rel
    }

    /// Sends a provisional response (180 Ringing, 183 Session Progress) without a session
    /// description to the INVITE being answered; reliably (RFC 3262) when both sides allow
    /// it, and then not while an earlier one still waits for its PRACK.
    pub fn ring(&mut self, now: Instant, status: StatusCode) -> Result<(), SessionError> {
        self.provisional(now, status, false, Vec::new())
    }

    /// Answers the INVITE being answered with any `status`, adding the `extra` headers: a
    /// 101–199 as [`ring`](Self::ring) does, a 2xx as [`accept`](Self::accept) does (with
    /// the session description), a 300–699 as [`reject`](Self::reject) does.
    pub fn respond(&mut self, now: Instant, status: StatusCode, extra: Vec<Header>) -> Result<(), SessionError> {
        match status.as_u16() {
            101..=199 => self.provisional(now, status, false, extra),
            200..=299 => self.accept_with(now, status, extra),
            300..=699 => self.reject_with(status, extra),
            _ => Err(SessionError::State("an INVITE is answered with a 101-699 status")),
        }
    }

    /// Sends a reliable provisional response (183 Session Progress) with a session
    /// description (RFC 3262 §5): the answer to the INVITE's offer, or an offer when it had
    /// none (answered in the PRACK). Needs the peer's `100rel`.
    pub fn progress(&mut self, now: Instant, status: StatusCode) -> Result<(), SessionError> {
        if !self.reliable_provisional() {
            return Err(SessionError::State("a session description in a 1xx needs 100rel"));
        }
        self.provisional(now, status, true, Vec::new())
    }

    fn provisional(
        &mut self,
        now: Instant,
        status: StatusCode,
        with_sdp: bool,
        extra: Vec<Header>,
    ) -> Result<(), SessionError> {
        if !status.is_provisional() || status.as_u16() == 100 {
            return Err(SessionError::State("a provisional response takes a 101-199 status"));
        }
        let invite = self.serving.as_ref().ok_or(SessionError::State("no INVITE to answer"))?;
        let reliable = self.reliable_provisional();
        if reliable && self.unpracked.is_some() {
            return Err(SessionError::State("a reliable provisional response still waits for its PRACK"));
        }
        let mut r = self.response_to(invite, status);
        for h in extra {
            r.headers.push(h);
        }
        let invite_seq = cseq_of(&invite.headers).map_or(0, |c| c.seq);
        if with_sdp {
            let body = match &self.offer_answer {
                OfferAnswer::OfferReceived { offer, .. } => {
                    let offer = (**offer).clone();
                    let answer = self.negotiator.answer(&offer)?;
                    self.offer_answer.send_answer(answer.clone())?;
                    self.event(SessionEvent::Negotiated);
                    answer
                }
                OfferAnswer::Initial => {
                    let offer = self.negotiator.create_offer();
                    self.offer_answer.send_offer(offer.clone())?;
                    offer
                }
                _ => return Err(SessionError::State("the offer/answer of this INVITE is done or in progress")),
            };
            Self::with_sdp(&mut r, &body, |m, t, b| m.set_body(Some(t), b));
        }
        if reliable {
            let rseq = self.next_rseq;
            self.next_rseq = self.next_rseq.wrapping_add(1);
            let headers = [Header::new(HeaderName::REQUIRE, "100rel"), Header::new(HeaderName::RSEQ, rseq.to_string())];
            for h in headers.into_iter().flatten() {
                r.headers.push(h);
            }
            self.unpracked = Some(Box::new(Unpracked {
                response: r.clone(),
                rseq,
                invite_seq,
                next: now + self.config.t1,
                interval: self.config.t1,
                give_up: now + self.config.t1 * 64,
                has_sdp: with_sdp,
            }));
        }
        self.progress_refresh = Some(Box::new(ProgressRefresh {
            invite_seq,
            response: r.clone(),
            reliable,
            due: now + self.config.progress_refresh,
        }));
        self.outputs.push_back(Output::Response(r));
        Ok(())
    }

    /// Sends the INVITE's provisional response again when it is due and the INVITE still
    /// waits for its final response (§13.3.1.1).
    fn refresh_progress(&mut self, now: Instant) {
        let Some(refresh) = self.progress_refresh.take_if(|r| now >= r.due) else { return };
        let serving_seq = self.serving.as_ref().and_then(|i| cseq_of(&i.headers)).map(|c| c.seq);
        if serving_seq != Some(refresh.invite_seq) {
            return; // answered (or cancelled) since
        }
        if refresh.reliable {
            // Anew, with the next RSeq (and no session description: its offer/answer is
            // done), which notes the next refresh itself; while an earlier one waits for
            // its PRACK, at the next turn.
            if self.provisional(now, refresh.response.status, false, Vec::new()).is_ok() {
                return;
            }
        } else {
            self.outputs.push_back(Output::Response(refresh.response.clone()));
        }
        self.progress_refresh = Some(Box::new(ProgressRefresh { due: now + self.config.progress_refresh, ..*refresh }));
    }

    /// Accepts the INVITE being answered with 200: the answer to its offer, or an offer
    /// when it had none (the answer then comes in the ACK). The 2xx is sent again until
    /// its ACK (§13.3.1.4). An offer this side cannot answer is rejected with 488.
    ///
    /// While a reliable provisional response with a session description waits for its
    /// PRACK, the 200 waits too and goes when the PRACK comes (RFC 3262 §3).
    pub fn accept(&mut self, now: Instant) -> Result<(), SessionError> {
        self.accept_with(now, StatusCode::OK, Vec::new())
    }

    fn accept_with(&mut self, now: Instant, status: StatusCode, extra: Vec<Header>) -> Result<(), SessionError> {
        if self.serving.is_none() {
            return Err(SessionError::State("no INVITE to answer"));
        }
        if self.unpracked.as_ref().is_some_and(|u| u.has_sdp) {
            self.accept_deferred = Some(Box::new((status, extra)));
            return Ok(());
        }
        if self.too_small_interval().is_some() {
            // RFC 4028 §8.1: 422 with this side's Min-SE.
            let min_se = Header::typed(&header::MinSe::new(self.config.min_se));
            return self.reject_with(StatusCode::SESSION_INTERVAL_TOO_SMALL, min_se.into_iter().collect());
        }
        let Some(invite) = self.serving.take() else { return Err(SessionError::State("no INVITE to answer")) };
        self.progress_refresh = None;
        self.unpracked_after_final = self.unpracked.take().map(|u| (u.rseq, u.invite_seq));
        let mut ok = self.response_to(&invite, status);
        for h in extra {
            ok.headers.push(h);
        }
        self.grant_session_timer(now, &invite, &mut ok);
        let body = match &self.offer_answer {
            OfferAnswer::OfferReceived { offer, .. } => match self.negotiator.answer(offer) {
                Ok(answer) => {
                    let bytes = answer.to_bytes();
                    self.offer_answer.send_answer(answer)?;
                    self.event(SessionEvent::Negotiated);
                    Some(bytes)
                }
                Err(e) => {
                    self.serving = Some(invite);
                    self.event(SessionEvent::OfferFailed(e.to_string()));
                    return self.reject(StatusCode::NOT_ACCEPTABLE_HERE);
                }
            },
            // Offer and answer were done in a reliable provisional response and its PRACK:
            // the 2xx carries no description (RFC 6337 §3.1.1).
            OfferAnswer::Negotiated(_) if self.dialog.state() == DialogState::Early => None,
            _ => {
                let offer = self.negotiator.local().cloned().unwrap_or_else(|| self.negotiator.create_offer());
                let bytes = offer.to_bytes();
                self.offer_answer.send_offer(offer)?;
                Some(bytes)
            }
        };
        if let Some(body) = body {
            ok.set_body(Some(MediaType::application_sdp()), body);
        }
        self.dialog.response_sent(&ok);
        let seq = cseq_of(&invite.headers).map_or(0, |c| c.seq);
        self.unacked = Some(Box::new(Unacked {
            response: ok.clone(),
            seq,
            next: now + self.config.t1,
            interval: self.config.t1,
            give_up: now + self.config.t1 * 64,
        }));
        self.outputs.push_back(Output::Response(ok));
        Ok(())
    }

    /// Rejects the INVITE being answered with a 300–699 status. The first INVITE's
    /// rejection ends the session; a re-INVITE's leaves the session as it was.
    pub fn reject(&mut self, status: StatusCode) -> Result<(), SessionError> {
        self.reject_with(status, Vec::new())
    }

    /// Redirects the INVITE being answered (§8.3, §21.3): a 300–399 `status` with a
    /// Contact for each of `targets`, where the caller may try instead.
    pub fn redirect(&mut self, status: StatusCode, targets: &[sip_message::Uri]) -> Result<(), SessionError> {
        if !(300..400).contains(&status.as_u16()) {
            return Err(SessionError::State("a redirection takes a 3xx status"));
        }
        if targets.is_empty() {
            return Err(SessionError::State("a redirection names where to go"));
        }
        let contacts = targets.iter().map(Header::contact).collect();
        self.reject_with(status, contacts)
    }

    fn reject_with(&mut self, status: StatusCode, extra: Vec<Header>) -> Result<(), SessionError> {
        if !status.is_final() || status.is_success() {
            return Err(SessionError::State("reject takes a 300-699 status"));
        }
        let invite = self.serving.take().ok_or(SessionError::State("no INVITE to answer"))?;
        self.unpracked = None;
        self.progress_refresh = None;
        self.accept_deferred = None;
        let mut r = self.response_to(&invite, status);
        for h in extra {
            r.headers.push(h);
        }
        self.offer_answer.rollback();
        let initial = self.dialog.state() == DialogState::Early;
        self.dialog.response_sent(&r);
        self.outputs.push_back(Output::Response(r));
        if initial {
            self.event(SessionEvent::Ended(EndReason::Rejected(status)));
        }
        Ok(())
    }

    /// A CANCEL for the INVITE being answered (§9.2): 200 to the CANCEL, 487 to the INVITE,
    /// and the session ends. A CANCEL after the final response gets only its 200.
    pub fn receive_cancel(&mut self, cancel: &Request) {
        let ok = Response::from_request(cancel, StatusCode::OK);
        self.outputs.push_back(Output::Response(ok));
        let Some(invite) = self.serving.take() else { return };
        self.unpracked = None;
        self.progress_refresh = None;
        self.accept_deferred = None;
        let terminated = self.response_to(&invite, StatusCode::REQUEST_TERMINATED);
        self.offer_answer.rollback();
        let initial = self.dialog.state() == DialogState::Early;
        self.dialog.response_sent(&terminated);
        self.outputs.push_back(Output::Response(terminated));
        if initial {
            self.event(SessionEvent::Ended(EndReason::Cancelled));
        }
    }

    /// Sends a response to a request the application was given as
    /// [`SessionEvent::Request`].
    pub fn send_response(&mut self, response: Response) {
        self.outputs.push_back(Output::Response(response));
    }

    // ---- requests this side sends -------------------------------------------------------

    /// Whether a new offer may go out now (checked before the negotiator makes one, so a
    /// refused offer leaves it as it was).
    fn can_offer(&self) -> Result<(), SessionError> {
        if self.is_ended() {
            return Err(SessionError::Dialog(DialogError::Terminated));
        }
        if self.outgoing.is_some() || self.serving.is_some() {
            return Err(SessionError::State("an INVITE or UPDATE of this session is still in progress"));
        }
        if self.offer_answer.offer_pending() {
            return Err(SessionError::State("an offer is still outstanding"));
        }
        Ok(())
    }

    fn start(&mut self, method: Method, offer: Option<SessionDescription>) -> Result<(), SessionError> {
        self.can_offer()?;
        let via = self.via();
        let mut request = self.dialog.request(method.clone(), via)?;
        self.requested_interval = None;
        if let Some(ours) = self.config.session_expires {
            // Every re-INVITE and UPDATE refreshes the session (RFC 4028 §7.1); the side that
            // refreshes now stays the refresher.
            let interval = self.timer.map_or(ours, |t| t.interval);
            let refresh = self.timer.is_none_or(|t| t.refresher);
            for h in session_timer_headers(interval, self.config.min_se, refresh) {
                request.headers.push(h);
            }
            self.requested_interval = Some(interval);
        }
        let offered = offer.is_some();
        if let Some(offer) = offer {
            Self::with_sdp(&mut request, &offer, |m, t, b| m.set_body(Some(t), b));
            self.offer_answer.send_offer(offer)?;
        }
        let seq = cseq_of(&request.headers).map_or(0, |c| c.seq);
        self.outgoing = Some(Outgoing { method, seq, offered });
        self.outputs.push_back(Output::Request(request));
        Ok(())
    }

    /// Sends a re-INVITE offering `offer`.
    pub fn reinvite(&mut self, offer: SessionDescription) -> Result<(), SessionError> {
        self.start(Method::INVITE, Some(offer))
    }

    /// Puts the call on hold with a re-INVITE (RFC 6337 §5.3).
    pub fn hold(&mut self) -> Result<(), SessionError> {
        self.can_offer()?;
        let offer = self.negotiator.hold()?;
        self.reinvite(offer)
    }

    /// Takes the call off hold with a re-INVITE.
    pub fn resume(&mut self) -> Result<(), SessionError> {
        self.can_offer()?;
        let offer = self.negotiator.resume()?;
        self.reinvite(offer)
    }

    /// Sends an UPDATE (RFC 3311) offering `offer`.
    pub fn update(&mut self, offer: SessionDescription) -> Result<(), SessionError> {
        self.start(Method::UPDATE, Some(offer))
    }

    /// Ends the session with BYE. The caller may send it in an early dialog too; the callee
    /// may not (§15: it rejects the INVITE instead).
    pub fn bye(&mut self) -> Result<(), SessionError> {
        if self.dialog.role() == Role::Uas && self.dialog.state() == DialogState::Early {
            return Err(SessionError::State("the callee ends an early dialog by rejecting the INVITE, not with BYE"));
        }
        let via = self.via();
        let bye = self.dialog.request(Method::BYE, via)?;
        self.outputs.push_back(Output::Request(bye));
        self.end(EndReason::ByeSent);
        Ok(())
    }

    /// Any other request in the dialog (INFO, MESSAGE, REFER, ...), with the dialog's
    /// routing and the next CSeq; `prepare` adds what the method needs (a body, Refer-To).
    pub fn request(&mut self, method: Method, prepare: impl FnOnce(&mut Request)) -> Result<(), SessionError> {
        let via = self.via();
        let mut request = self.dialog.request(method, via)?;
        prepare(&mut request);
        self.outputs.push_back(Output::Request(request));
        Ok(())
    }

    /// Asks the peer to call `target` (a blind transfer, RFC 3515): a REFER in the dialog.
    /// Its NOTIFYs come as [`SessionEvent::ReferProgress`]. When the subscription runs out
    /// before a NOTIFY ends it (at the expiry the 202 or the last NOTIFY gave, or 64·T1
    /// after a 202 without Expires and no NOTIFY), a last `ReferProgress` with `done`
    /// repeats the last status heard (408 when none came).
    pub fn refer(&mut self, target: &sip_message::Uri) -> Result<(), SessionError> {
        let via = self.via();
        let mut refer = self.dialog.request(Method::REFER, via)?;
        let refer_to = header::ReferTo(header::NameAddr::new(target.clone()));
        if let Ok(h) = Header::typed(&refer_to) {
            refer.headers.push(h);
        }
        let seq = cseq_of(&refer.headers).map_or(0, |c| c.seq);
        self.refer_out = Some(ReferWatch { seq, expires_at: None, last: None });
        self.outputs.push_back(Output::Request(refer));
        Ok(())
    }

    /// Accepts a REFER given as [`SessionEvent::Refer`]: 202, then the first NOTIFY of the
    /// implicit subscription (`SIP/2.0 100 Trying`, RFC 3515 §2.4.5). The subscription
    /// lasts [`REFER_SUBSCRIPTION_DURATION`], or less when the REFER's Expires asks (an
    /// Expires of 0, which would end it before its first NOTIFY, is not taken).
    pub fn accept_refer(&mut self, now: Instant, refer: &Request) -> Result<(), SessionError> {
        let asked = refer.headers.expires().and_then(Result::ok).filter(|e| e.0 > 0);
        let asked = asked.map(|e| Duration::from_secs(u64::from(e.0)));
        let duration = asked.map_or(REFER_SUBSCRIPTION_DURATION, |d| d.min(REFER_SUBSCRIPTION_DURATION));
        let mut accepted = Response::from_request(refer, StatusCode::ACCEPTED);
        if let Ok(h) = Header::typed(&header::Expires(whole_seconds(duration))) {
            accepted.headers.push(h);
        }
        self.outputs.push_back(Output::Response(accepted));
        self.refer_in = Some(ReferSubscription { expires_at: now + duration, last: StatusCode::TRYING });
        self.refer_progress(now, StatusCode::TRYING)
    }

    /// Reports how the call a REFER asked for goes: a NOTIFY with its status as
    /// message/sipfrag; a final status ends the implicit subscription. An error once the
    /// subscription is over (a final status sent, or expired).
    pub fn refer_progress(&mut self, now: Instant, status: StatusCode) -> Result<(), SessionError> {
        let Some(subscription) = self.refer_in.as_mut().filter(|s| now < s.expires_at) else {
            return Err(SessionError::State("no REFER accepted"));
        };
        subscription.last = status;
        let state = if status.is_final() {
            "terminated;reason=noresource".to_owned()
        } else {
            // What is left of the subscription, rounded up (RFC 6665 §4.2.2).
            format!("active;expires={}", whole_seconds(subscription.expires_at - now).max(1))
        };
        if status.is_final() {
            self.refer_in = None;
        }
        self.send_refer_notify(state, status)
    }

    /// A NOTIFY of the `refer` package: `state` in Subscription-State, `status` as the
    /// message/sipfrag body.
    fn send_refer_notify(&mut self, state: String, status: StatusCode) -> Result<(), SessionError> {
        let via = self.via();
        let mut notify = self.dialog.request(Method::NOTIFY, via)?;
        for h in [Header::new(HeaderName::EVENT, "refer"), Header::new(HeaderName::SUBSCRIPTION_STATE, state)]
            .into_iter()
            .flatten()
        {
            notify.headers.push(h);
        }
        let frag = format!("SIP/2.0 {} {}\r\n", status.as_u16(), status.default_reason());
        if let Ok(kind) = MediaType::new("message", "sipfrag") {
            let kind = kind.with_param("version", "2.0").unwrap_or(kind);
            notify.set_body(Some(kind), bytes::Bytes::from(frag));
        }
        self.outputs.push_back(Output::Request(notify));
        Ok(())
    }

    /// The final response to the REFER this side sent: a refusal makes no subscription; a
    /// 2xx starts the wait for its end (the 202's Expires, or Timer N until a NOTIFY
    /// says when it has none or 0).
    fn refer_answered(&mut self, now: Instant, seq: u32, response: &Response) {
        let Some(watch) = self.refer_out.as_mut().filter(|w| w.seq == seq) else { return };
        if !response.status.is_success() {
            self.refer_out = None;
            return;
        }
        if watch.expires_at.is_none() {
            // An Expires of 0 would end the wait before the first NOTIFY: it waits Timer N.
            let expires = response.headers.expires().and_then(Result::ok).filter(|e| e.0 > 0);
            let wait = expires.map_or(self.config.t1 * 64, |e| Duration::from_secs(u64::from(e.0)));
            watch.expires_at = Some(now + wait);
        }
    }

    fn receive_refer_notify(&mut self, now: Instant, notify: &Request) {
        let state = notify.headers.typed::<header::SubscriptionState>().and_then(Result::ok);
        let done = state.as_ref().is_some_and(|s| s.state().eq_ignore_ascii_case("terminated"));
        // The body is a status line: `SIP/2.0 200 OK`.
        let status = std::str::from_utf8(&notify.body)
            .ok()
            .and_then(|b| b.split_whitespace().nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .and_then(StatusCode::new);
        let ok =
            Response::from_request(notify, if status.is_some() { StatusCode::OK } else { StatusCode::BAD_REQUEST });
        self.outputs.push_back(Output::Response(ok));
        if done {
            self.refer_out = None;
        } else if let Some(watch) = &mut self.refer_out {
            if let Some(expires) = state.as_ref().and_then(|s| s.expires()) {
                watch.expires_at = Some(now + Duration::from_secs(u64::from(expires)));
            }
            watch.last = status.or(watch.last);
        }
        if let Some(status) = status {
            self.event(SessionEvent::ReferProgress { status, done });
        }
    }

    fn end(&mut self, reason: EndReason) {
        self.dialog.terminate();
        self.unacked = None;
        self.unpracked = None;
        self.accept_deferred = None;
        self.glare_retry = None;
        self.timer = None;
        self.progress_refresh = None;
        self.refer_in = None;
        self.refer_out = None;
        self.event(SessionEvent::Ended(reason));
    }

    // ---- input ---------------------------------------------------------------------------

    /// A request received in the dialog. Refusals are answered here: 481 for another or an
    /// ended dialog, 500 for an old CSeq, 491 for a re-INVITE or UPDATE that collides with
    /// this side's (§14.2, RFC 3311 §5.2), 500 with Retry-After for a re-INVITE while
    /// another is still being answered (§14.2).
    pub fn receive_request(&mut self, now: Instant, request: &Request) {
        if let Err(e) = self.dialog.receive_request(request) {
            if request.method != Method::ACK {
                let r = Response::from_request(request, e.status());
                self.outputs.push_back(Output::Response(r));
            }
            return;
        }
        let method = &request.method;
        if *method == Method::ACK {
            self.receive_ack(request);
        } else if *method == Method::BYE {
            if let Some(invite) = self.serving.take() {
                self.progress_refresh = None;
                let terminated = self.response_to(&invite, StatusCode::REQUEST_TERMINATED);
                self.outputs.push_back(Output::Response(terminated));
            }
            self.outputs.push_back(Output::Response(Response::from_request(request, StatusCode::OK)));
            self.end(EndReason::ByeReceived);
        } else if *method == Method::INVITE {
            self.receive_reinvite(now, request);
        } else if *method == Method::UPDATE {
            self.receive_update(now, request);
        } else if *method == Method::CANCEL {
            self.receive_cancel(request);
        } else if *method == Method::PRACK {
            self.receive_prack(now, request);
        } else if *method == Method::REFER {
            match request.headers.typed::<header::ReferTo>() {
                Some(Ok(to)) => {
                    let target = to.uri().clone();
                    self.event(SessionEvent::Refer { target, request: request.clone() });
                }
                _ => {
                    // RFC 3515 §2.4.1: a REFER without one valid Refer-To is refused.
                    let r = Response::from_request(request, StatusCode::BAD_REQUEST);
                    self.outputs.push_back(Output::Response(r));
                }
            }
        } else if *method == Method::NOTIFY
            && self.refer_out.is_some()
            && request
                .headers
                .typed::<header::Event>()
                .and_then(Result::ok)
                .is_some_and(|e| e.package().eq_ignore_ascii_case("refer"))
        {
            self.receive_refer_notify(now, request);
        } else {
            self.event(SessionEvent::Request(request.clone()));
        }
    }

    /// A PRACK (RFC 3262 §3): it must acknowledge the reliable provisional response that
    /// waits (481 otherwise); it may carry the answer to that response's offer, or a new
    /// offer, answered in its 200. A 200 held back for it goes now.
    fn receive_prack(&mut self, now: Instant, prack: &Request) {
        let rack = prack.headers.typed::<header::RAck>().and_then(Result::ok);
        let matches = match (&self.unpracked, &rack) {
            (Some(u), Some(r)) => r.rseq == u.rseq && r.cseq == u.invite_seq && r.method == Method::INVITE,
            _ => false,
        };
        if !matches {
            let late = match (self.unpracked_after_final, &rack) {
                (Some((rseq, seq)), Some(r)) => r.rseq == rseq && r.cseq == seq && r.method == Method::INVITE,
                _ => false,
            };
            let status = if late {
                self.unpracked_after_final = None;
                StatusCode::OK
            } else {
                StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST
            };
            self.outputs.push_back(Output::Response(Response::from_request(prack, status)));
            return;
        }
        self.unpracked = None;
        let mut ok = Response::from_request(prack, StatusCode::OK);
        match (&self.offer_answer, sdp_body(&prack.headers, &prack.body)) {
            (OfferAnswer::OfferSent { .. }, body) => {
                // The answer to the offer of the provisional response.
                self.take_answer_body(body, "the PRACK carries no answer");
            }
            (_, Some(Ok(offer))) => match self.answer_offer(offer) {
                Some(answer) => Self::with_sdp(&mut ok, &answer, |m, t, b| m.set_body(Some(t), b)),
                None => ok = Response::from_request(prack, StatusCode::NOT_ACCEPTABLE_HERE),
            },
            (_, Some(Err(e))) => self.event(SessionEvent::OfferFailed(e)),
            (_, None) => {}
        }
        self.outputs.push_back(Output::Response(ok));
        if let Some(deferred) = self.accept_deferred.take() {
            let (status, extra) = *deferred;
            let _ = self.accept_with(now, status, extra);
        }
    }

    fn receive_ack(&mut self, ack: &Request) {
        let seq = cseq_of(&ack.headers).map_or(0, |c| c.seq);
        if self.unacked.as_ref().is_none_or(|u| u.seq != seq) {
            return; // a retransmitted or stray ACK
        }
        self.unacked = None;
        if let OfferAnswer::OfferSent { .. } = self.offer_answer {
            // The offer was in our 2xx: the ACK carries the answer (§13.2.1).
            self.take_answer_body(sdp_body(&ack.headers, &ack.body), "the ACK carries no answer");
        }
    }

    fn receive_reinvite(&mut self, now: Instant, invite: &Request) {
        if self.serving.is_some() {
            // §14.2: a second INVITE before the final response to the first.
            let mut r = Response::from_request(invite, StatusCode::SERVER_INTERNAL_ERROR);
            let seconds = u32::try_from(self.entropy.next_u64() % 11).unwrap_or(0);
            if let Ok(h) = Header::new(HeaderName::RETRY_AFTER, seconds.to_string()) {
                r.headers.push(h);
            }
            self.outputs.push_back(Output::Response(r));
            return;
        }
        if self.outgoing.as_ref().is_some_and(|o| o.method == Method::INVITE) || self.offer_answer.offer_pending() {
            // §14.2: glare.
            self.outputs.push_back(Output::Response(Response::from_request(invite, StatusCode::REQUEST_PENDING)));
            return;
        }
        match sdp_body(&invite.headers, &invite.body) {
            Some(Ok(offer)) => {
                if let Err(e) = self.offer_answer.receive_offer(offer) {
                    self.event(SessionEvent::OfferFailed(e.to_string()));
                }
            }
            Some(Err(e)) => {
                self.event(SessionEvent::OfferFailed(e));
                let r = self.response_to(invite, StatusCode::BAD_REQUEST);
                self.outputs.push_back(Output::Response(r));
                return;
            }
            None => {}
        }
        self.serving = Some(Box::new(invite.clone()));
        // A re-INVITE is answered at once: with the answer, or with this side's current
        // description as the offer.
        let _ = self.accept(now);
    }

    fn receive_update(&mut self, now: Instant, update: &Request) {
        if self.config.session_expires.is_some()
            && session_expires_of(&update.headers).is_some_and(|se| se.interval < self.config.min_se)
        {
            let mut r = Response::from_request(update, StatusCode::SESSION_INTERVAL_TOO_SMALL);
            if let Ok(h) = Header::typed(&header::MinSe::new(self.config.min_se)) {
                r.headers.push(h);
            }
            self.outputs.push_back(Output::Response(r));
            return;
        }
        if self.offer_answer.offer_pending() || self.outgoing.as_ref().is_some_and(|o| o.method == Method::UPDATE) {
            self.outputs.push_back(Output::Response(Response::from_request(update, StatusCode::REQUEST_PENDING)));
            return;
        }
        let mut ok = self.response_to(update, StatusCode::OK);
        if let Some(offer) = sdp_body(&update.headers, &update.body) {
            let answer = match offer {
                Ok(offer) => self.answer_offer(offer),
                Err(e) => {
                    self.event(SessionEvent::OfferFailed(e));
                    None
                }
            };
            let Some(answer) = answer else {
                let r = self.response_to(update, StatusCode::NOT_ACCEPTABLE_HERE);
                self.outputs.push_back(Output::Response(r));
                return;
            };
            Self::with_sdp(&mut ok, &answer, |m, t, b| m.set_body(Some(t), b));
        }
        ok.headers.push(Header::contact(self.dialog.local_target()));
        self.grant_session_timer(now, update, &mut ok);
        self.outputs.push_back(Output::Response(ok));
    }

    /// A response to a request this side sent in the dialog.
    pub fn receive_response(&mut self, now: Instant, response: &Response) -> Result<(), SessionError> {
        let Some(cseq) = cseq_of(&response.headers) else { return Ok(()) };
        let status = response.status;
        let was_ended = self.is_ended();
        let was_early = self.dialog.state() == DialogState::Early;
        self.dialog.receive_response(&cseq.method, response)?;
        if cseq.method == Method::REFER && status.is_final() {
            self.refer_answered(now, cseq.seq, response);
        }
        if cseq.method == Method::INVITE && status.is_success() {
            // The 2xx of the first INVITE or a re-INVITE, or a retransmission of one.
            if self.ack.as_ref().is_some_and(|(seq, _)| *seq == cseq.seq) {
                if let Some((_, ack)) = &self.ack {
                    self.outputs.push_back(Output::Request(ack.clone()));
                }
                return Ok(());
            }
            if self.outgoing.as_ref().is_some_and(|o| o.seq == cseq.seq) {
                self.outgoing = None;
                return self.take_2xx(now, cseq.seq, response);
            }
            return Ok(());
        }
        let Some(outgoing) = self.outgoing.clone().filter(|o| o.seq == cseq.seq && o.method == cseq.method) else {
            if !was_ended && self.is_ended() {
                self.end(EndReason::DialogGone(status));
            }
            return Ok(());
        };
        if status.is_provisional() {
            if outgoing.method == Method::INVITE {
                self.take_provisional(outgoing.seq, response)?;
            }
            return Ok(());
        }
        self.outgoing = None;
        if status.is_success() {
            // A 2xx to UPDATE: the answer to its offer, and the session timer.
            self.take_session_timer(now, response);
            if outgoing.offered {
                self.take_answer(response.headers.clone(), response.body.clone());
            }
            return Ok(());
        }
        let offer = match &self.offer_answer {
            OfferAnswer::OfferSent { offer, .. } if outgoing.offered => Some((**offer).clone()),
            _ => None,
        };
        if outgoing.offered {
            self.offer_answer.rollback();
        }
        if status == StatusCode::SESSION_INTERVAL_TOO_SMALL && self.config.session_expires.is_some() {
            // RFC 4028 §7.4: ask again with at least the peer's Min-SE.
            let min = response.headers.typed::<header::MinSe>().and_then(Result::ok).map(|m| m.interval);
            let asked = self.requested_interval.unwrap_or(0);
            match min.filter(|&m| m > asked) {
                Some(m) => {
                    self.config.session_expires = Some(m.max(self.config.session_expires.unwrap_or(0)));
                    if let Some(t) = &mut self.timer {
                        t.interval = t.interval.max(m);
                    }
                    if let Err(e) = self.start(outgoing.method.clone(), offer) {
                        self.event(SessionEvent::OfferFailed(e.to_string()));
                    }
                }
                None => self.event(SessionEvent::Failed { method: outgoing.method, status }),
            }
        } else if status == StatusCode::REQUEST_PENDING {
            self.glare_retry = Some(Box::new((now + self.glare_delay(), outgoing.method, offer)));
        } else if !was_ended && self.is_ended() && was_early && outgoing.method == Method::INVITE {
            // The peer declined the INVITE that made this early dialog.
            self.end(EndReason::Rejected(status));
        } else if !was_ended && self.is_ended() {
            self.end(EndReason::DialogGone(status));
        } else {
            self.event(SessionEvent::Failed { method: outgoing.method, status });
        }
        Ok(())
    }

    /// The wait before sending a request again after 491 (§14.1): 2.1–4 s in 10 ms steps
    /// for the owner of the Call-ID (the UAC of the first INVITE), 0–2 s for the other.
    fn glare_delay(&mut self) -> Duration {
        let r = self.entropy.next_u64();
        let tens = match self.dialog.role() {
            Role::Uac => 210 + r % 191,
            Role::Uas => r % 201,
        };
        Duration::from_millis(tens * 10)
    }

    /// The session interval the INVITE being answered asks for, when it is below this
    /// side's Min-SE (and session timers are on).
    fn too_small_interval(&self) -> Option<u32> {
        self.config.session_expires?;
        let invite = self.serving.as_ref()?;
        session_expires_of(&invite.headers).map(|se| se.interval).filter(|&i| i < self.config.min_se)
    }

    /// The session timer this side grants in its 2xx to `request` (an INVITE or UPDATE it
    /// answers, RFC 4028 §9): the interval asked for or this side's own, the refresher
    /// asked for or else the requester when it supports timers and this side otherwise;
    /// `Require: timer` when the requester refreshes.
    fn grant_session_timer(&mut self, now: Instant, request: &Request, ok: &mut Response) {
        let Some(ours) = self.config.session_expires else { return };
        let asked = session_expires_of(&request.headers);
        let peer_timer = request.headers.supports("timer");
        let interval = asked.as_ref().map_or(ours, |se| se.interval.max(self.config.min_se));
        let refresher = match asked.as_ref().and_then(header::SessionExpires::refresher) {
            Some(r) if peer_timer || r == header::Refresher::Uas => r,
            _ if peer_timer => header::Refresher::Uac,
            _ => header::Refresher::Uas,
        };
        if let Ok(h) = Header::typed(&header::SessionExpires::new(interval, Some(refresher))) {
            ok.headers.push(h);
        }
        if refresher == header::Refresher::Uac {
            if let Ok(h) = Header::new(HeaderName::REQUIRE, "timer") {
                ok.headers.push(h);
            }
        }
        self.timer = Some(SessionTimer::start(now, interval, refresher == header::Refresher::Uas));
    }

    /// The session timer a 2xx to this side's INVITE or UPDATE sets (RFC 4028 §7.2): the
    /// interval and refresher it names; without Session-Expires, when this side asked for
    /// one, this side refreshes at the interval it asked for.
    fn take_session_timer(&mut self, now: Instant, ok: &Response) {
        match session_expires_of(&ok.headers) {
            Some(se) => {
                let we_refresh = se.refresher() != Some(header::Refresher::Uas);
                // An interval below this side's Min-SE (which a peer must not grant) is
                // taken as the Min-SE, so a bad 2xx cannot end the session at once.
                let interval = se.interval.max(self.config.min_se).max(1);
                self.timer = Some(SessionTimer::start(now, interval, we_refresh));
            }
            None => {
                if let Some(asked) = self.requested_interval {
                    self.timer = Some(SessionTimer::start(now, asked, true));
                }
            }
        }
        self.requested_interval = None;
    }

    /// Takes an offer from the peer and answers it with the negotiator (RFC 3264): the
    /// answer, now in force, with a [`SessionEvent::Negotiated`]; or `None` with a
    /// [`SessionEvent::OfferFailed`], the exchange as it was before the offer.
    fn answer_offer(&mut self, offer: SessionDescription) -> Option<SessionDescription> {
        if let Err(e) = self.offer_answer.receive_offer(offer.clone()) {
            self.event(SessionEvent::OfferFailed(e.to_string()));
            return None;
        }
        let answered = self
            .negotiator
            .answer(&offer)
            .and_then(|answer| self.offer_answer.send_answer(answer.clone()).map(|()| answer));
        match answered {
            Ok(answer) => {
                self.event(SessionEvent::Negotiated);
                Some(answer)
            }
            Err(e) => {
                self.offer_answer.rollback();
                self.event(SessionEvent::OfferFailed(e.to_string()));
                None
            }
        }
    }

    fn take_answer(&mut self, headers: sip_message::Headers, body: bytes::Bytes) {
        self.take_answer_body(sdp_body(&headers, &body), "the 2xx carries no answer");
    }

    fn take_answer_body(&mut self, body: Option<Result<SessionDescription, String>>, missing: &str) {
        match body {
            Some(Ok(answer)) => match self.offer_answer.receive_answer(answer) {
                Ok(()) => self.event(SessionEvent::Negotiated),
                Err(e) => {
                    self.offer_answer.rollback();
                    self.event(SessionEvent::OfferFailed(e.to_string()));
                }
            },
            Some(Err(e)) => {
                self.offer_answer.rollback();
                self.event(SessionEvent::OfferFailed(e));
            }
            None => {
                self.offer_answer.rollback();
                self.event(SessionEvent::OfferFailed(missing.into()));
            }
        }
    }

    /// A new 2xx to the INVITE with CSeq `seq`: the answer it carries (or its offer,
    /// answered in the ACK), and the ACK (§13.2.2.4).
    fn take_2xx(&mut self, now: Instant, seq: u32, ok: &Response) -> Result<(), SessionError> {
        self.take_session_timer(now, ok);
        let mut answer_in_ack = None;
        match &self.offer_answer {
            OfferAnswer::OfferSent { .. } => self.take_answer(ok.headers.clone(), ok.body.clone()),
            // Done in a reliable provisional response: a description in the 2xx repeats it.
            OfferAnswer::Negotiated(_) if self.early_offer_answer => {}
            _ => match sdp_body(&ok.headers, &ok.body) {
                Some(Ok(offer)) => answer_in_ack = self.answer_offer(offer),
                Some(Err(e)) => self.event(SessionEvent::OfferFailed(e)),
                None => {}
            },
        }
        let via = self.via();
        let mut ack = self.dialog.ack(seq, via)?;
        if let Some(answer) = answer_in_ack {
            Self::with_sdp(&mut ack, &answer, |m, t, b| m.set_body(Some(t), b));
        }
        self.ack = Some((seq, ack.clone()));
        self.early_offer_answer = false;
        self.outputs.push_back(Output::Request(ack));
        Ok(())
    }

    /// A provisional response to this side's INVITE with CSeq `seq`. A reliable one (RFC
    /// 3262: Require 100rel and RSeq) is acknowledged with PRACK unless it is a repeat or
    /// out of order; the session description it carries is the answer to the INVITE's
    /// offer, or an offer answered in the PRACK.
    fn take_provisional(&mut self, seq: u32, response: &Response) -> Result<(), SessionError> {
        let reliable = response.headers.require().any(|r| r.is_ok_and(|r| r.0.eq_ignore_ascii_case(b"100rel")));
        let rseq = response.headers.typed::<header::RSeq>().and_then(Result::ok).map(|r| r.0);
        let (true, Some(rseq)) = (reliable, rseq) else { return Ok(()) };
        if self.last_rseq.is_some_and(|last| rseq != last.wrapping_add(1)) {
            return Ok(()); // a retransmission (its PRACK is on its way) or out of order
        }
        let mut answer = None;
        match (&self.offer_answer, sdp_body(&response.headers, &response.body)) {
            (OfferAnswer::OfferSent { .. }, body @ Some(_)) => {
                self.take_answer_body(body, "the provisional response carries no answer");
                self.early_offer_answer = self.offer_answer.negotiated().is_some();
            }
            (OfferAnswer::Initial | OfferAnswer::Negotiated(_), Some(Ok(offer))) if !self.early_offer_answer => {
                answer = self.answer_offer(offer);
                self.early_offer_answer = answer.is_some();
            }
            _ => {}
        }
        let via = self.via();
        let mut prack = self.dialog.request(Method::PRACK, via)?;
        let rack = header::RAck { rseq, cseq: seq, method: Method::INVITE };
        if let Ok(h) = Header::typed(&rack) {
            prack.headers.push(h);
        }
        if let Some(answer) = answer {
            Self::with_sdp(&mut prack, &answer, |m, t, b| m.set_body(Some(t), b));
        }
        self.last_rseq = Some(rseq);
        self.outputs.push_back(Output::Request(prack));
        Ok(())
    }

    /// Fires what is due at `now`: 2xx retransmissions, the BYE when no ACK came,
    /// requests to send again after glare, the provisional response sent again each
    /// [`SessionConfig::progress_refresh`], and the end of the subscription of a REFER
    /// accepted or sent.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.refresh_progress(now);
        if let Some(refer) = self.refer_in.take_if(|r| now >= r.expires_at) {
            // The implicit subscription ran out before a final status: it ends with the
            // last status reported (RFC 6665 §4.2.2, RFC 3515 §2.4.5).
            let _ = self.send_refer_notify("terminated;reason=timeout".to_owned(), refer.last);
        }
        if let Some(watch) = self.refer_out.take_if(|w| w.expires_at.is_some_and(|t| now >= t)) {
            // The transfer this side asked for ran out before a NOTIFY ended it (RFC 6665
            // §4.1.2.4 when none came at all): it is over, with the last status heard.
            let status = watch.last.unwrap_or(StatusCode::REQUEST_TIMEOUT);
            self.event(SessionEvent::ReferProgress { status, done: true });
        }
        if let Some(u) = &mut self.unacked {
            if now >= u.give_up {
                // §13.3.1.4: no ACK in 64·T1; the session ends with BYE.
                self.unacked = None;
                let via = self.via();
                if let Ok(bye) = self.dialog.request(Method::BYE, via) {
                    self.outputs.push_back(Output::Request(bye));
                }
                self.end(EndReason::NoAck);
            } else {
                while u.next <= now {
                    self.outputs.push_back(Output::Response(u.response.clone()));
                    u.interval = (u.interval * 2).min(self.config.t2);
                    u.next += u.interval;
                }
            }
        }
        if let Some(u) = &mut self.unpracked {
            if now >= u.give_up {
                // RFC 3262 §3: no PRACK in 64·T1; the INVITE is rejected with 500.
                self.unpracked = None;
                self.accept_deferred = None;
                if let Some(invite) = self.serving.take() {
                    self.progress_refresh = None;
                    let r = self.response_to(&invite, StatusCode::SERVER_INTERNAL_ERROR);
                    self.offer_answer.rollback();
                    let initial = self.dialog.state() == DialogState::Early;
                    self.dialog.response_sent(&r);
                    self.outputs.push_back(Output::Response(r));
                    if initial {
                        self.event(SessionEvent::Ended(EndReason::NoPrack));
                    }
                }
            } else {
                while u.next <= now {
                    self.outputs.push_back(Output::Response(u.response.clone()));
                    u.interval *= 2;
                    u.next += u.interval;
                }
            }
        }
        if let Some(timer) = self.timer.filter(|t| t.due <= now) {
            if !timer.refresher {
                // RFC 4028 §10: no refresh came in time.
                self.timer = None;
                let via = self.via();
                if let Ok(bye) = self.dialog.request(Method::BYE, via) {
                    self.outputs.push_back(Output::Request(bye));
                }
                self.end(EndReason::SessionExpired);
            } else if self.outgoing.is_some() || self.serving.is_some() || self.offer_answer.offer_pending() {
                // An exchange is under way; its 2xx refreshes the session. Look again soon.
                self.timer = Some(SessionTimer { due: now + Duration::from_secs(1), ..timer });
            } else {
                // Refresh with a re-INVITE offering the description in force (RFC 4028
                // §10). Until its 2xx re-arms the timer, the session expires as if this
                // side did not refresh.
                let started = if self.config.refresh_with_update {
                    self.start(Method::UPDATE, None)
                } else {
                    let offer = self.negotiator.local().cloned();
                    self.start(Method::INVITE, offer)
                };
                if let Err(e) = started {
                    self.event(SessionEvent::OfferFailed(e.to_string()));
                }
                let interval = timer.interval;
                let expiry = Duration::from_secs(u64::from(interval - (interval / 3).min(32)))
                    .saturating_sub(Duration::from_millis(u64::from(interval) * 500));
                self.timer = Some(SessionTimer { refresher: false, due: now + expiry, ..timer });
            }
        }
        if let Some((at, method, offer)) = self.glare_retry.as_deref().cloned() {
            if at <= now {
                self.glare_retry = None;
                let offer = match offer.or_else(|| self.negotiator.local().cloned()) {
                    Some(o) => o,
                    None => self.negotiator.create_offer(),
                };
                let retried = self.start(method.clone(), Some(offer));
                if let Err(e) = retried {
                    self.event(SessionEvent::OfferFailed(e.to_string()));
                }
            }
        }
    }
}

impl<E> InviteSession<E> {
    /// Bytes the session holds beyond its dialog's: its own size and the messages it
    /// keeps (a 2xx awaiting ACK, the last ACK), without the SDP descriptions.
    pub fn heap_bytes(&self) -> usize {
        self.dialog.heap_bytes()
            + self.unacked.as_ref().map_or(0, |u| u.response.to_bytes().len())
            + self.ack.as_ref().map_or(0, |(_, a)| a.to_bytes().len())
    }
}
