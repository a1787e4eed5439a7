//! Subscriptions (RFC 6665): the notifier's and the subscriber's side of one subscription
//! on its dialog, with expiry, refresh, and termination, sans-IO.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sip_message::header::{self, MediaType, TypedHeader};
use sip_message::{Header, HeaderName, Method, Request, Response, StatusCode};

use crate::dialog::{Dialog, DialogState};
use crate::error::DialogError;
use crate::session::{Entropy, Output, StdEntropy, via_with_new_branch};

/// The expiry a notifier grants when a SUBSCRIBE asks for none (RFC 6665 §4.2.1.1 leaves
/// the default to the event package; an hour is common).
pub const DEFAULT_SUBSCRIPTION_EXPIRES: u32 = 3600;

/// Timer values and limits of a subscription.
#[derive(Debug, Clone)]
pub struct SubscriptionConfig {
    /// T1: Timer N (64·T1) is how long a subscriber waits for the first NOTIFY.
    pub t1: Duration,
    /// The top Via of requests sent, without a branch.
    pub via: header::Via,
    /// The expiry granted when the SUBSCRIBE asks for none.
    pub default_expires: u32,
    /// The longest expiry a notifier grants (a longer request is cut to it).
    pub max_expires: u32,
    /// The shortest a notifier accepts (a shorter non-zero request gets 423 with this in
    /// Min-Expires).
    pub min_expires: u32,
}

impl Default for SubscriptionConfig {
    fn default() -> Self {
        Self {
            t1: Duration::from_millis(500),
            via: crate::session::SessionConfig::default().via,
            default_expires: DEFAULT_SUBSCRIPTION_EXPIRES,
            max_expires: 86_400,
            min_expires: 60,
        }
    }
}

/// The state of a subscription (RFC 6665 §4.1.3, the Subscription-State values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionState {
    /// Waiting for the notifier's (or its user's) approval.
    Pending,
    /// Running.
    Active,
    /// Ended, with the reason given (`timeout`, `rejected`, `noresource`, ...).
    Terminated(Option<String>),
}

/// What happened in a subscription, for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionEvent {
    /// Subscriber: a NOTIFY came (answered 200): the state it gives, and its body.
    Notified {
        /// The state.
        state: SubscriptionState,
        /// The body's type and content, if any.
        body: Option<(MediaType, Bytes)>,
    },
    /// The subscription ended.
    Terminated(Option<String>),
}

/// Which side of the subscription this UA is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionRole {
    /// It sent the SUBSCRIBE (or REFER) and receives NOTIFYs.
    Subscriber,
    /// It received the SUBSCRIBE and sends NOTIFYs.
    Notifier,
}

/// One subscription on its dialog.
#[derive(Debug)]
pub struct Subscription<E = StdEntropy> {
    dialog: Dialog,
    role: SubscriptionRole,
    event: header::Event,
    state: SubscriptionState,
    /// When the subscription expires.
    expires_at: Instant,
    /// Subscriber: when to refresh.
    refresh_at: Option<Instant>,
    /// Subscriber: Timer N, waiting for the first NOTIFY (or, unsubscribing, the last).
    notify_deadline: Option<Instant>,
    /// Subscriber: a SUBSCRIBE with Expires 0 went.
    unsubscribing: bool,
    /// Subscriber: the expiry the last refresh asked for.
    refresh_asked: u32,
    config: SubscriptionConfig,
    entropy: E,
    outputs: VecDeque<Output>,
    events: VecDeque<SubscriptionEvent>,
}

/// The Min-Expires of a 423 when it is more than `asked` (and `asked` is no unsubscribe).
fn longer_min_expires(response: &Response, asked: u32) -> Option<u32> {
    if response.status != StatusCode::INTERVAL_TOO_BRIEF || asked == 0 {
        return None;
    }
    let min = response.headers.typed::<header::MinExpires>().and_then(Result::ok)?.0;
    (min > asked).then_some(min)
}

/// A refused refresh is not tried again when less than this is left of the subscription.
pub const MIN_RETRY_WINDOW: Duration = Duration::from_secs(4);

/// Whether a refresh refused with `status` ends the subscription: the codes RFC 6665
/// §4.1.2.2 names, and 408 (the refresh timed out).
fn ends_subscription(status: StatusCode) -> bool {
    matches!(status.as_u16(), 404 | 405 | 408 | 410 | 416 | 480..=485 | 489 | 501 | 604)
}

fn expires_of(headers: &sip_message::Headers) -> Option<u32> {
    headers.expires().and_then(Result::ok).map(|e| e.0)
}

fn event_of(headers: &sip_message::Headers) -> Option<header::Event> {
    headers.typed::<header::Event>().and_then(Result::ok)
}

/// The event package a SUBSCRIBE names, or `refer` for a REFER (RFC 3515 §2.4.4).
fn event_of_request(request: &Request) -> Option<header::Event> {
    if request.method == Method::REFER {
        header::Event::decode(&Bytes::from_static(b"refer")).ok()
    } else {
        event_of(&request.headers)
    }
}

/// The 423 with Min-Expires for a SUBSCRIBE asking for a non-zero expiry below `min`
/// (RFC 6665 §4.2.1.1), or the expiry asked for (`default` when none).
fn asked_expires(subscribe: &Request, default: u32, min: u32) -> Result<u32, Box<Response>> {
    let asked = expires_of(&subscribe.headers).unwrap_or(default);
    if asked != 0 && asked < min {
        let mut r = Response::from_request(subscribe, StatusCode::INTERVAL_TOO_BRIEF);
        if let Ok(h) = Header::new(HeaderName::MIN_EXPIRES, min.to_string()) {
            r.headers.push(h);
        }
        return Err(Box::new(r));
    }
    Ok(asked)
}

/// Whether two Event values name the same subscription: same package, same `id`.
fn same_event(a: &header::Event, b: &header::Event) -> bool {
    a.package().eq_ignore_ascii_case(b.package()) && a.id() == b.id()
}

impl<E: Entropy> Subscription<E> {
    /// The notifier's side, for a SUBSCRIBE (or a REFER, event `refer`) that made
    /// `dialog` at this UAS: answers it with 200 (202 for REFER) and the granted Expires,
    /// and sends the first NOTIFY (`pending` or `active`, with `body`). A SUBSCRIBE whose
    /// Expires is below [`SubscriptionConfig::min_expires`] gets 423 and makes nothing.
    pub fn notifier(
        now: Instant,
        dialog: Dialog,
        subscribe: &Request,
        active: bool,
        body: Option<(MediaType, Bytes)>,
        config: SubscriptionConfig,
        entropy: E,
    ) -> Result<Self, Box<Response>> {
        let Some(event) = event_of_request(subscribe) else {
            return Err(Box::new(Response::from_request(subscribe, StatusCode::BAD_EVENT)));
        };
        let asked = asked_expires(subscribe, config.default_expires, config.min_expires)?;
        let granted = asked.min(config.max_expires);
        let mut s = Self::new(dialog, SubscriptionRole::Notifier, event, config, entropy, now, granted);
        s.state = if active { SubscriptionState::Active } else { SubscriptionState::Pending };
        let status = if subscribe.method == Method::REFER { StatusCode::ACCEPTED } else { StatusCode::OK };
        s.respond_to_subscribe(subscribe, status, granted);
        if granted == 0 {
            // A fetch: one NOTIFY, then the end (RFC 6665 §4.4.3).
            s.state = SubscriptionState::Terminated(Some("timeout".into()));
        }
        s.send_notify(now, body);
        if granted == 0 {
            s.finish(Some("timeout".into()));
        }
        Ok(s)
    }

    /// The subscriber's side, made when the 2xx to its SUBSCRIBE (or REFER) made `dialog`:
    /// the expiry is the 2xx's Expires (or the one asked for); it waits Timer N for the
    /// first NOTIFY.
    pub fn subscriber(
        now: Instant,
        dialog: Dialog,
        subscribe: &Request,
        ok: &Response,
        config: SubscriptionConfig,
        entropy: E,
    ) -> Result<Self, DialogError> {
        let event = event_of_request(subscribe).ok_or(DialogError::MissingHeader("Event"))?;
        let expires =
            expires_of(&ok.headers).or_else(|| expires_of(&subscribe.headers)).unwrap_or(config.default_expires);
        let mut s = Self::new(dialog, SubscriptionRole::Subscriber, event, config, entropy, now, expires);
        s.state = SubscriptionState::Pending;
        s.notify_deadline = Some(now + s.config.t1 * 64);
        s.schedule_refresh(now, expires);
        Ok(s)
    }

    fn new(
        dialog: Dialog,
        role: SubscriptionRole,
        event: header::Event,
        config: SubscriptionConfig,
        entropy: E,
        now: Instant,
        expires: u32,
    ) -> Self {
        Self {
            dialog,
            role,
            event,
            state: SubscriptionState::Pending,
            expires_at: now + Duration::from_secs(u64::from(expires)),
            refresh_at: None,
            notify_deadline: None,
            unsubscribing: false,
            refresh_asked: expires,
            config,
            entropy,
            outputs: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The dialog.
    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }

    /// Which side this UA is.
    pub fn role(&self) -> SubscriptionRole {
        self.role
    }

    /// The state.
    pub fn state(&self) -> &SubscriptionState {
        &self.state
    }

    /// Whether the subscription ended.
    pub fn is_terminated(&self) -> bool {
        matches!(self.state, SubscriptionState::Terminated(_))
    }

    /// The next message to send.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next event for the application.
    pub fn poll_event(&mut self) -> Option<SubscriptionEvent> {
        self.events.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_terminated() {
            return None;
        }
        [Some(self.expires_at), self.refresh_at, self.notify_deadline].into_iter().flatten().min()
    }

    fn via(&mut self) -> header::Via {
        via_with_new_branch(&self.config.via, &mut self.entropy)
    }

    fn respond_to_subscribe(&mut self, subscribe: &Request, status: StatusCode, granted: u32) {
        let mut r = Response::from_request(subscribe, status);
        let tag = String::from_utf8_lossy(self.dialog.id().local_tag()).into_owned();
        if subscribe.headers.to().and_then(Result::ok).is_none_or(|t| t.tag().is_none()) {
            r = r.clone().with_to_tag(&tag).unwrap_or(r);
            r.headers.push(Header::contact(self.dialog.local_target()));
        }
        if let Ok(h) = Header::new(HeaderName::EXPIRES, granted.to_string()) {
            r.headers.push(h);
        }
        self.dialog.response_sent(&r);
        self.outputs.push_back(Output::Response(r));
    }

    /// The Subscription-State value now.
    fn state_value(&self, now: Instant) -> String {
        let left = self.expires_at.saturating_duration_since(now).as_secs();
        match &self.state {
            SubscriptionState::Pending => format!("pending;expires={left}"),
            SubscriptionState::Active => format!("active;expires={left}"),
            SubscriptionState::Terminated(Some(reason)) => format!("terminated;reason={reason}"),
            SubscriptionState::Terminated(None) => "terminated".into(),
        }
    }

    fn send_notify(&mut self, now: Instant, body: Option<(MediaType, Bytes)>) {
        let via = self.via();
        let Ok(mut notify) = self.dialog.request(Method::NOTIFY, via) else { return };
        if let Ok(h) = Header::typed(&self.event) {
            notify.headers.push(h);
        }
        if let Ok(h) = Header::new(HeaderName::SUBSCRIPTION_STATE, self.state_value(now)) {
            notify.headers.push(h);
        }
        if let Some((kind, bytes)) = body {
            notify.set_body(Some(kind), bytes);
        }
        self.outputs.push_back(Output::Request(notify));
    }

    fn finish(&mut self, reason: Option<String>) {
        self.state = SubscriptionState::Terminated(reason.clone());
        self.refresh_at = None;
        self.notify_deadline = None;
        self.dialog.terminate();
        self.events.push_back(SubscriptionEvent::Terminated(reason));
    }

    // ---- notifier ----------------------------------------------------------------------

    /// Notifier: sends a NOTIFY with the current state and `body` (a state change of the
    /// resource).
    pub fn notify(&mut self, now: Instant, body: Option<(MediaType, Bytes)>) -> Result<(), DialogError> {
        if self.role != SubscriptionRole::Notifier || self.is_terminated() {
            return Err(DialogError::Terminated);
        }
        self.send_notify(now, body);
        Ok(())
    }

    /// Notifier: a pending subscription becomes active (with a NOTIFY).
    pub fn activate(&mut self, now: Instant, body: Option<(MediaType, Bytes)>) -> Result<(), DialogError> {
        if self.state != SubscriptionState::Pending {
            return Err(DialogError::Terminated);
        }
        self.state = SubscriptionState::Active;
        self.notify(now, body)
    }

    /// Notifier: ends the subscription with a final NOTIFY (`terminated;reason=...`).
    pub fn terminate(
        &mut self,
        now: Instant,
        reason: &str,
        body: Option<(MediaType, Bytes)>,
    ) -> Result<(), DialogError> {
        if self.role != SubscriptionRole::Notifier || self.is_terminated() {
            return Err(DialogError::Terminated);
        }
        let reason = Some(reason.to_string()).filter(|r| !r.is_empty());
        self.state = SubscriptionState::Terminated(reason.clone());
        self.send_notify(now, body);
        self.finish(reason);
        Ok(())
    }

    /// A request received in the dialog: a refreshing SUBSCRIBE (answered with the new
    /// Expires and a NOTIFY; Expires 0 ends it) at the notifier, a NOTIFY at the
    /// subscriber (answered 200, 489 for another event package, 481 once ended).
    pub fn receive_request(&mut self, now: Instant, request: &Request) {
        if let Err(e) = self.dialog.receive_request(request) {
            self.outputs.push_back(Output::Response(Response::from_request(request, e.status())));
            return;
        }
        match (self.role, &request.method) {
            (SubscriptionRole::Notifier, m) if *m == Method::SUBSCRIBE => self.receive_refresh(now, request),
            (SubscriptionRole::Subscriber, m) if *m == Method::NOTIFY => self.receive_notify(now, request),
            _ => {
                let r = Response::from_request(request, StatusCode::METHOD_NOT_ALLOWED);
                self.outputs.push_back(Output::Response(r));
            }
        }
    }

    fn receive_refresh(&mut self, now: Instant, subscribe: &Request) {
        if event_of(&subscribe.headers).is_none_or(|e| !same_event(&e, &self.event)) {
            let r = Response::from_request(subscribe, StatusCode::BAD_EVENT);
            self.outputs.push_back(Output::Response(r));
            return;
        }
        let asked = match asked_expires(subscribe, self.config.default_expires, self.config.min_expires) {
            Ok(asked) => asked,
            Err(too_brief) => {
                self.outputs.push_back(Output::Response(*too_brief));
                return;
            }
        };
        let granted = asked.min(self.config.max_expires);
        self.expires_at = now + Duration::from_secs(u64::from(granted));
        self.respond_to_subscribe(subscribe, StatusCode::OK, granted);
        if granted == 0 {
            // Unsubscribe (RFC 6665 §4.2.1.4): a last NOTIFY, terminated.
            self.state = SubscriptionState::Terminated(Some("timeout".into()));
            self.send_notify(now, None);
            self.finish(Some("timeout".into()));
        } else {
            self.send_notify(now, None);
        }
    }

    // ---- subscriber --------------------------------------------------------------------

    /// After a refresh refused without ending the subscription: it is tried again half
    /// way to the expiry, or after the Retry-After asked for when that comes sooner (a
    /// subscriber answering a challenge refreshes at once instead). Not within the
    /// expiry's last [`MIN_RETRY_WINDOW`].
    fn refresh_again(&mut self, now: Instant, headers: &sip_message::Headers) {
        let left = self.expires_at.saturating_duration_since(now);
        if left < MIN_RETRY_WINDOW {
            return;
        }
        let half_way = now + left / 2;
        let asked = headers.typed::<header::RetryAfter>().and_then(Result::ok);
        let after = asked.and_then(|r| now.checked_add(Duration::from_secs(u64::from(r.seconds))));
        self.refresh_at = Some(after.filter(|&t| t < half_way).unwrap_or(half_way));
    }

    fn schedule_refresh(&mut self, now: Instant, expires: u32) {
        // Refresh ahead of the expiry: half way for short ones, a minute before otherwise.
        let ahead = (expires / 2).min(60);
        self.refresh_at = (expires > 0).then(|| now + Duration::from_secs(u64::from(expires - ahead)));
    }

    fn receive_notify(&mut self, now: Instant, notify: &Request) {
        if event_of(&notify.headers).is_none_or(|e| !same_event(&e, &self.event)) {
            let r = Response::from_request(notify, StatusCode::BAD_EVENT);
            self.outputs.push_back(Output::Response(r));
            return;
        }
        let Some(Ok(state)) = notify.headers.typed::<header::SubscriptionState>() else {
            let r = Response::from_request(notify, StatusCode::BAD_REQUEST);
            self.outputs.push_back(Output::Response(r));
            return;
        };
        self.outputs.push_back(Output::Response(Response::from_request(notify, StatusCode::OK)));
        self.notify_deadline = None;
        let body = notify
            .headers
            .content_type()
            .and_then(Result::ok)
            .filter(|_| !notify.body.is_empty())
            .map(|ct| (ct.0, notify.body.clone()));
        let new_state = match state.state().to_ascii_lowercase().as_str() {
            "active" => SubscriptionState::Active,
            "pending" => SubscriptionState::Pending,
            _ => SubscriptionState::Terminated(state.reason().map(str::to_string)),
        };
        if let Some(expires) = state.expires() {
            self.expires_at = now + Duration::from_secs(u64::from(expires));
            self.schedule_refresh(now, expires);
        }
        self.events.push_back(SubscriptionEvent::Notified { state: new_state.clone(), body });
        match new_state {
            SubscriptionState::Terminated(reason) => self.finish(reason),
            s => self.state = s,
        }
    }

    /// Subscriber: refreshes the subscription with a SUBSCRIBE in the dialog asking for
    /// `expires` seconds; 0 unsubscribes (the notifier's final NOTIFY ends it).
    pub fn refresh(&mut self, expires: u32) -> Result<(), DialogError> {
        if self.role != SubscriptionRole::Subscriber || self.is_terminated() {
            return Err(DialogError::Terminated);
        }
        let via = self.via();
        let mut subscribe = self.dialog.request(Method::SUBSCRIBE, via)?;
        if let Ok(h) = Header::typed(&self.event) {
            subscribe.headers.push(h);
        }
        if let Ok(h) = Header::new(HeaderName::EXPIRES, expires.to_string()) {
            subscribe.headers.push(h);
        }
        self.refresh_at = None;
        self.unsubscribing |= expires == 0;
        self.refresh_asked = expires;
        self.outputs.push_back(Output::Request(subscribe));
        Ok(())
    }

    /// Subscriber: ends the subscription (SUBSCRIBE with Expires 0).
    pub fn unsubscribe(&mut self) -> Result<(), DialogError> {
        self.refresh(0)
    }

    /// A response to a request this side sent in the dialog: a 2xx to a refresh sets the
    /// new expiry; a refresh refused with one of the codes RFC 6665 §4.1.2.2 lists (404,
    /// 405, 410, 416, 480–485, 489, 501, 604), or timed out (408, §4.1.2's state diagram),
    /// ends the subscription; any other refusal (a 401 or 407 to answer with credentials,
    /// a 500) leaves it valid until the expiry last known, and the refresh is tried again
    /// before (half way there, or after a sooner Retry-After), unless the subscriber
    /// [`refresh`](Self::refresh)es first; a 423 is answered at once with a refresh asking
    /// for its Min-Expires (§4.1.2.1). A NOTIFY answered 481 or 408 ends it at the
    /// notifier.
    pub fn receive_response(&mut self, now: Instant, response: &Response) {
        let Some(Ok(cseq)) = response.headers.cseq() else { return };
        let _ = self.dialog.receive_response(&cseq.method, response);
        let status = response.status;
        if status.is_provisional() || self.is_terminated() {
            return;
        }
        if cseq.method == Method::SUBSCRIBE {
            if status.is_success() && self.unsubscribing {
                // The final NOTIFY follows (RFC 6665 §4.1.2.3): wait for it as long as for a
                // first one, Timer N.
                let wait = now + self.config.t1 * 64;
                self.expires_at = wait;
                self.notify_deadline = Some(wait);
                self.refresh_at = None;
            } else if status.is_success() {
                if let Some(expires) = expires_of(&response.headers) {
                    self.expires_at = now + Duration::from_secs(u64::from(expires));
                    self.schedule_refresh(now, expires);
                }
            } else if ends_subscription(status) {
                self.finish(Some(format!("refresh failed: {}", status.as_u16())));
            } else if let Some(min) = longer_min_expires(response, self.refresh_asked) {
                // §4.1.2.1: too brief; asked again at once for the Min-Expires.
                let _ = self.refresh(min);
            } else {
                self.refresh_again(now, &response.headers);
            }
        } else if matches!(status.as_u16(), 481 | 408) || self.dialog.state() == DialogState::Terminated {
            self.finish(Some("dialog gone".into()));
        }
    }

    /// Fires what is due: the subscriber's refresh and Timer N, the expiry (the notifier
    /// sends its final NOTIFY with `reason=timeout`).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.is_terminated() {
            return;
        }
        if self.notify_deadline.is_some_and(|t| t <= now) {
            // RFC 6665 §4.1.2.4: no NOTIFY within Timer N.
            self.finish(Some("no NOTIFY".into()));
            return;
        }
        if now >= self.expires_at {
            match self.role {
                SubscriptionRole::Notifier => {
                    self.state = SubscriptionState::Terminated(Some("timeout".into()));
                    self.send_notify(now, None);
                    self.finish(Some("timeout".into()));
                }
                SubscriptionRole::Subscriber => self.finish(Some("expired".into())),
            }
            return;
        }
        if self.refresh_at.is_some_and(|t| t <= now) {
            let expires = u32::try_from(self.expires_at.saturating_duration_since(now).as_secs()).unwrap_or(0);
            // An unsubscribe tried again stays one.
            let ask = if self.unsubscribing { 0 } else { expires.max(self.config.default_expires) };
            let _ = self.refresh(ask);
        }
    }
}
