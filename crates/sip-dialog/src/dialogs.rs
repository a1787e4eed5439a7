//! The dialogs of one UA, and the rules that span several: the dialogs one forked request
//! makes, and requests for dialogs that do not exist.

use std::collections::HashMap;

use bytes::Bytes;
use sip_message::{Method, Request, Response};

use crate::dialog::{Dialog, DialogId, DialogState};
use crate::error::DialogError;

/// What a response to a dialog-creating request this UA sent did to its dialogs
/// ([`Dialogs::receive_uac_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UacOutcome {
    /// No dialog changed: 100 Trying, a 1xx without a To tag, or a 1xx for a dialog that
    /// already exists.
    Unchanged,
    /// A 1xx with a new To tag made an early dialog: one more branch of a fork.
    Early(DialogId),
    /// A 2xx confirmed this dialog (made now, or early before). The UAC sends it an ACK.
    Confirmed(DialogId),
    /// A 2xx for a dialog already confirmed: a retransmission, which the UAC ACKs again
    /// (§13.2.2.4).
    Retransmitted(DialogId),
    /// A 2xx from another branch of a fork after one branch was confirmed. The dialog is
    /// made so the UAC can ACK the 2xx and then, not wanting a second session, end it
    /// with BYE (§13.2.2.4).
    Unwanted(DialogId),
    /// A non-2xx final response: these early dialogs of the request ended (§12.3).
    Ended(Vec<DialogId>),
}

/// The most dialogs one request may make (the branches of a fork a UAC keeps).
pub const MAX_BRANCHES: usize = 32;

/// The most dialogs a [`Dialogs`] holds by default.
pub const MAX_DIALOGS: usize = 100_000;

/// The dialogs of one UA, found by id.
///
/// They are kept by Call-ID and local tag, each with the dialogs that share them: the
/// branches of one forked request (usually one). Both are bounded: responses from the
/// network cannot make dialogs without end.
#[derive(Debug)]
pub struct Dialogs {
    by_call: HashMap<(Bytes, Bytes), Vec<Dialog>>,
    len: usize,
    max_branches: usize,
    max_dialogs: usize,
}

impl Default for Dialogs {
    fn default() -> Self {
        Self { by_call: HashMap::new(), len: 0, max_branches: MAX_BRANCHES, max_dialogs: MAX_DIALOGS }
    }
}

impl Dialogs {
    /// No dialogs, with the default limits ([`MAX_BRANCHES`], [`MAX_DIALOGS`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The same with other limits (each at least 1).
    pub fn with_limits(mut self, max_branches: usize, max_dialogs: usize) -> Self {
        self.max_branches = max_branches.max(1);
        self.max_dialogs = max_dialogs.max(1);
        self
    }

    /// How many dialogs there are (terminated ones included until removed).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The dialog with `id`.
    pub fn get(&self, id: &DialogId) -> Option<&Dialog> {
        self.by_call.get(&call_key(id))?.iter().find(|d| d.id() == id)
    }

    /// The dialog with `id`, to change.
    pub fn get_mut(&mut self, id: &DialogId) -> Option<&mut Dialog> {
        self.by_call.get_mut(&call_key(id))?.iter_mut().find(|d| d.id() == id)
    }

    /// Every dialog.
    pub fn iter(&self) -> impl Iterator<Item = &Dialog> {
        self.by_call.values().flatten()
    }

    /// Adds a dialog (one a UAS made with [`Dialog::new_uas`], say); it replaces one with
    /// the same id. Refused beyond [`MAX_DIALOGS`] (or the limit set).
    pub fn insert(&mut self, dialog: Dialog) -> Result<(), DialogError> {
        if let Some(existing) = self.get_mut(dialog.id()) {
            *existing = dialog;
            return Ok(());
        }
        if self.len >= self.max_dialogs {
            return Err(DialogError::TooManyDialogs(self.max_dialogs));
        }
        self.by_call.entry(call_key(dialog.id())).or_insert_with(|| Vec::with_capacity(1)).push(dialog);
        self.len += 1;
        Ok(())
    }

    /// Removes the dialog with `id`.
    pub fn remove(&mut self, id: &DialogId) -> Option<Dialog> {
        let key = call_key(id);
        let branches = self.by_call.get_mut(&key)?;
        let i = branches.iter().position(|d| d.id() == id)?;
        let dialog = branches.swap_remove(i);
        if branches.is_empty() {
            self.by_call.remove(&key);
        }
        self.len -= 1;
        Some(dialog)
    }

    /// Removes every terminated dialog; returns their ids.
    pub fn remove_terminated(&mut self) -> Vec<DialogId> {
        let mut removed = Vec::new();
        self.by_call.retain(|_, branches| {
            branches.retain(|d| {
                let ended = d.state() == DialogState::Terminated;
                if ended {
                    removed.push(d.id().clone());
                }
                !ended
            });
            !branches.is_empty()
        });
        self.len -= removed.len();
        removed
    }

    /// Takes a response to a dialog-creating request (an INVITE, SUBSCRIBE, ...) this UA
    /// sent outside a dialog: each To tag in a 101–299 response is one dialog (one branch
    /// of a fork, §12.1.2); the first 2xx confirms its dialog, a 2xx of another branch
    /// after it is [`UacOutcome::Unwanted`], and a non-2xx final response ends the early
    /// dialogs of the request. A new branch beyond [`MAX_BRANCHES`] (or [`MAX_DIALOGS`] in
    /// all) is refused with [`DialogError::TooManyDialogs`].
    pub fn receive_uac_response(&mut self, request: &Request, response: &Response) -> Result<UacOutcome, DialogError> {
        let status = response.status;
        if status.as_u16() == 100 {
            return Ok(UacOutcome::Unchanged);
        }
        let id = DialogId::of_response(response)?;
        let key = call_key(&id);
        if status.is_final() && !status.is_success() {
            let mut ended = Vec::new();
            if let Some(branches) = self.by_call.get_mut(&key) {
                for d in branches.iter_mut().filter(|d| d.state() == DialogState::Early) {
                    d.terminate();
                    ended.push(d.id().clone());
                }
            }
            return Ok(UacOutcome::Ended(ended));
        }
        if id.remote_tag().is_empty() && status.is_provisional() {
            // A 1xx without a tag makes no dialog (§12.1).
            return Ok(UacOutcome::Unchanged);
        }
        let (max_branches, max_dialogs, held) = (self.max_branches, self.max_dialogs, self.len);
        let branches = self.by_call.entry(key).or_insert_with(|| Vec::with_capacity(1));
        let other_confirmed = branches.iter().any(|d| d.id() != &id && d.state() == DialogState::Confirmed);
        let known = branches.iter().any(|d| d.id() == &id);
        if !known && (branches.len() >= max_branches || held >= max_dialogs) {
            let limit = if branches.len() >= max_branches { max_branches } else { max_dialogs };
            if branches.is_empty() {
                self.by_call.remove(&call_key(&id));
            }
            return Err(DialogError::TooManyDialogs(limit));
        }
        match branches.iter_mut().find(|d| d.id() == &id) {
            Some(d) if status.is_provisional() => {
                d.receive_response(&request.method, response)?;
                Ok(UacOutcome::Unchanged)
            }
            Some(d) if d.state() == DialogState::Early => {
                d.receive_response(&request.method, response)?;
                Ok(if other_confirmed { UacOutcome::Unwanted(id) } else { UacOutcome::Confirmed(id) })
            }
            Some(_) => Ok(UacOutcome::Retransmitted(id)),
            None => {
                let dialog = match Dialog::new_uac(request, response) {
                    Ok(d) => d,
                    Err(e) => {
                        if branches.is_empty() {
                            self.by_call.remove(&call_key(&id));
                        }
                        return Err(e);
                    }
                };
                branches.push(dialog);
                self.len += 1;
                Ok(if status.is_provisional() {
                    UacOutcome::Early(id)
                } else if other_confirmed {
                    UacOutcome::Unwanted(id)
                } else {
                    UacOutcome::Confirmed(id)
                })
            }
        }
    }

    /// Ends the early dialogs a request this UA sent (`call_id`, `local_tag`) still has,
    /// when its transaction ends without confirming them (§13.2.2.4: after the last 2xx
    /// could have arrived). Returns their ids.
    pub fn end_early(&mut self, call_id: &[u8], local_tag: &[u8]) -> Vec<DialogId> {
        let key = (Bytes::copy_from_slice(call_id), Bytes::copy_from_slice(local_tag));
        let mut ended = Vec::new();
        if let Some(branches) = self.by_call.get_mut(&key) {
            for d in branches.iter_mut().filter(|d| d.state() == DialogState::Early) {
                d.terminate();
                ended.push(d.id().clone());
            }
        }
        ended
    }

    /// Takes a request received from the network: `Ok(None)` when it is outside any
    /// dialog (no To tag); `Ok(Some(id))` when it belongs to a live dialog, after that
    /// dialog's checks ([`Dialog::receive_request`]); an error with the status to answer
    /// otherwise (481 for an unknown or ended dialog, 500 for an old CSeq).
    pub fn receive_request(&mut self, request: &Request) -> Result<Option<DialogId>, DialogError> {
        let Some(id) = DialogId::of_request(request)? else { return Ok(None) };
        let dialog = self.get_mut(&id).ok_or(DialogError::UnknownDialog)?;
        dialog.receive_request(request)?;
        // The dialog's own id: the one read from the request is slices of it.
        Ok(Some(dialog.id().clone()))
    }

    /// Takes a response to a request this UA sent inside a dialog
    /// ([`Dialog::receive_response`]); returns the dialog's id, or `None` when no dialog
    /// has it (the response is then only for its transaction).
    pub fn receive_response(&mut self, method: &Method, response: &Response) -> Result<Option<DialogId>, DialogError> {
        let id = DialogId::of_response(response)?;
        match self.get_mut(&id) {
            Some(d) => {
                d.receive_response(method, response)?;
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }
}

fn call_key(id: &DialogId) -> (Bytes, Bytes) {
    id.call_key()
}
