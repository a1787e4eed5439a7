//! Digest authentication with arbitrary header values: the input is split at the first
//! NUL into a challenge value (WWW-Authenticate) and a credentials value (Authorization).
//! Nothing may panic; a challenge that reads is answered, and the answer reads back the
//! same; credentials that read are verified (and refused, not being this server's).

#![no_main]

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sip_auth::{Algorithm, DigestChallenge, DigestClient, DigestCredentials, DigestServer};
use sip_message::header::{Authorization, TypedHeader, WwwAuthenticate};

fuzz_target!(|data: &[u8]| {
    let (challenge, credentials) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(c) = WwwAuthenticate::decode(&Bytes::copy_from_slice(challenge)) {
        if let Ok(c) = DigestChallenge::from_challenge(&c.0) {
            let mut client = DigestClient::new("alice", "secret");
            if let Ok(creds) = client.respond(&c, "INVITE", "sip:bob@example.com", b"body", "fz") {
                if let Ok(written) = creds.to_credentials() {
                    let mut out = bytes::BytesMut::new();
                    Authorization(written).encode(&mut out);
                    let back = Authorization::decode(&Bytes::from(out.to_vec())).expect("written credentials read");
                    assert_eq!(DigestCredentials::from_credentials(&back.0).expect("digest"), creds);
                }
            }
            // A challenge that reads writes back to one that reads the same.
            if let Ok(again) = c.to_challenge() {
                assert_eq!(DigestChallenge::from_challenge(&again).expect("written challenge reads"), c);
            }
        }
    }
    if let Ok(a) = Authorization::decode(&Bytes::copy_from_slice(credentials)) {
        if let Ok(creds) = DigestCredentials::from_credentials(&a.0) {
            let mut server = DigestServer::new("example.com", b"fuzz secret".to_vec(), Algorithm::Sha256);
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
            // Its nonce is not one this server made (the fuzzer cannot forge the HMAC).
            let refused = server.verify(now, "INVITE", &creds, b"body", |_| Some("secret".into()));
            assert!(refused.is_err());
        }
    }
});
