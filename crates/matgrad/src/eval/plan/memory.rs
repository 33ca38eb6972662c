//! Buffers by liveness: each value lives from the step that writes it to the last step that
//! reads it, and values whose lives do not overlap share a slot.
//!
//! Slots `0..outputs` are the caller's output arrays (requested values are written there
//! directly); the others are allocated once per workspace. Greedy in step order: a value
//! takes the smallest free slot that fits, else grows the largest free one, else a new one.

use std::collections::BTreeMap;

use super::Step;

/// What the allocator needs to know of a value.
#[derive(Debug, Clone, Copy)]
pub(super) struct ValueInfo {
    pub len: usize,
    /// The output this value is written to, if it is a requested one.
    pub output: Option<usize>,
}

#[derive(Debug)]
pub(super) struct Layout {
    pub slot_of: Vec<usize>,
    /// The length of slot `outputs + i`.
    pub slot_lengths: Vec<usize>,
}

pub(super) fn assign(values: &[ValueInfo], steps: &[Step], outputs: usize) -> Layout {
    let mut last_use = vec![0usize; values.len()];
    let mut reads = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        reads.clear();
        step.reads(&mut reads);
        for v in &reads {
            last_use[v.0 as usize] = index;
        }
    }
    let mut slot_of = vec![usize::MAX; values.len()];
    let mut slot_lengths: Vec<usize> = Vec::new();
    let mut free = Free::default();
    let mut defined = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        defined.clear();
        step.writes(&mut defined);
        step.scratch(&mut defined);
        // A scratch that may take the place of an operand this step reads last (an LU's
        // factors, in place of a Hessian nothing else reads) shares the operand's slot.
        let in_place = step.in_place().filter(|&(_, operand)| {
            let (o, info) = (operand.0 as usize, values[operand.0 as usize]);
            info.output.is_none() && last_use[o] == index && slot_of[o] != usize::MAX
        });
        for &v in &defined {
            let info = values[v.0 as usize];
            slot_of[v.0 as usize] = match (info.output, in_place) {
                (Some(output), _) => output,
                (None, Some((scratch, operand)))
                    if scratch == v && slot_lengths[slot_of[operand.0 as usize] - outputs] >= info.len =>
                {
                    slot_of[operand.0 as usize]
                }
                (None, _) => outputs + free.take(&mut slot_lengths, info.len),
            };
            // A value nobody reads (scratch, or written but unused) dies with its step.
            last_use[v.0 as usize] = last_use[v.0 as usize].max(index);
        }
        reads.clear();
        step.reads(&mut reads);
        reads.extend(defined.iter().copied());
        reads.sort_by_key(|v| v.0);
        reads.dedup();
        let mut freed = Vec::new();
        for &v in &reads {
            let (slot, info) = (slot_of[v.0 as usize], values[v.0 as usize]);
            debug_assert!(slot != usize::MAX, "a value is read before it is written");
            // Two values in one slot (in place) free it once.
            if last_use[v.0 as usize] == index && info.output.is_none() && !freed.contains(&slot) {
                freed.push(slot);
                free.give(slot - outputs, &slot_lengths);
            }
        }
    }
    Layout { slot_of, slot_lengths }
}

/// The free slots by length, so that finding the best fit is a lookup, not a scan (a long
/// program has thousands of values alive at the turn from the forward to the backward pass).
#[derive(Default)]
struct Free {
    by_length: BTreeMap<usize, Vec<usize>>,
}

impl Free {
    /// A free slot of at least `len` entries: the smallest that fits, else the largest
    /// grown, else a new one.
    fn take(&mut self, lengths: &mut Vec<usize>, len: usize) -> usize {
        let fitting = self.by_length.range(len..).next().map(|(&l, _)| l);
        let chosen = fitting.or_else(|| self.by_length.keys().next_back().copied());
        match chosen {
            Some(l) => {
                let slots = self.by_length.get_mut(&l).expect("a key just found");
                let slot = slots.pop().expect("no empty lists are kept");
                if slots.is_empty() {
                    self.by_length.remove(&l);
                }
                lengths[slot] = lengths[slot].max(len);
                slot
            }
            None => {
                lengths.push(len);
                lengths.len() - 1
            }
        }
    }

    fn give(&mut self, slot: usize, lengths: &[usize]) {
        self.by_length.entry(lengths[slot]).or_default().push(slot);
    }
}
