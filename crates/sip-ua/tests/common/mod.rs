//! A registrar for the tests, with the digest server of `sip-auth`: 401 with a challenge
//! until a REGISTER carries good credentials (user alice, password wonderland), 423 below
//! `min_expires`, then 200 granting what is asked up to `max_expires` on the Contact.

use std::time::{Duration, SystemTime};

use sip_auth::{Algorithm, DigestCredentials, DigestServer};
use sip_message::header::{Authorization, Contact, WwwAuthenticate};
use sip_message::{Header, HeaderName, Request, Response, StatusCode};

pub(crate) struct Registrar {
    digest: DigestServer,
    min_expires: u32,
    max_expires: u32,
    /// Every REGISTER received, in order.
    pub(crate) registers: Vec<Request>,
}

impl Registrar {
    pub(crate) fn new(min_expires: u32, max_expires: u32) -> Self {
        Self {
            digest: DigestServer::new("example.com", b"a registrar secret of 32 bytes!!".to_vec(), Algorithm::Sha256),
            min_expires,
            max_expires,
            registers: Vec::new(),
        }
    }

    pub(crate) fn answer(&mut self, request: &Request) -> Response {
        self.registers.push(request.clone());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let credentials = request
            .headers
            .typed::<Authorization>()
            .and_then(Result::ok)
            .and_then(|a| DigestCredentials::from_credentials(&a.0).ok());
        let password = |user: &str| (user == "alice").then(|| "wonderland".to_owned());
        let verified = credentials.map(|c| self.digest.verify(now, "REGISTER", &c, b"", password));
        if !matches!(verified, Some(Ok(_))) {
            let mut r = Response::from_request(request, StatusCode::UNAUTHORIZED).with_to_tag("reg").unwrap();
            let challenge = self.digest.challenge(now, false).to_challenge().unwrap();
            r.headers.push(Header::typed(&WwwAuthenticate(challenge)).unwrap());
            return r;
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
