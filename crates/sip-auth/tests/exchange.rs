//! Client and server together: challenges, credentials, verification, replays, stale
//! nonces, refused passwords, proxy and UAS challenges at once.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use sip_auth::{
    Algorithm, AuthError, DigestChallenge, DigestClient, DigestCredentials, DigestInput, DigestServer, Qop,
};
use sip_message::header::{Authorization, ProxyAuthenticate, TypedHeader, WwwAuthenticate};
use sip_message::{Header, HeaderName, Message, Request, Response, StatusCode};

const SECRET: &[u8] = b"a server secret of thirty-two bytes!";

fn register(cseq: u32) -> Request {
    let text = format!(
        "REGISTER sip:registrar.biloxi.example.com SIP/2.0\r
Via: SIP/2.0/UDP bobspc.biloxi.example.com:5060;branch=z9hG4bKnashds{cseq}\r
Max-Forwards: 70\r
To: Bob <sip:bob@biloxi.example.com>\r
From: Bob <sip:bob@biloxi.example.com>;tag=456248\r
Call-ID: 843817637684230@998sdasdh09\r
CSeq: {cseq} REGISTER\r
Contact: <sip:bob@192.0.2.4>\r
Expires: 7200\r
Content-Length: 0\r
\r
"
    );
    match Message::parse(text.into_bytes()) {
        Ok(Message::Request(r)) => r,
        _ => unreachable!(),
    }
}

fn unauthorized(request: &Request, challenges: &[DigestChallenge]) -> Response {
    let mut r = Response::from_request(request, StatusCode::UNAUTHORIZED);
    for c in challenges {
        r.headers.push(Header::typed(&WwwAuthenticate(c.to_challenge().unwrap())).unwrap());
    }
    r
}

fn credentials_of(request: &Request) -> DigestCredentials {
    let a = request.headers.typed::<Authorization>().expect("Authorization").expect("valid");
    DigestCredentials::from_credentials(&a.0).expect("digest credentials")
}

fn password(user: &str) -> Option<String> {
    (user == "bob").then(|| "zanzibar".to_string())
}

fn t(s: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + s)
}

#[test]
fn register_challenged_then_accepted_with_authentication_info() {
    for algorithm in [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512_256Sess] {
        let mut server = DigestServer::new("biloxi.example.com", SECRET, algorithm);
        let first = register(1);
        let r401 = unauthorized(&first, &[server.challenge(t(0), false)]);

        let mut client = DigestClient::new("bob", "zanzibar");
        let mut retry = register(2);
        client.authorize(&mut retry, &first, &r401, "0a4f113b").unwrap();
        let creds = credentials_of(&retry);
        assert_eq!(creds.uri, "sip:registrar.biloxi.example.com");
        assert_eq!(creds.algorithm, algorithm);
        assert_eq!(creds.qop, Some(Qop::Auth));

        let ok = server.verify(t(10), "REGISTER", &creds, b"", password).unwrap();
        assert_eq!(ok.username, "bob");
        // rspauth proves the server knows the password too.
        let info = &ok.authentication_info.0;
        let expected = DigestInput {
            algorithm,
            username: "bob",
            realm: "biloxi.example.com",
            password: "zanzibar",
            method: "REGISTER",
            uri: &creds.uri,
            nonce: &creds.nonce,
            cnonce: "0a4f113b",
            nc: 1,
            qop: Some(Qop::Auth),
            body: b"",
        }
        .rspauth();
        assert_eq!(info.get("rspauth").unwrap().as_ref(), expected.as_bytes());
        assert_eq!(info.get("nc").unwrap().as_ref(), b"00000001");
        assert!(info.get("nextnonce").is_none(), "the nonce is young");
    }
}

#[test]
fn replays_wrong_passwords_and_foreign_nonces_are_refused() {
    let mut server = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Sha256);
    let c = server.challenge(t(0), false);
    let mut client = DigestClient::new("bob", "zanzibar");
    let creds = client.respond(&c, "REGISTER", "sip:registrar.biloxi.example.com", b"", "c1").unwrap();
    server.verify(t(1), "REGISTER", &creds, b"", password).unwrap();
    // The same credentials again: the nonce count was used.
    let replay = server.verify(t(2), "REGISTER", &creds, b"", password).unwrap_err();
    assert_eq!(replay.reason, "a nonce count used before");
    assert!(!replay.challenge.stale);
    // The next count is fine.
    let next = client.respond(&c, "REGISTER", "sip:registrar.biloxi.example.com", b"", "c1").unwrap();
    assert_eq!(next.nc, Some(2));
    server.verify(t(3), "REGISTER", &next, b"", password).unwrap();

    // A wrong password.
    let mut mallory = DigestClient::new("bob", "guess");
    let wrong = mallory.respond(&c, "REGISTER", "sip:registrar.biloxi.example.com", b"", "c2").unwrap();
    assert_eq!(server.verify(t(4), "REGISTER", &wrong, b"", password).unwrap_err().reason, "a wrong response");
    // An unknown user.
    let mut eve = DigestClient::new("eve", "zanzibar");
    let unknown = eve.respond(&c, "REGISTER", "sip:registrar.biloxi.example.com", b"", "c3").unwrap();
    assert_eq!(server.verify(t(5), "REGISTER", &unknown, b"", password).unwrap_err().reason, "an unknown user");
    // A nonce another secret signed.
    let other = DigestServer::new("biloxi.example.com", b"another secret".to_vec(), Algorithm::Sha256);
    let forged = client.respond(&other.challenge(t(0), false), "REGISTER", "sip:r", b"", "c4").unwrap();
    assert_eq!(
        server.verify(t(6), "REGISTER", &forged, b"", password).unwrap_err().reason,
        "a nonce this server did not make"
    );
    // Credentials for another request method do not verify.
    let creds = client.respond(&c, "INVITE", "sip:registrar.biloxi.example.com", b"", "c5").unwrap();
    assert_eq!(server.verify(t(7), "REGISTER", &creds, b"", password).unwrap_err().reason, "a wrong response");
}

#[test]
fn expired_nonce_is_stale_and_the_client_goes_again() {
    let mut server =
        DigestServer::new("biloxi.example.com", SECRET, Algorithm::Md5).with_nonce_lifetime(Duration::from_secs(60));
    let first = register(1);
    let r401 = unauthorized(&first, &[server.challenge(t(0), false)]);
    let mut client = DigestClient::new("bob", "zanzibar");
    let mut second = register(2);
    client.authorize(&mut second, &first, &r401, "c1").unwrap();
    // Half way through its life a nonce is still good, and nextnonce comes along.
    let ok = server.verify(t(40), "REGISTER", &credentials_of(&second), b"", password).unwrap();
    assert!(ok.authentication_info.0.get("nextnonce").is_some());

    // Later the same nonce has expired: stale=true, with a fresh nonce.
    let mut third = register(3);
    client.authorize(&mut third, &first, &r401, "c2").unwrap();
    let refusal = server.verify(t(61), "REGISTER", &credentials_of(&third), b"", password).unwrap_err();
    assert_eq!(refusal.reason, "an expired nonce");
    assert!(refusal.challenge.stale);
    // The client answers the stale challenge although it sent credentials for the realm.
    let r401 = unauthorized(&third, &[refusal.challenge]);
    let mut fourth = register(4);
    client.authorize(&mut fourth, &third, &r401, "c3").unwrap();
    assert_eq!(fourth.headers.get_all(&HeaderName::AUTHORIZATION).count(), 1, "the old credentials replaced");
    server.verify(t(62), "REGISTER", &credentials_of(&fourth), b"", password).unwrap();
}

#[test]
fn challenged_again_without_stale_means_rejected() {
    let server = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Sha256);
    let first = register(1);
    let r401 = unauthorized(&first, &[server.challenge(t(0), false)]);
    let mut client = DigestClient::new("bob", "wrong");
    let mut second = register(2);
    client.authorize(&mut second, &first, &r401, "c1").unwrap();
    let again = unauthorized(&second, &[server.challenge(t(1), false)]);
    let mut third = register(3);
    assert_eq!(
        client.authorize(&mut third, &second, &again, "c2").unwrap_err(),
        AuthError::Rejected("biloxi.example.com".into())
    );
    // A 401 without a digest challenge cannot be answered.
    let bare = Response::from_request(&first, StatusCode::UNAUTHORIZED);
    assert_eq!(client.authorize(&mut third, &first, &bare, "c3").unwrap_err(), AuthError::NoUsableChallenge);
}

#[test]
fn the_strongest_challenge_per_realm_and_proxy_challenges_too() {
    let first = register(1);
    let md5 = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Md5).challenge(t(0), false);
    let sha = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Sha512_256).challenge(t(0), false);
    let proxy = DigestServer::new("atlanta.example.com", SECRET, Algorithm::Sha256).challenge(t(0), false);
    let mut r = unauthorized(&first, &[md5, sha]);
    r.headers.push(Header::typed(&ProxyAuthenticate(proxy.to_challenge().unwrap())).unwrap());
    // A scheme this crate does not speak is skipped.
    r.headers.push(Header::new(HeaderName::WWW_AUTHENTICATE, "Bearer realm=\"x\"").unwrap());
    let picked = DigestClient::challenges(&r);
    assert_eq!(picked.len(), 2);
    assert_eq!(picked[0].1.algorithm, Algorithm::Sha512_256);
    assert_eq!(picked[1].0, HeaderName::PROXY_AUTHORIZATION);

    let mut client = DigestClient::new("bob", "zanzibar");
    let mut retry = register(2);
    client.authorize(&mut retry, &first, &r, "c1").unwrap();
    assert_eq!(retry.headers.get_all(&HeaderName::AUTHORIZATION).count(), 1);
    assert_eq!(retry.headers.get_all(&HeaderName::PROXY_AUTHORIZATION).count(), 1);
    assert_eq!(credentials_of(&retry).algorithm, Algorithm::Sha512_256);
    // The request still parses with its new headers.
    assert!(Message::parse(retry.to_bytes()).is_ok());
}

#[test]
fn auth_int_covers_the_body() {
    let mut server = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Sha256);
    let mut c = server.challenge(t(0), false);
    c.qop = vec![Qop::AuthInt];
    let mut client = DigestClient::new("bob", "zanzibar");
    let body = b"v=0\r\n";
    let creds = client.respond(&c, "INVITE", "sip:bob@biloxi.example.com", body, "c1").unwrap();
    assert_eq!(creds.qop, Some(Qop::AuthInt));
    assert_eq!(server.verify(t(1), "INVITE", &creds, b"v=1\r\n", password).unwrap_err().reason, "a wrong response");
    server.verify(t(1), "INVITE", &creds, body, password).unwrap();
}

#[test]
fn replay_memory_is_bounded() {
    let mut server = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Md5).with_max_tracked_nonces(3);
    let mut client = DigestClient::new("bob", "zanzibar");
    for i in 0..10 {
        let c = server.challenge(t(i), false);
        let creds = client.respond(&c, "REGISTER", "sip:r", b"", "c").unwrap();
        server.verify(t(i), "REGISTER", &creds, b"", password).unwrap();
        assert!(server.tracked_nonces() <= 3);
    }
}

#[test]
fn challenges_and_credentials_read_back() {
    let c = DigestServer::new("biloxi.example.com", SECRET, Algorithm::Sha256Sess).challenge(t(0), true);
    let header = WwwAuthenticate(c.to_challenge().unwrap());
    let mut out = bytes::BytesMut::new();
    header.encode(&mut out);
    let back = WwwAuthenticate::decode(&Bytes::from(out.to_vec())).unwrap();
    assert_eq!(DigestChallenge::from_challenge(&back.0).unwrap(), c);
    // Unknown algorithms and missing parameters are errors.
    let odd =
        WwwAuthenticate::decode(&Bytes::from_static(b"Digest realm=\"r\", nonce=\"n\", algorithm=SHA-1")).unwrap();
    assert_eq!(DigestChallenge::from_challenge(&odd.0).unwrap_err(), AuthError::UnknownAlgorithm("SHA-1".into()));
    let no_nonce = WwwAuthenticate::decode(&Bytes::from_static(b"Digest realm=\"r\"")).unwrap();
    assert_eq!(DigestChallenge::from_challenge(&no_nonce.0).unwrap_err(), AuthError::Missing("nonce"));
}

mod roundtrip {
    use super::*;
    use proptest::prelude::*;

    fn qtext() -> impl Strategy<Value = String> {
        // What a quoted string may hold, escapes included.
        "[a-zA-Z0-9@._/+= \"\\\\-]{1,24}"
    }

    proptest! {
        /// Challenges and credentials survive writing and reading back; a client's
        /// credentials always verify at the server that made the challenge.
        #[test]
        fn write_read_verify(
            realm in qtext(),
            user in "[a-z]{1,12}",
            pass in qtext(),
            cnonce in "[a-zA-Z0-9]{1,16}",
            algorithm in prop::sample::select(Algorithm::ALL.to_vec()),
            int in any::<bool>(),
            body in prop::collection::vec(any::<u8>(), 0..64),
            seconds in 0u64..100_000,
        ) {
            let mut server = DigestServer::new(realm.clone(), SECRET, algorithm);
            let mut c = server.challenge(t(seconds), false);
            if int {
                c.qop = vec![Qop::AuthInt];
            }
            let header = WwwAuthenticate(c.to_challenge().unwrap());
            let mut out = bytes::BytesMut::new();
            header.encode(&mut out);
            let read = DigestChallenge::from_challenge(&WwwAuthenticate::decode(&Bytes::from(out.to_vec())).unwrap().0).unwrap();
            prop_assert_eq!(&read, &c);

            let mut client = DigestClient::new(user.clone(), pass.clone());
            let creds = client.respond(&read, "MESSAGE", "sip:x@example.com", &body, &cnonce).unwrap();
            let mut out = bytes::BytesMut::new();
            Authorization(creds.to_credentials().unwrap()).encode(&mut out);
            let back = DigestCredentials::from_credentials(&Authorization::decode(&Bytes::from(out.to_vec())).unwrap().0).unwrap();
            prop_assert_eq!(&back, &creds);
            let ok = server.verify(t(seconds + 1), "MESSAGE", &back, &body, |u| (u == user).then(|| pass.clone()));
            prop_assert!(ok.is_ok(), "{:?}", ok.err());
        }
    }
}

#[test]
fn control_characters_in_quoted_values_survive_a_round_trip() {
    // A realm with an escaped control character (a quoted-pair, RFC 3261 §25.1): the
    // credentials written for it read back the same (found by the digest fuzz target).
    let c =
        WwwAuthenticate::decode(&Bytes::from_static(b"Digest realm=\"a\\\x0e\\;b\", nonce=\"n\\\\\", qop=\"auth\""))
            .unwrap();
    let c = DigestChallenge::from_challenge(&c.0).unwrap();
    assert_eq!(c.realm, "a\u{e};b");
    let mut client = DigestClient::new("bob", "zanzibar");
    let creds = client.respond(&c, "INVITE", "sip:x", b"", "c").unwrap();
    let mut out = bytes::BytesMut::new();
    Authorization(creds.to_credentials().unwrap()).encode(&mut out);
    let back = Authorization::decode(&Bytes::from(out.to_vec())).unwrap();
    assert_eq!(DigestCredentials::from_credentials(&back.0).unwrap(), creds);
}
