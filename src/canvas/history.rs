//! Undo/redo with bounded memory. A step stores only the bounding box of the pixels it changed,
//! before and after, so a brush stroke costs bytes proportional to its area, not the map's.

use std::collections::VecDeque;

use super::LabelMap;

/// Default memory bound of [`History`].
pub const DEFAULT_HISTORY_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Clone)]
enum Patch {
    /// Same map size before and after: the changed rectangle.
    Region {
        x: u32,
        y: u32,
        w: u32,
        before: Vec<u8>,
        after: Vec<u8>,
    },
    /// The map was replaced by one of another size (import, model switch).
    Whole { before: LabelMap, after: LabelMap },
}

impl Patch {
    fn bytes(&self) -> usize {
        match self {
            Patch::Region { before, after, .. } => before.len() + after.len(),
            Patch::Whole { before, after } => before.data().len() + after.data().len(),
        }
    }

    /// The difference from `before` to `after`, or `None` when they are equal.
    fn diff(before: &LabelMap, after: &LabelMap) -> Option<Patch> {
        if before.width() != after.width() || before.height() != after.height() {
            return Some(Patch::Whole {
                before: before.clone(),
                after: after.clone(),
            });
        }
        let w = before.width() as usize;
        let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
        for (y, (rb, ra)) in before
            .data()
            .chunks_exact(w.max(1))
            .zip(after.data().chunks_exact(w.max(1)))
            .enumerate()
        {
            if rb == ra {
                continue;
            }
            let first = rb.iter().zip(ra).position(|(a, b)| a != b).unwrap_or(0);
            let last = rb.iter().zip(ra).rposition(|(a, b)| a != b).unwrap_or(0);
            x0 = x0.min(first);
            x1 = x1.max(last + 1);
            y0 = y0.min(y);
            y1 = y1.max(y + 1);
        }
        if x0 == usize::MAX {
            return None;
        }
        let crop = |m: &LabelMap| {
            let mut out = Vec::with_capacity((x1 - x0) * (y1 - y0));
            for y in y0..y1 {
                out.extend_from_slice(&m.data()[y * w + x0..y * w + x1]);
            }
            out
        };
        Some(Patch::Region {
            x: x0 as u32,
            y: y0 as u32,
            w: (x1 - x0) as u32,
            before: crop(before),
            after: crop(after),
        })
    }

    fn apply(&self, map: &mut LabelMap, forward: bool) {
        match self {
            Patch::Region {
                x,
                y,
                w,
                before,
                after,
            } => {
                let src = if forward { after } else { before };
                let (x, y, w) = (*x as usize, *y as usize, *w as usize);
                let stride = map.width() as usize;
                for (row, chunk) in src.chunks_exact(w.max(1)).enumerate() {
                    let start = (y + row) * stride + x;
                    if let Some(dst) = map.data_mut().get_mut(start..start + w) {
                        dst.copy_from_slice(chunk);
                    }
                }
            }
            Patch::Whole { before, after } => {
                *map = if forward {
                    after.clone()
                } else {
                    before.clone()
                };
            }
        }
    }
}

/// Undo/redo of [`LabelMap`] edits, bounded by `max_bytes` (oldest steps are dropped first).
///
/// Call [`History::record`] with the map as it is *before* each edit (a whole stroke is one
/// edit). The step is completed lazily from the map's state at the next `record`, `undo`,
/// `redo` or [`History::commit`], so only the changed rectangle is kept.
#[derive(Debug, Clone)]
pub struct History {
    undo: VecDeque<Patch>,
    redo: Vec<Patch>,
    open: Option<LabelMap>,
    bytes: usize,
    max_bytes: usize,
}

impl Default for History {
    fn default() -> Self {
        Self::new(DEFAULT_HISTORY_BYTES)
    }
}

impl History {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            undo: VecDeque::new(),
            redo: Vec::new(),
            open: None,
            bytes: 0,
            max_bytes,
        }
    }

    /// Marks the start of an edit; `before` is the map before the edit.
    pub fn record(&mut self, before: &LabelMap) {
        // The previous edit ended in the state this one starts from.
        self.commit(before);
        self.open = Some(before.clone());
        self.redo.clear();
    }

    /// Completes the open edit with the map after it (optional: the next call does it anyway).
    /// An edit that changed nothing leaves no step.
    pub fn commit(&mut self, after: &LabelMap) {
        if let Some(before) = self.open.take()
            && let Some(patch) = Patch::diff(&before, after)
        {
            self.bytes += patch.bytes();
            self.undo.push_back(patch);
            self.evict();
        }
    }

    fn evict(&mut self) {
        let redo_bytes: usize = self.redo.iter().map(Patch::bytes).sum();
        while self.bytes + redo_bytes > self.max_bytes {
            match self.undo.pop_front() {
                Some(p) => self.bytes -= p.bytes(),
                None => break,
            }
        }
    }

    /// Reverts the last edit; false when there is nothing to undo.
    pub fn undo(&mut self, current: &mut LabelMap) -> bool {
        self.commit(current);
        match self.undo.pop_back() {
            Some(patch) => {
                patch.apply(current, false);
                self.bytes -= patch.bytes();
                self.redo.push(patch);
                true
            }
            None => false,
        }
    }

    /// Re-applies the last undone edit; false when there is nothing to redo.
    pub fn redo(&mut self, current: &mut LabelMap) -> bool {
        self.commit(current);
        match self.redo.pop() {
            Some(patch) => {
                patch.apply(current, true);
                self.bytes += patch.bytes();
                self.undo.push_back(patch);
                true
            }
            None => false,
        }
    }

    /// True when there is a step to undo (an open edit counts, even if it turns out to be a no-op).
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty() || self.open.is_some()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.open = None;
        self.bytes = 0;
    }

    /// Bytes held by completed undo steps.
    pub fn memory_bytes(&self) -> usize {
        self.bytes
    }

    pub fn undo_len(&self) -> usize {
        self.undo.len() + usize::from(self.open.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canvas::{fill_rect, paint_stroke};

    #[test]
    fn undo_redo_round_trip() {
        let mut h = History::new(1 << 20);
        let mut m = LabelMap::new(64, 48, 0);
        let s0 = m.clone();
        h.record(&m);
        paint_stroke(&mut m, (5.0, 5.0), (40.0, 20.0), 3.0, 1);
        let s1 = m.clone();
        h.record(&m);
        fill_rect(&mut m, (10.0, 30.0), (60.0, 40.0), 2);
        let s2 = m.clone();
        assert!(h.can_undo());
        assert!(!h.can_redo());

        assert!(h.undo(&mut m));
        assert_eq!(m, s1);
        assert!(h.undo(&mut m));
        assert_eq!(m, s0);
        assert!(!h.undo(&mut m));
        assert!(!h.can_undo());
        assert!(h.redo(&mut m));
        assert_eq!(m, s1);
        assert!(h.redo(&mut m));
        assert_eq!(m, s2);
        assert!(!h.redo(&mut m));

        // A new edit after an undo drops the redo branch.
        h.undo(&mut m);
        h.record(&m);
        paint_stroke(&mut m, (1.0, 1.0), (2.0, 2.0), 1.0, 5);
        assert!(!h.can_redo());
        h.undo(&mut m);
        assert_eq!(m, s1);
    }

    #[test]
    fn steps_store_only_the_changed_box() {
        let mut h = History::new(1 << 20);
        let mut m = LabelMap::new(1000, 1000, 0);
        h.record(&m);
        fill_rect(&mut m, (10.0, 10.0), (19.0, 14.0), 3); // 10 x 5 pixels
        h.commit(&m);
        assert_eq!(h.memory_bytes(), 2 * 10 * 5);
    }

    #[test]
    fn no_op_edit_leaves_no_step() {
        let mut h = History::new(1 << 20);
        let mut m = LabelMap::new(8, 8, 0);
        h.record(&m);
        h.commit(&m);
        assert!(!h.can_undo());
        assert!(!h.undo(&mut m));
    }

    #[test]
    fn memory_bound_evicts_oldest() {
        // Each step is a 10x10 box: 200 bytes. Allow 3 steps.
        let mut h = History::new(600);
        let mut m = LabelMap::new(100, 100, 0);
        let mut states = vec![m.clone()];
        for i in 0..6u8 {
            h.record(&m);
            let o = f32::from(i) * 10.0;
            fill_rect(&mut m, (o, o), (o + 9.0, o + 9.0), i + 1);
            states.push(m.clone());
        }
        h.commit(&m);
        assert!(h.memory_bytes() <= 600);
        let mut undone = 0;
        while h.undo(&mut m) {
            undone += 1;
        }
        assert_eq!(undone, 3);
        assert_eq!(m, states[3]);
    }

    #[test]
    fn size_change_is_undoable() {
        let mut h = History::new(1 << 20);
        let mut m = LabelMap::new(4, 4, 1);
        let small = m.clone();
        h.record(&m);
        m = LabelMap::new(8, 6, 2);
        assert!(h.undo(&mut m));
        assert_eq!(m, small);
        assert!(h.redo(&mut m));
        assert_eq!((m.width(), m.height()), (8, 6));
    }
}
