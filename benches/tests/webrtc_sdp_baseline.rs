//! The webrtc-sdp baseline parses every bench description, so the comparison is like for like.

use sipkit_benches::{DESCRIPTIONS, received, sdp_parse_typed};

#[test]
fn both_parsers_read_every_description() {
    for (name, bytes) in DESCRIPTIONS {
        let theirs = webrtc_sdp::parse_sdp(std::str::from_utf8(bytes).unwrap(), false);
        assert!(theirs.is_ok(), "{name}: webrtc-sdp: {:?}", theirs.err());
        let typed = sdp_parse_typed(&received(bytes));
        println!("{name}: sip-sdp decoded {typed} typed attributes");
        assert!(typed > 5, "{name}");
    }
}
