//! Which bench messages the rsip baseline parses, and how many of the full-parse values it
//! decodes: a comparison only means something where both parsers do the same work.

use rsip::headers::ToTypedHeader;
use rsip::message::HasHeaders;
use sipkit_benches::{MESSAGES, received, sipkit_full_parse};

#[test]
fn report_rsip_coverage() {
    for (name, bytes) in MESSAGES {
        let buf = received(bytes);
        let ours = sipkit_full_parse(&buf);
        let theirs = match rsip::SipMessage::try_from(buf.clone()) {
            Ok(m) => {
                let typed = m
                    .headers()
                    .iter()
                    .filter(|h| match h {
                        rsip::Header::Via(v) => v.typed().is_ok(),
                        rsip::Header::From(v) => v.typed().is_ok(),
                        rsip::Header::To(v) => v.typed().is_ok(),
                        rsip::Header::CSeq(v) => v.typed().is_ok(),
                        rsip::Header::Contact(v) => v.typed().is_ok(),
                        rsip::Header::Route(v) => v.typed().is_ok(),
                        rsip::Header::CallId(_) | rsip::Header::MaxForwards(_) | rsip::Header::ContentLength(_) => true,
                        _ => false,
                    })
                    .count();
                format!("parsed, {typed} values decoded")
            }
            Err(e) => format!("rejected: {e}"),
        };
        println!("{name:<12} sipkit {ours} values; rsip {theirs}");
        assert!(ours > 0);
    }
}
