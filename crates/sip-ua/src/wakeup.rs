//! The one timer a driver loop waits on beside its channels.

use std::pin::Pin;

use tokio::time::{Instant, Sleep, sleep_until};

/// A driver loop's timer, moved only when the earliest deadline of its cores changes.
/// A new `sleep_until` on every turn of a loop registers a timer with the runtime and
/// removes it again each time; most turns leave the earliest deadline where it was.
#[derive(Debug, Default)]
pub(crate) struct Wakeup {
    /// Made when first set: a `Sleep` needs the runtime, and a wakeup may be made outside.
    sleep: Option<Pin<Box<Sleep>>>,
    /// The deadline the timer is set for; `None` when it is not waited on (unset, or fired
    /// since it was set).
    armed: Option<Instant>,
}

impl Wakeup {
    /// A timer set for nothing.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets the timer for `deadline`, or for nothing; the runtime's timer is touched only
    /// when that differs from what it is set for.
    pub(crate) fn set(&mut self, deadline: Option<Instant>) {
        if deadline == self.armed {
            return;
        }
        if let Some(at) = deadline {
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(at),
                None => self.sleep = Some(Box::pin(sleep_until(at))),
            }
        }
        self.armed = deadline;
    }

    /// Resolves when the deadline set passes (at once if it has); never while set for
    /// nothing. Dropped before then, it leaves the timer set.
    pub(crate) async fn fired(&mut self) {
        match (&mut self.sleep, self.armed) {
            (Some(sleep), Some(_)) => sleep.as_mut().await,
            _ => std::future::pending().await,
        }
        self.armed = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// On virtual time: the timer fires at the deadline set last, again after being set
    /// anew for the same instant, and never while set for nothing.
    #[tokio::test(start_paused = true)]
    async fn fires_at_the_deadline_set_last_and_never_unset() {
        let start = Instant::now();
        let mut wakeup = Wakeup::new();
        let never = tokio::time::timeout(Duration::from_secs(3600), wakeup.fired()).await;
        assert!(never.is_err(), "a timer set for nothing fired");

        let start = start + Duration::from_secs(3600);
        wakeup.set(Some(start + Duration::from_secs(5)));
        wakeup.set(Some(start + Duration::from_secs(2)));
        wakeup.fired().await;
        assert_eq!(Instant::now(), start + Duration::from_secs(2));

        // Fired, then set for the same instant again: fires at once.
        wakeup.set(Some(start + Duration::from_secs(2)));
        wakeup.fired().await;
        assert_eq!(Instant::now(), start + Duration::from_secs(2));

        // A wait dropped before its deadline leaves the timer set.
        wakeup.set(Some(start + Duration::from_secs(10)));
        let early = tokio::time::timeout(Duration::from_secs(1), wakeup.fired()).await;
        assert!(early.is_err());
        wakeup.set(Some(start + Duration::from_secs(10)));
        wakeup.fired().await;
        assert_eq!(Instant::now(), start + Duration::from_secs(10));

        wakeup.set(Some(start + Duration::from_secs(20)));
        wakeup.set(None);
        let unset = tokio::time::timeout(Duration::from_secs(60), wakeup.fired()).await;
        assert!(unset.is_err(), "a timer set for nothing fired");
    }
}
