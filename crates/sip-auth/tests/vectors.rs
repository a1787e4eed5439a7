//! The worked examples of RFC 2617 §3.5 and RFC 7616 §3.9, through the client: the
//! challenge text as the RFCs print it in, the credentials out, checked byte for byte.

use bytes::Bytes;
use sip_auth::{Algorithm, DigestChallenge, DigestClient, DigestCredentials, userhash};
use sip_message::header::{Authorization, TypedHeader, WwwAuthenticate};

fn challenge(text: &str) -> DigestChallenge {
    let c = WwwAuthenticate::decode(&Bytes::copy_from_slice(text.as_bytes())).expect("challenge").0;
    DigestChallenge::from_challenge(&c).expect("digest challenge")
}

/// The credentials as the Authorization value this crate writes.
fn written(c: &DigestCredentials) -> String {
    let mut out = bytes::BytesMut::new();
    Authorization(c.to_credentials().unwrap()).encode(&mut out);
    String::from_utf8(out.to_vec()).unwrap()
}

#[test]
fn rfc2617_section_3_5() {
    let c = challenge(
        "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
    );
    assert_eq!(c.algorithm, Algorithm::Md5);
    let mut client = DigestClient::new("Mufasa", "Circle Of Life");
    let creds = client.respond(&c, "GET", "/dir/index.html", b"", "0a4f113b").unwrap();
    assert_eq!(creds.response, "6629fae49393a05397450978507c4ef1");
    assert_eq!(
        written(&creds),
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
         response=\"6629fae49393a05397450978507c4ef1\", algorithm=MD5, cnonce=\"0a4f113b\", \
         opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001"
    );
    // The next use of the nonce counts up.
    let again = client.respond(&c, "GET", "/dir/index.html", b"", "0a4f113b").unwrap();
    assert_eq!(again.nc, Some(2));
    assert_ne!(again.response, creds.response);
}

#[test]
fn rfc7616_section_3_9_1_sha256_and_md5() {
    for (algorithm, expected) in [
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ] {
        let c = challenge(&format!(
            "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm={algorithm}, \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
        ));
        let mut client = DigestClient::new("Mufasa", "Circle of Life");
        let creds =
            client.respond(&c, "GET", "/dir/index.html", b"", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ").unwrap();
        assert_eq!(creds.response, expected, "{algorithm}");
        assert_eq!(
            written(&creds),
            format!(
                "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
                 nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", \
                 response=\"{expected}\", algorithm={algorithm}, \
                 cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001"
            )
        );
    }
}

#[test]
fn rfc7616_section_3_9_2_sha512_256_with_userhash() {
    // The RFC prints a userhash and response that are not the hashes of its inputs
    // (erratum 4897); these are, as any SHA-512/256 gives them.
    let c = challenge(
        "Digest realm=\"api@example.org\", qop=\"auth\", algorithm=SHA-512-256, \
         nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", \
         opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", charset=UTF-8, userhash=true",
    );
    assert!(c.userhash);
    let user = "J\u{e4}s\u{f8}n Doe";
    assert_eq!(
        userhash(Algorithm::Sha512_256, user, "api@example.org"),
        "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
    );
    let mut client = DigestClient::new(user, "Secret, or not?");
    let creds = client.respond(&c, "GET", "/doe.json", b"", "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v").unwrap();
    assert_eq!(creds.response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
    assert_eq!(
        written(&creds),
        "Digest username=\"793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b\", \
         realm=\"api@example.org\", nonce=\"5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK\", \
         uri=\"/doe.json\", response=\"3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5\", \
         algorithm=SHA-512-256, cnonce=\"NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v\", \
         opaque=\"HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS\", qop=auth, nc=00000001, userhash=true"
    );
    // Without userhash, the name goes in username* (RFC 8187), the response the same.
    let mut plain = DigestClient::new(user, "Secret, or not?");
    plain.use_userhash = false;
    let creds = plain.respond(&c, "GET", "/doe.json", b"", "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v").unwrap();
    assert_eq!(creds.response, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");
    let text = written(&creds);
    assert!(text.starts_with("Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm="), "{text}");
    // And it reads back.
    let back = Authorization::decode(&Bytes::from(text)).unwrap();
    assert_eq!(DigestCredentials::from_credentials(&back.0).unwrap().username, user);
}
