//! Status codes (§7.2, §21): an open newtype over 100–699.

use std::fmt;

/// A response status code, 100 to 699.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusCode(u16);

macro_rules! codes {
    ($($(#[$doc:meta])* $name:ident = $code:literal, $reason:literal;)*) => {
        impl StatusCode {
            $($(#[$doc])* pub const $name: Self = Self($code);)*

            /// The reason phrase RFC 3261 (or the RFC defining the code) gives it.
            pub fn canonical_reason(self) -> Option<&'static str> {
                match self.0 {
                    $($code => Some($reason),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// 100 Trying
    TRYING = 100, "Trying";
    /// 180 Ringing
    RINGING = 180, "Ringing";
    /// 181 Call Is Being Forwarded
    CALL_IS_BEING_FORWARDED = 181, "Call Is Being Forwarded";
    /// 182 Queued
    QUEUED = 182, "Queued";
    /// 183 Session Progress
    SESSION_PROGRESS = 183, "Session Progress";
    /// 199 Early Dialog Terminated (RFC 6228)
    EARLY_DIALOG_TERMINATED = 199, "Early Dialog Terminated";
    /// 200 OK
    OK = 200, "OK";
    /// 202 Accepted (RFC 3265)
    ACCEPTED = 202, "Accepted";
    /// 204 No Notification (RFC 5839)
    NO_NOTIFICATION = 204, "No Notification";
    /// 300 Multiple Choices
    MULTIPLE_CHOICES = 300, "Multiple Choices";
    /// 301 Moved Permanently
    MOVED_PERMANENTLY = 301, "Moved Permanently";
    /// 302 Moved Temporarily
    MOVED_TEMPORARILY = 302, "Moved Temporarily";
    /// 305 Use Proxy
    USE_PROXY = 305, "Use Proxy";
    /// 380 Alternative Service
    ALTERNATIVE_SERVICE = 380, "Alternative Service";
    /// 400 Bad Request
    BAD_REQUEST = 400, "Bad Request";
    /// 401 Unauthorized
    UNAUTHORIZED = 401, "Unauthorized";
    /// 402 Payment Required
    PAYMENT_REQUIRED = 402, "Payment Required";
    /// 403 Forbidden
    FORBIDDEN = 403, "Forbidden";
    /// 404 Not Found
    NOT_FOUND = 404, "Not Found";
    /// 405 Method Not Allowed
    METHOD_NOT_ALLOWED = 405, "Method Not Allowed";
    /// 406 Not Acceptable
    NOT_ACCEPTABLE = 406, "Not Acceptable";
    /// 407 Proxy Authentication Required
    PROXY_AUTHENTICATION_REQUIRED = 407, "Proxy Authentication Required";
    /// 408 Request Timeout
    REQUEST_TIMEOUT = 408, "Request Timeout";
    /// 410 Gone
    GONE = 410, "Gone";
    /// 412 Conditional Request Failed (RFC 3903)
    CONDITIONAL_REQUEST_FAILED = 412, "Conditional Request Failed";
    /// 413 Request Entity Too Large
    REQUEST_ENTITY_TOO_LARGE = 413, "Request Entity Too Large";
    /// 414 Request-URI Too Long
    REQUEST_URI_TOO_LONG = 414, "Request-URI Too Long";
    /// 415 Unsupported Media Type
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported Media Type";
    /// 416 Unsupported URI Scheme
    UNSUPPORTED_URI_SCHEME = 416, "Unsupported URI Scheme";
    /// 420 Bad Extension
    BAD_EXTENSION = 420, "Bad Extension";
    /// 421 Extension Required
    EXTENSION_REQUIRED = 421, "Extension Required";
    /// 422 Session Interval Too Small (RFC 4028)
    SESSION_INTERVAL_TOO_SMALL = 422, "Session Interval Too Small";
    /// 423 Interval Too Brief
    INTERVAL_TOO_BRIEF = 423, "Interval Too Brief";
    /// 480 Temporarily Unavailable
    TEMPORARILY_UNAVAILABLE = 480, "Temporarily Unavailable";
    /// 481 Call/Transaction Does Not Exist
    CALL_TRANSACTION_DOES_NOT_EXIST = 481, "Call/Transaction Does Not Exist";
    /// 482 Loop Detected
    LOOP_DETECTED = 482, "Loop Detected";
    /// 483 Too Many Hops
    TOO_MANY_HOPS = 483, "Too Many Hops";
    /// 484 Address Incomplete
    ADDRESS_INCOMPLETE = 484, "Address Incomplete";
    /// 485 Ambiguous
    AMBIGUOUS = 485, "Ambiguous";
    /// 486 Busy Here
    BUSY_HERE = 486, "Busy Here";
    /// 487 Request Terminated
    REQUEST_TERMINATED = 487, "Request Terminated";
    /// 488 Not Acceptable Here
    NOT_ACCEPTABLE_HERE = 488, "Not Acceptable Here";
    /// 489 Bad Event (RFC 6665)
    BAD_EVENT = 489, "Bad Event";
    /// 491 Request Pending
    REQUEST_PENDING = 491, "Request Pending";
    /// 493 Undecipherable
    UNDECIPHERABLE = 493, "Undecipherable";
    /// 500 Server Internal Error
    SERVER_INTERNAL_ERROR = 500, "Server Internal Error";
    /// 501 Not Implemented
    NOT_IMPLEMENTED = 501, "Not Implemented";
    /// 502 Bad Gateway
    BAD_GATEWAY = 502, "Bad Gateway";
    /// 503 Service Unavailable
    SERVICE_UNAVAILABLE = 503, "Service Unavailable";
    /// 504 Server Time-out
    SERVER_TIMEOUT = 504, "Server Time-out";
    /// 505 Version Not Supported
    VERSION_NOT_SUPPORTED = 505, "Version Not Supported";
    /// 513 Message Too Large
    MESSAGE_TOO_LARGE = 513, "Message Too Large";
    /// 580 Precondition Failure (RFC 3312)
    PRECONDITION_FAILURE = 580, "Precondition Failure";
    /// 600 Busy Everywhere
    BUSY_EVERYWHERE = 600, "Busy Everywhere";
    /// 603 Decline
    DECLINE = 603, "Decline";
    /// 604 Does Not Exist Anywhere
    DOES_NOT_EXIST_ANYWHERE = 604, "Does Not Exist Anywhere";
    /// 606 Not Acceptable
    NOT_ACCEPTABLE_ANYWHERE = 606, "Not Acceptable";
}

impl StatusCode {
    /// The code, if it is within 100–699.
    pub const fn new(code: u16) -> Option<Self> {
        if code >= 100 && code <= 699 { Some(Self(code)) } else { None }
    }

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// The class: 1 for provisional, 2 for success, ... 6 for global failure.
    pub const fn class(self) -> u8 {
        (self.0 / 100) as u8
    }

    /// 1xx.
    pub const fn is_provisional(self) -> bool {
        self.0 < 200
    }

    /// 2xx.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }

    /// 2xx to 6xx: a final response ends a transaction.
    pub const fn is_final(self) -> bool {
        self.0 >= 200
    }

    /// The reason phrase to send: the canonical one, or a generic one for the class.
    pub fn default_reason(self) -> &'static str {
        self.canonical_reason().unwrap_or(match self.class() {
            1 => "Provisional",
            2 => "Success",
            3 => "Redirection",
            4 => "Client Error",
            5 => "Server Error",
            _ => "Global Failure",
        })
    }
}

impl fmt::Debug for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_classes() {
        assert!(StatusCode::new(99).is_none());
        assert!(StatusCode::new(700).is_none());
        let c = StatusCode::new(699).unwrap();
        assert_eq!(c.class(), 6);
        assert_eq!(c.default_reason(), "Global Failure");
        assert!(StatusCode::RINGING.is_provisional());
        assert!(StatusCode::OK.is_success() && StatusCode::OK.is_final());
        assert_eq!(StatusCode::MESSAGE_TOO_LARGE.canonical_reason(), Some("Message Too Large"));
    }
}
