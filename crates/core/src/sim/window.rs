//! Bounded storage for the run's records, indexed by ids that never change.
//!
//! A run hands out ids in order (request 0, 1, 2...). The playground runs
//! for hours of virtual time, so it cannot keep every record: [`Window`]
//! keeps a record until the engine *retires* it (see `World::retire`) and
//! then forgets it, while the ids of the others stay what they were. What is
//! retired is gone: `get` answers `None`, and indexing it is a bug (it
//! panics with the id). [`PerRequest`] is the same idea for a proxy
//! flavour's own per-request state, which it forgets below a given id.

use std::collections::VecDeque;
use std::ops::{Index, IndexMut};

/// Records by id; any of them can be retired. Slots of retired records in
/// the middle cost one `Option<T>` each until the older ones before them go
/// too (records are retired roughly in order, so few such holes stay); the
/// retired slots at the front are dropped in batches.
#[derive(Clone, Debug, PartialEq)]
pub struct Window<T> {
    slots: Vec<Option<T>>,
    /// The id of `slots[0]`.
    first: usize,
    /// Leading slots that are empty (retired, not yet dropped).
    lead: usize,
    /// Slots that hold a record.
    kept: usize,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window { slots: Vec::new(), first: 0, lead: 0, kept: 0 }
    }
}

impl<T> Window<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a record; its id is the number of records added before it.
    pub fn push(&mut self, item: T) -> usize {
        self.slots.push(Some(item));
        self.kept += 1;
        self.len() - 1
    }

    /// Ids handed out so far (kept and retired): the next record's id.
    pub fn len(&self) -> usize {
        self.first + self.slots.len()
    }

    /// No record was ever added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records still kept.
    pub fn kept(&self) -> usize {
        self.kept
    }

    /// Records retired so far.
    pub fn retired(&self) -> usize {
        self.len() - self.kept
    }

    /// Slots allocated (kept records and holes), for memory accounting.
    pub fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Every id below this one is retired.
    pub fn first_id(&self) -> usize {
        self.first + self.lead
    }

    pub fn get(&self, id: usize) -> Option<&T> {
        self.slots.get(id.wrapping_sub(self.first))?.as_ref()
    }

    pub fn get_mut(&mut self, id: usize) -> Option<&mut T> {
        self.slots.get_mut(id.wrapping_sub(self.first))?.as_mut()
    }

    /// The newest kept record.
    pub fn last(&self) -> Option<&T> {
        self.iter().next_back()
    }

    /// Kept records, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.slots[self.lead..].iter().filter_map(Option::as_ref)
    }

    /// Kept records with an id of at least `id`, oldest first.
    pub fn iter_from(&self, id: usize) -> impl DoubleEndedIterator<Item = &T> + '_ {
        let skip = id.saturating_sub(self.first).clamp(self.lead, self.slots.len());
        self.slots[skip..].iter().filter_map(Option::as_ref)
    }

    /// Kept records with their ids, oldest first.
    pub fn enumerate(&self) -> impl DoubleEndedIterator<Item = (usize, &T)> + '_ {
        let first = self.first;
        self.slots.iter().enumerate().skip(self.lead).filter_map(move |(i, s)| s.as_ref().map(|t| (first + i, t)))
    }

    /// Retires record `id`: it is dropped and handed back.
    pub fn retire(&mut self, id: usize) -> Option<T> {
        let item = self.slots.get_mut(id.wrapping_sub(self.first))?.take()?;
        self.kept -= 1;
        while self.slots.get(self.lead).is_some_and(Option::is_none) {
            self.lead += 1;
        }
        // Drop the empty front once it is at least half the slots.
        if self.lead >= 64 && self.lead * 2 >= self.slots.len() {
            self.slots.drain(..self.lead);
            self.first += self.lead;
            self.lead = 0;
        }
        Some(item)
    }
}

/// Out of line, so that each of the engine's many `w.exchanges[id]` stays
/// small in the wasm bundle.
#[cold]
#[inline(never)]
fn not_kept(id: usize, first: usize, len: usize, kept: usize) -> ! {
    panic!("record #{id} is not kept (ids {first}..{len}, {kept} kept)")
}

impl<T> Index<usize> for Window<T> {
    type Output = T;
    fn index(&self, id: usize) -> &T {
        match self.get(id) {
            Some(t) => t,
            None => not_kept(id, self.first, self.len(), self.kept),
        }
    }
}

impl<T> IndexMut<usize> for Window<T> {
    fn index_mut(&mut self, id: usize) -> &mut T {
        let (first, len, kept) = (self.first, self.len(), self.kept);
        match self.get_mut(id) {
            Some(t) => t,
            None => not_kept(id, first, len, kept),
        }
    }
}

impl<'a, T> IntoIterator for &'a Window<T> {
    type Item = &'a T;
    type IntoIter = std::iter::FilterMap<std::slice::Iter<'a, Option<T>>, fn(&'a Option<T>) -> Option<&'a T>>;
    fn into_iter(self) -> Self::IntoIter {
        self.slots[self.lead..].iter().filter_map(Option::as_ref)
    }
}

/// A proxy flavour's state per request: reads as a vector indexed by request
/// id whose missing entries are `T::default()` (a request it never saw, such
/// as one in flight across a reload, or one forgotten); `forget_before`
/// drops the entries of retired requests.
#[derive(Clone, Debug, Default)]
pub struct PerRequest<T> {
    slots: VecDeque<T>,
    first: usize,
    blank: T,
}

impl<T: Default> PerRequest<T> {
    /// The entry of request `id`, if it was ever written (and not forgotten).
    pub fn get(&self, id: usize) -> Option<&T> {
        self.slots.get(id.checked_sub(self.first)?)
    }

    /// The entry of request `id`, created (as `T::default()`, with any
    /// missing ones before it) when needed.
    pub fn at(&mut self, id: usize) -> &mut T {
        while id < self.first {
            // A request below the forgotten ones: nothing refers to it any
            // more, but an entry is cheap and answers the question.
            self.slots.push_front(T::default());
            self.first -= 1;
        }
        let i = id - self.first;
        while self.slots.len() <= i {
            self.slots.push_back(T::default());
        }
        &mut self.slots[i]
    }

    /// Forgets every request below `id`.
    pub fn forget_before(&mut self, id: usize) {
        while self.first < id && !self.slots.is_empty() {
            self.slots.pop_front();
            self.first += 1;
        }
        self.first = self.first.max(id);
    }

    /// Entries kept.
    pub fn kept(&self) -> usize {
        self.slots.len()
    }
}

impl<T: Default> Index<usize> for PerRequest<T> {
    type Output = T;
    fn index(&self, id: usize) -> &T {
        self.get(id).unwrap_or(&self.blank)
    }
}

impl<T: Default> IndexMut<usize> for PerRequest<T> {
    fn index_mut(&mut self, id: usize) -> &mut T {
        self.at(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_retirement() {
        let mut w = Window::new();
        for i in 0..5 {
            assert_eq!(w.push(i * 10), i);
        }
        assert_eq!(w.retire(1), Some(10));
        assert_eq!(w.first_id(), 0, "a hole in the middle keeps the front");
        assert_eq!(w.retire(0), Some(0));
        assert_eq!(w.first_id(), 2, "the leading holes go");
        assert_eq!(w.get(1), None);
        assert_eq!(w[3], 30);
        assert_eq!(w.len(), 5);
        assert_eq!(w.kept(), 3);
        assert_eq!(w.retired(), 2);
        assert_eq!(w.push(50), 5);
        assert_eq!(w.iter().copied().collect::<Vec<_>>(), [20, 30, 40, 50]);
        assert_eq!(w.iter_from(4).copied().collect::<Vec<_>>(), [40, 50]);
        assert_eq!(w.iter_from(0).count(), 4);
        assert_eq!(w.iter_from(9).count(), 0);
        assert_eq!(w.last(), Some(&50));
        assert_eq!(w.retire(1), None, "retired twice");
        assert_eq!(w.retire(99), None);
        let ids: Vec<usize> = w.enumerate().map(|(i, _)| i).collect();
        assert_eq!(ids, [2, 3, 4, 5]);
    }

    #[test]
    fn the_empty_front_is_dropped_in_batches() {
        let mut w = Window::new();
        for i in 0..200 {
            w.push(i);
        }
        for i in (0..150).rev() {
            w.retire(i);
        }
        assert_eq!(w.first_id(), 150);
        assert!(w.capacity() >= 200);
        assert_eq!((w.get(149), w.get(150), w[199]), (None, Some(&150), 199));
        assert_eq!(w.iter().count(), 50);
        assert_eq!(w.iter_from(0).count(), 50);
        assert_eq!(w.enumerate().next(), Some((150, &150)));
        assert_eq!(w.push(200), 200);
        assert_eq!((&w).into_iter().count(), 51);
    }

    #[test]
    #[should_panic(expected = "record #0 is not kept")]
    fn indexing_a_retired_record_names_it() {
        let mut w = Window::new();
        w.push(1);
        w.push(2);
        w.retire(0);
        let _ = w[0];
    }

    #[test]
    fn per_request_fills_and_forgets() {
        let mut p: PerRequest<u32> = PerRequest::default();
        assert_eq!(p[5], 0, "never written: the default");
        assert_eq!(p.kept(), 0, "reading creates nothing");
        p[3] = 7;
        assert_eq!(p.get(1), Some(&0));
        assert_eq!(p[3], 7);
        p.forget_before(2);
        assert_eq!(p.get(1), None);
        assert_eq!(p.kept(), 2);
        p.forget_before(10);
        assert_eq!(p.kept(), 0);
        p[12] = 1;
        assert_eq!(p.kept(), 3);
        assert_eq!(p.get(10), Some(&0));
    }
}
