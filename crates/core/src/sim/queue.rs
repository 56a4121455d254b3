//! The event queue: a min-heap on (time, sequence number). Events scheduled
//! for the same instant come out in the order they were scheduled, so a run
//! never depends on heap internals.
//!
//! Most events of a large run are timers far ahead (`proxy_read_timeout`,
//! keep-alive timeouts, retry waits) that only come due much later, often to
//! find themselves stale. One heap holding all of them is deep, and every pop
//! walks it from the root to a leaf through memory the cache no longer
//! holds. So the heap only holds the events of the current window of
//! virtual time (`WINDOW_US`); later ones wait, unordered, in one vector per
//! window, and enter the heap when their window comes. The order is the
//! same: the heap orders by (time, sequence number), and every event in it
//! is due before any event still waiting.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use super::time::SimTime;

/// log2 of the window's width in µs (1,024 µs).
const WINDOW_SHIFT: u32 = 10;
/// Emptied window vectors kept for reuse, at most.
const MAX_SPARE: usize = 64;

struct Entry<E> {
    at: SimTime,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, we want the earliest first.
        other.at.cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

fn window_of(at: SimTime) -> u64 {
    at.as_micros() >> WINDOW_SHIFT
}

pub struct EventQueue<E> {
    /// Events of windows up to `window`, ordered.
    near: BinaryHeap<Entry<E>>,
    /// Events of later windows, by window, in the order they were scheduled.
    /// Never holds anything while `near` is empty.
    far: BTreeMap<u64, Vec<Entry<E>>>,
    window: u64,
    far_len: usize,
    /// Emptied vectors of `far`, kept for their capacity.
    spare: Vec<Vec<Entry<E>>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue { near: BinaryHeap::new(), far: BTreeMap::new(), window: 0, far_len: 0, spare: Vec::new(), next_seq: 0 }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, at: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let entry = Entry { at, seq, event };
        let window = window_of(at);
        if self.near.is_empty() {
            // Nothing waits either: this event opens its window.
            self.window = self.window.max(window);
        }
        if window <= self.window {
            self.near.push(entry);
        } else {
            let spare = &mut self.spare;
            self.far.entry(window).or_insert_with(|| spare.pop().unwrap_or_default()).push(entry);
            self.far_len += 1;
        }
    }

    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.near.pop()?;
        if self.near.is_empty() {
            self.open_next_window();
        }
        Some((e.at, e.event))
    }

    /// Moves the next window's events into the (empty) heap.
    fn open_next_window(&mut self) {
        let Some((window, mut entries)) = self.far.pop_first() else { return };
        self.window = window;
        self.far_len -= entries.len();
        let mut heap = std::mem::take(&mut self.near).into_vec();
        heap.append(&mut entries);
        self.near = BinaryHeap::from(heap);
        if self.spare.len() < MAX_SPARE {
            self.spare.push(entries);
        }
    }

    pub fn peek_time(&self) -> Option<SimTime> {
        self.near.peek().map(|e| e.at)
    }

    pub fn len(&self) -> usize {
        self.near.len() + self.far_len
    }

    pub fn is_empty(&self) -> bool {
        self.near.is_empty()
    }

    /// The queued events, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &E> + '_ {
        self.near.iter().chain(self.far.values().flatten()).map(|e| &e.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_then_fifo() {
        let mut q = EventQueue::default();
        q.push(SimTime(5), "c");
        q.push(SimTime(1), "a");
        q.push(SimTime(5), "d");
        q.push(SimTime(1), "b");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, ["a", "b", "c", "d"]);
    }

    /// The windows change nothing: the same order as one plain heap on
    /// (time, sequence), with pushes between pops, near and far, and into
    /// the past.
    #[test]
    fn same_order_as_one_heap() {
        use std::cmp::Reverse;
        let mut rng = crate::sim::rng::SimRng::seeded(7);
        for _ in 0..50 {
            let mut q = EventQueue::default();
            let mut reference = BinaryHeap::new();
            let (mut now, mut seq) = (0u64, 0u64);
            for _ in 0..2_000 {
                if rng.between(0, 2) > 0 {
                    let delay = match rng.between(0, 3) {
                        0 => 0,
                        1 => rng.between(0, 3_000),
                        2 => rng.between(0, 200_000),
                        _ => rng.between(0, 60_000_000),
                    };
                    // Now and then an event in the past (the queue allows it).
                    let at = if rng.between(0, 50) == 0 { now.saturating_sub(5_000) } else { now + delay };
                    q.push(SimTime(at), seq);
                    reference.push(Reverse((at, seq)));
                    seq += 1;
                } else {
                    let got = q.pop();
                    let want = reference.pop().map(|Reverse((at, s))| (SimTime(at), s));
                    assert_eq!(got, want);
                    if let Some((at, _)) = got {
                        now = now.max(at.as_micros());
                    }
                }
                assert_eq!(q.len(), reference.len());
                assert_eq!(q.peek_time(), reference.peek().map(|Reverse((at, _))| SimTime(*at)));
            }
            while let Some(want) = reference.pop() {
                assert_eq!(q.pop(), Some((SimTime(want.0 .0), want.0 .1)));
            }
            assert!(q.pop().is_none() && q.is_empty());
        }
    }
}
