//! The far sides of the tests, sans-IO and made of the real parts of the other crates:
//! a registrar with the digest server of `sip-auth` (401 with a challenge until a REGISTER
//! carries good credentials — user alice, password wonderland —, 423 below `min_expires`,
//! then 200 granting what is asked up to `max_expires` on the Contact), and a presence
//! notifier with the `Subscription` of `sip-dialog`.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use sip_auth::{Algorithm, DigestCredentials, DigestServer};
use sip_dialog::{Dialog, DialogId, Output, Subscription, SubscriptionConfig};
use sip_message::header::{Authorization, Contact, MediaType, WwwAuthenticate};
use sip_message::{Header, HeaderName, Request, Response, StatusCode, Uri};

fn digest_server() -> DigestServer {
    DigestServer::new("example.com", b"a registrar secret of 32 bytes!!".to_vec(), Algorithm::Sha256)
}

/// The time the digest servers see (their nonces' timestamps).
fn wall_clock() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// The 401 with a fresh challenge, or `None` when `request` carries good credentials.
fn unauthorized(digest: &mut DigestServer, request: &Request) -> Option<Response> {
    unauthorized_at(digest, request, wall_clock())
}

/// The same at `now` on the digest server's clock: credentials for a nonce that has
/// expired by then get the refusal's challenge, with `stale=true`.
fn unauthorized_at(digest: &mut DigestServer, request: &Request, now: SystemTime) -> Option<Response> {
    let credentials = request
        .headers
        .typed::<Authorization>()
        .and_then(Result::ok)
        .and_then(|a| DigestCredentials::from_credentials(&a.0).ok());
    let password = |user: &str| (user == "alice").then(|| "wonderland".to_owned());
    let method = request.method.to_string();
    let challenge = match credentials.map(|c| digest.verify(now, &method, &c, b"", password)) {
        Some(Ok(_)) => return None,
        Some(Err(refusal)) => refusal.challenge,
        None => digest.challenge(now, false),
    };
    let mut r = Response::from_request(request, StatusCode::UNAUTHORIZED).with_to_tag("challenge").unwrap();
    let challenge = challenge.to_challenge().unwrap();
    r.headers.push(Header::typed(&WwwAuthenticate(challenge)).unwrap());
    Some(r)
}

pub(crate) struct Registrar {
    digest: DigestServer,
    min_expires: u32,
    max_expires: u32,
    /// Every REGISTER received, in order.
    pub(crate) registers: Vec<Request>,
}

impl Registrar {
    pub(crate) fn new(min_expires: u32, max_expires: u32) -> Self {
        Self { digest: digest_server(), min_expires, max_expires, registers: Vec::new() }
    }

    pub(crate) fn answer(&mut self, request: &Request) -> Response {
        self.registers.push(request.clone());
        if let Some(challenge) = unauthorized(&mut self.digest, request) {
            return challenge;
        }
        let asked = request.headers.expires().unwrap().unwrap().0;
        if asked != 0 && asked < self.min_expires {
            let mut r = Response::from_request(request, StatusCode::new(423).unwrap()).with_to_tag("reg").unwrap();
            r.headers.push(Header::new(HeaderName::MIN_EXPIRES, self.min_expires.to_string()).unwrap());
            return r;
        }
        let mut r = Response::from_request(request, StatusCode::OK).with_to_tag("reg").unwrap();
        let contact = request.headers.contact().next().unwrap().unwrap();
        let granted = asked.min(self.max_expires);
        let bound = contact.address().unwrap().with_param("expires", Some(&granted.to_string())).unwrap();
        r.headers.push(Header::typed(&Contact::Address(bound)).unwrap());
        r
    }
}

/// A presence notifier: it takes SUBSCRIBEs (challenging each new one first when
/// `challenges`), answers them with 200 and a NOTIFY of `<presence>open</presence>`, and
/// runs each subscription's refreshes and end.
#[allow(dead_code)]
pub(crate) struct Notifier {
    digest: Option<DigestServer>,
    contact: Uri,
    subscriptions: Vec<Subscription>,
    /// Send each new subscription's first NOTIFY before its 200 (RFC 6665 §4.1.2.4).
    pub(crate) notify_first: bool,
    /// Every SUBSCRIBE received, in order.
    pub(crate) subscribes: Vec<Request>,
    /// Check the credentials of refreshes too (with a challenging notifier).
    pub(crate) challenge_refreshes: bool,
    /// The digest server's clock: moved on, it makes the nonces given out stale.
    pub(crate) clock: SystemTime,
}

#[allow(dead_code)]
impl Notifier {
    pub(crate) fn new(contact: Uri, challenges: bool) -> Self {
        Self {
            digest: challenges.then(digest_server),
            contact,
            subscriptions: Vec::new(),
            notify_first: false,
            subscribes: Vec::new(),
            challenge_refreshes: false,
            clock: wall_clock(),
        }
    }

    pub(crate) fn presence(status: &str) -> Option<(MediaType, Bytes)> {
        Some((
            MediaType::new("application", "pidf+xml").unwrap(),
            Bytes::from(format!("<presence>{status}</presence>")),
        ))
    }

    /// What `request` brings: its response (none when a subscription takes it and has
    /// nothing to say) and the NOTIFYs to send.
    pub(crate) fn receive(&mut self, now: Instant, request: &Request) -> (Vec<Response>, Vec<Request>) {
        if request.method.as_str() == "SUBSCRIBE" {
            self.subscribes.push(request.clone());
        }
        if let Some(id) = DialogId::of_request(request).unwrap() {
            let Some(s) = self.subscriptions.iter_mut().find(|s| *s.dialog().id() == id) else {
                return (vec![Response::from_request(request, StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST)], vec![]);
            };
            let refresh = request.method.as_str() == "SUBSCRIBE" && self.challenge_refreshes;
            if let Some(challenge) =
                self.digest.as_mut().filter(|_| refresh).and_then(|d| unauthorized_at(d, request, self.clock))
            {
                return (vec![challenge], vec![]);
            }
            s.receive_request(now, request);
            return Self::outputs(s);
        }
        if let Some(challenge) = self.digest.as_mut().and_then(|d| unauthorized_at(d, request, self.clock)) {
            return (vec![challenge], vec![]);
        }
        let tag = format!("notifier{}", self.subscriptions.len());
        let dialog = Dialog::new_uas_early(request, &tag, &self.contact).unwrap();
        let config = SubscriptionConfig { max_expires: 600, ..SubscriptionConfig::default() };
        match Subscription::notifier(now, dialog, request, true, Self::presence("open"), config, Default::default()) {
            Ok(mut s) => {
                let out = Self::outputs(&mut s);
                self.subscriptions.push(s);
                out
            }
            Err(refusal) => (vec![*refusal], vec![]),
        }
    }

    /// Every subscription's resource changed to `status`: a NOTIFY each.
    pub(crate) fn change(&mut self, now: Instant, status: &str) -> Vec<Request> {
        let mut all = Vec::new();
        for s in self.subscriptions.iter_mut().filter(|s| !s.is_terminated()) {
            s.notify(now, Self::presence(status)).unwrap();
            all.extend(Self::outputs(s).1);
        }
        all
    }

    pub(crate) fn receive_response(&mut self, now: Instant, response: &Response) {
        let id = DialogId::of_response(response).unwrap();
        if let Some(s) = self.subscriptions.iter_mut().find(|s| *s.dialog().id() == id) {
            s.receive_response(now, response);
        }
    }

    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.subscriptions.iter().filter_map(Subscription::poll_timeout).min()
    }

    pub(crate) fn handle_timeout(&mut self, now: Instant) -> Vec<Request> {
        let mut all = Vec::new();
        for s in &mut self.subscriptions {
            s.handle_timeout(now);
            all.extend(Self::outputs(s).1);
        }
        all
    }

    pub(crate) fn active(&self) -> usize {
        self.subscriptions.iter().filter(|s| !s.is_terminated()).count()
    }

    fn outputs(s: &mut Subscription) -> (Vec<Response>, Vec<Request>) {
        let (mut responses, mut requests) = (Vec::new(), Vec::new());
        while let Some(o) = s.poll_output() {
            match o {
                Output::Response(r) => responses.push(r),
                Output::Request(r) => requests.push(r),
                Output::Event(_) => {}
            }
        }
        (responses, requests)
    }
}
