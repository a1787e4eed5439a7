//! [`UacRunner`]: a [`Uac`] pumped over a [`TransactionDriver`], for a program that places
//! calls and sends requests one step after another (`sipkit call`, `register`, ...).

use std::collections::VecDeque;
use std::time::Instant as StdInstant;

use sip_dialog::StdEntropy;
use sip_message::{Header, HeaderName, Method, Response, StatusCode};
use sip_transaction::Event;
use sip_transport::Target;
use tokio::time::Instant;

use crate::driver::{Events, TransactionDriver};
use crate::uac::{ALLOWED_METHODS, Action, Uac, UacEvent};
use crate::wakeup::Wakeup;

/// A [`Uac`] with its driver: commands go to [`uac`](Self::uac), and
/// [`next_event`](Self::next_event) runs everything until the UAC reports something.
#[derive(Debug)]
pub struct UacRunner {
    uac: Uac,
    driver: TransactionDriver,
    events: Events,
    reported: VecDeque<UacEvent>,
    tags: StdEntropy,
    wakeup: Wakeup,
}

/// The runner's clock: tokio's (paused in tests), as the std `Instant` the cores take.
pub fn now() -> StdInstant {
    Instant::now().into_std()
}

impl UacRunner {
    /// Runs `uac` over `driver` and the `events` it hands up.
    pub fn new(uac: Uac, driver: TransactionDriver, events: Events) -> Self {
        Self { uac, driver, events, reported: VecDeque::new(), tags: StdEntropy::default(), wakeup: Wakeup::new() }
    }

    /// The UAC, to start calls and requests on (with [`now`] as the time).
    pub fn uac(&mut self) -> &mut Uac {
        &mut self.uac
    }

    /// Runs until the UAC reports something, or `deadline` passes (`None`), or the
    /// driver stops (`None`).
    pub async fn next_event(&mut self, deadline: Option<Instant>) -> Option<UacEvent> {
        loop {
            self.carry_out().await;
            if let Some(event) = self.reported.pop_front() {
                return Some(event);
            }
            if deadline.is_some_and(|d| d <= Instant::now()) {
                return None;
            }
            self.wakeup.set([self.uac.poll_timeout().map(Instant::from_std), deadline].into_iter().flatten().min());
            tokio::select! {
                event = self.events.recv() => {
                    let event = event?;
                    if let Some(other) = self.uac.handle_event(now(), event) {
                        self.refuse(other).await;
                    }
                }
                () = self.wakeup.fired() => {
                    self.uac.handle_timeout(now());
                }
            }
        }
    }

    /// Sends what the UAC asks for; keeps what it reports.
    async fn carry_out(&mut self) {
        while let Some(action) = self.uac.poll_action() {
            match action {
                Action::Request { owner, request, target } => {
                    match self.driver.send_request(request.clone(), target).await {
                        Ok(key) => self.uac.request_sent(owner, request, key),
                        Err(_) => self.uac.request_failed(now(), owner, &request),
                    }
                }
                Action::Ack { request, target } => {
                    // A lost ACK is sent again when the 2xx is.
                    let _ = self.driver.send_ack(request, target).await;
                }
                Action::Abandon { key } => {
                    let _ = self.driver.abandon(key).await;
                }
                Action::Respond { key, response } => {
                    // The transaction may be gone: nothing to send then.
                    let _ = self.driver.post_response(key, response).await;
                }
                Action::Event(event) => self.reported.push_back(event),
            }
        }
    }

    /// Answers a request the UAC has no part in: 481 for one in a dialog it does not
    /// know, 405 with Allow for a new one (this side only places calls).
    async fn refuse(&mut self, event: Event<Target>) {
        let Event::Request { key: Some(key), request, .. } = event else { return };
        if request.method == Method::ACK {
            return;
        }
        let in_dialog = request.headers.to().and_then(Result::ok).is_some_and(|t| t.tag().is_some());
        let status = if in_dialog || request.method == Method::CANCEL {
            StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST
        } else {
            StatusCode::METHOD_NOT_ALLOWED
        };
        let mut response = Response::from_request(&request, status);
        if !in_dialog {
            response = response.clone().with_to_tag(&crate::new_tag(&mut self.tags)).unwrap_or(response);
        }
        if status == StatusCode::METHOD_NOT_ALLOWED {
            if let Ok(h) = Header::new(HeaderName::ALLOW, ALLOWED_METHODS) {
                response.headers.push(h);
            }
        }
        let _ = self.driver.post_response(key, response).await;
    }
}
