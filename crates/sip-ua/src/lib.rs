//! The sipkit endpoint: the sans-IO layers composed over tokio and `sip-transport`.
//!
//! So far: [`driver`], the task that pumps a [`sip_transaction::TransactionLayer`] with
//! what the transports receive, sends what it transmits, and runs its timers with one
//! sleep; and [`answer`], an answering UAS (the core of `sipkit answer`) on top of it.

#![forbid(unsafe_code)]

pub mod answer;
pub mod driver;

/// A new tag (§19.3): 64 random bits in hex.
pub(crate) fn new_tag(entropy: &mut impl sip_dialog::Entropy) -> String {
    format!("{:016x}", entropy.next_u64())
}
