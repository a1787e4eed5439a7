//! SIP dialogs (RFC 3261 §12) as a sans-IO layer.
//!
//! A [`Dialog`] is made from the request and response that create it, on the UAC side
//! ([`Dialog::new_uac`]) or the UAS side ([`Dialog::new_uas`]). It builds the requests sent
//! in it (To, From, Call-ID, CSeq, Request-URI and Route with loose or strict routing) and
//! checks the ones received (481 for another dialog, 500 for an old CSeq, target refresh).
//! [`Dialogs`] keeps the dialogs of a UA and the rules that span several: the early
//! dialogs of a forked INVITE, the 2xx of a branch that is not wanted, requests for dialogs
//! that do not exist.
//!
//! An [`InviteSession`] runs the INVITE usage of a dialog (§13–15, RFC 3311): offer/answer
//! with a `sip_sdp::Negotiator` through INVITE, 2xx, ACK and UPDATE; the UAS's 2xx sent
//! again until its ACK and a BYE when none comes; the UAC's ACK for every 2xx; re-INVITE
//! and UPDATE with 491 and the randomized retry of §14.1 on glare; CANCEL and BYE;
//! reliable provisional responses (RFC 3262); session timers (RFC 4028); the REFER of a
//! transfer with its NOTIFYs (RFC 3515). A [`Subscription`] runs a SUBSCRIBE/NOTIFY
//! dialog (RFC 6665) from either side.
//!
//! Nothing here does I/O or reads a clock: messages and the time go in, messages and
//! events come out, and `poll_timeout` says when to come back.
//!
//! ```
//! use sip_dialog::{Dialog, DialogState};
//! use sip_message::header::{Transport, Via};
//! use sip_message::{Header, HeaderName, Message, Method, Response, StatusCode};
//!
//! let Ok(Message::Request(invite)) = Message::parse(&b"INVITE sip:bob@biloxi.example.com SIP/2.0\r
//! Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r
//! Max-Forwards: 70\r
//! To: Bob <sip:bob@biloxi.example.com>\r
//! From: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r
//! Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r
//! CSeq: 314159 INVITE\r
//! Contact: <sip:alice@pc33.atlanta.example.com>\r
//! Content-Length: 0\r
//! \r
//! "[..]) else { unreachable!() };
//! // The UAS answers with a To tag and its Contact: a confirmed dialog on both sides.
//! let mut ok = Response::from_request(&invite, StatusCode::OK).with_to_tag("a6c85cf").unwrap();
//! ok.headers.push(Header::new(HeaderName::CONTACT, "<sip:bob@192.0.2.4>").unwrap());
//! let mut alice = Dialog::new_uac(&invite, &ok).unwrap();
//! assert_eq!(alice.state(), DialogState::Confirmed);
//! let host = "pc33.atlanta.example.com".parse().unwrap();
//! let via = Via::new(&Transport::UDP, &host, None).with_branch("z9hG4bKnashds8").unwrap();
//! let bye = alice.request(Method::BYE, via).unwrap();
//! assert_eq!(bye.uri.to_string(), "sip:bob@192.0.2.4");
//! assert_eq!(bye.headers.cseq().unwrap().unwrap().seq, 314160);
//! ```

#![forbid(unsafe_code)]

mod dialog;
mod dialogs;
mod error;
mod session;
mod subscription;

pub use dialog::{Dialog, DialogId, DialogState, MAX_CSEQ, MAX_FORWARDS, Role, is_target_refresh};
pub use dialogs::{Dialogs, MAX_BRANCHES, MAX_DIALOGS, UacOutcome};
pub use error::DialogError;
pub use session::{
    DEFAULT_PROGRESS_REFRESH, EndReason, Entropy, InviteSession, Output, REFER_SUBSCRIPTION_DURATION, Refused,
    SessionConfig, SessionError, SessionEvent, StdEntropy, session_timer_headers,
};
pub use subscription::{
    DEFAULT_SUBSCRIPTION_EXPIRES, MIN_RETRY_WINDOW, Subscription, SubscriptionConfig, SubscriptionEvent,
    SubscriptionRole, SubscriptionState,
};
