//! The errors of the dialog layer.

use sip_message::{DecodeError, ParseError, StatusCode};

/// Why a dialog could not be made, a request could not be built, or an incoming request
/// was refused. [`DialogError::status`] gives the response a UAS sends for a refused one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    /// A header the operation needs is missing.
    #[error("no {0} header")]
    MissingHeader(&'static str),
    /// A header the operation needs does not decode.
    #[error("malformed {header}: {error}")]
    Malformed {
        /// The header.
        header: &'static str,
        /// What is wrong with it.
        error: DecodeError,
    },
    /// The response does not create a dialog (only 101–299 do).
    #[error("a {0} response does not create a dialog")]
    NotDialogCreating(u16),
    /// The request does not belong to this dialog, or the dialog has ended (481, §12.2.2).
    #[error("no such dialog")]
    UnknownDialog,
    /// The request's CSeq is lower than the last one received (500, §12.2.2).
    #[error("CSeq {seq} is lower than {remote_seq}, the last one received in the dialog")]
    OutOfOrder {
        /// The request's CSeq number.
        seq: u32,
        /// The dialog's remote sequence number.
        remote_seq: u32,
    },
    /// The dialog has ended: no more requests are sent in it.
    #[error("the dialog has ended")]
    Terminated,
    /// The local CSeq would reach 2^31 (§8.1.1.5).
    #[error("the dialog's CSeq numbers are used up")]
    CSeqExhausted,
    /// ACK and CANCEL are not built as new requests of a dialog (see [`crate::Dialog::ack`]).
    #[error("{0} is not a new request of a dialog")]
    NotNewRequest(&'static str),
    /// The request built is not valid (an invalid part was given).
    #[error("invalid request: {0}")]
    InvalidRequest(ParseError),
    /// A dialog would exceed a limit of [`crate::Dialogs`]: the dialogs one request may make
    /// (the branches of a fork), or the dialogs held in all.
    #[error("too many dialogs: the limit is {0}")]
    TooManyDialogs(usize),
}

impl DialogError {
    /// The response a UAS sends when it refuses a request for this reason.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::UnknownDialog | Self::Terminated => StatusCode::CALL_TRANSACTION_DOES_NOT_EXIST,
            Self::OutOfOrder { .. } | Self::CSeqExhausted | Self::InvalidRequest(_) => {
                StatusCode::SERVER_INTERNAL_ERROR
            }
            Self::TooManyDialogs(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MissingHeader(_) | Self::Malformed { .. } | Self::NotDialogCreating(_) | Self::NotNewRequest(_) => {
                StatusCode::BAD_REQUEST
            }
        }
    }
}
