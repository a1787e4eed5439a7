//! The pending timer deadlines of a [`TransactionLayer`](crate::TransactionLayer).
//!
//! Most timers of §17 run for a fixed time from the moment they are set (B, D, F, H, I, J,
//! K, L, M, the 100 Trying delay), so with time moving forward each of them is set in
//! deadline order: a FIFO queue per timer holds them at O(1) a push and a pop. What does
//! not arrive in order (the doubling A, E and G, or a caller whose `now` went backwards)
//! goes to one binary heap. The earliest deadline is the least of the queue fronts and the
//! heap top, in the same order one heap of everything would give.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use crate::Timer;

/// One deadline: when, which timer, and the slot and generation of its transaction.
pub(crate) type Deadline = (Instant, Timer, usize, u64);

/// How many [`Timer`]s there are: one queue each.
const TIMERS: usize = Timer::Trying as usize + 1;

/// Deadlines, earliest first (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    queues: [VecDeque<Deadline>; TIMERS],
    /// Bit `i` set when queue `i` is not empty: the earliest deadline looks at those only.
    occupied: u32,
    heap: BinaryHeap<Reverse<Deadline>>,
}

/// Where the earliest deadline is.
#[derive(Clone, Copy)]
enum Source {
    Queue(usize),
    Heap,
}

impl Deadlines {
    /// Adds a deadline.
    pub(crate) fn push(&mut self, deadline: Deadline) {
        let i = deadline.1 as usize;
        let queue = &mut self.queues[i];
        if queue.back().is_none_or(|last| *last <= deadline) {
            queue.push_back(deadline);
            self.occupied |= 1 << i;
        } else {
            self.heap.push(Reverse(deadline));
        }
    }

    fn earliest(&self) -> Option<(Deadline, Source)> {
        let mut best = self.heap.peek().map(|Reverse(d)| (*d, Source::Heap));
        let mut occupied = self.occupied;
        while occupied != 0 {
            let i = occupied.trailing_zeros() as usize;
            occupied &= occupied - 1;
            if let Some(&d) = self.queues[i].front() {
                if best.is_none_or(|(b, _)| d < b) {
                    best = Some((d, Source::Queue(i)));
                }
            }
        }
        best
    }

    /// The earliest deadline.
    pub(crate) fn peek(&self) -> Option<Deadline> {
        self.earliest().map(|(d, _)| d)
    }

    /// Removes and returns the earliest deadline.
    pub(crate) fn pop(&mut self) -> Option<Deadline> {
        let (d, source) = self.earliest()?;
        self.remove(source);
        Some(d)
    }

    /// Removes and returns the earliest deadline if it is at or before `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<Deadline> {
        let (d, source) = self.earliest().filter(|(d, _)| d.0 <= now)?;
        self.remove(source);
        Some(d)
    }

    fn remove(&mut self, source: Source) {
        match source {
            Source::Queue(i) => {
                self.queues[i].pop_front();
                if self.queues[i].is_empty() {
                    self.occupied &= !(1 << i);
                }
            }
            Source::Heap => {
                self.heap.pop();
            }
        }
    }

    /// How many deadlines are held (stale ones included until they are popped).
    pub(crate) fn len(&self) -> usize {
        self.heap.len() + self.queues.iter().map(VecDeque::len).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;

    const TIMERS_IN_ORDER: [Timer; TIMERS] = [
        Timer::A,
        Timer::B,
        Timer::D,
        Timer::E,
        Timer::F,
        Timer::G,
        Timer::H,
        Timer::I,
        Timer::J,
        Timer::K,
        Timer::L,
        Timer::M,
        Timer::Trying,
    ];

    #[test]
    fn every_timer_has_its_queue() {
        for (i, t) in TIMERS_IN_ORDER.iter().enumerate() {
            assert_eq!(*t as usize, i);
        }
    }

    proptest! {
        /// Whatever the order of pushes, pops come out as from one heap of everything.
        #[test]
        fn pops_in_the_order_of_one_heap(
            ops in prop::collection::vec((0u64..50, 0usize..TIMERS, 0usize..8, any::<bool>()), 0..200)
        ) {
            let base = Instant::now();
            let mut deadlines = Deadlines::default();
            let mut heap: BinaryHeap<Reverse<Deadline>> = BinaryHeap::new();
            for (n, (ms, timer, slot, pop)) in ops.into_iter().enumerate() {
                if pop && n % 3 == 0 {
                    // Due by the earliest instant: the same as a pop.
                    let now = heap.peek().map_or(base, |Reverse(d)| d.0);
                    prop_assert_eq!(deadlines.pop_due(now), heap.pop().map(|Reverse(d)| d));
                    prop_assert!(deadlines.peek().is_none_or(|d| d.0 >= now));
                } else if pop {
                    prop_assert_eq!(deadlines.pop(), heap.pop().map(|Reverse(d)| d));
                } else {
                    let d = (base + Duration::from_millis(ms), TIMERS_IN_ORDER[timer], slot, n as u64);
                    deadlines.push(d);
                    heap.push(Reverse(d));
                }
                prop_assert_eq!(deadlines.len(), heap.len());
                prop_assert_eq!(deadlines.peek(), heap.peek().map(|Reverse(d)| *d));
            }
            while let Some(Reverse(d)) = heap.pop() {
                prop_assert_eq!(deadlines.pop(), Some(d));
            }
            prop_assert_eq!(deadlines.pop(), None);
        }
    }
}
