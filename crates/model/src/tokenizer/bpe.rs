//! Step 2 of encoding: byte-pair merges inside one pre-token.
//!
//! A pre-token starts as one token per byte. `merges.txt` lists pairs of tokens in the order
//! GPT-2 learned them; while some neighbouring pair is on that list, the pair learned first
//! (lowest rank) is glued into one token, leftmost first when the same pair occurs twice.
//!
//! Finding the lowest pair by rescanning the word after every merge is quadratic, which a long
//! run of letters would feel. So pairs wait in a priority queue keyed by (rank, position), and
//! the tokens form a linked list so a merge only touches its two neighbours.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// What a learned pair becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Merge {
    /// Line of the pair in `merges.txt` (0 = first after the header): lower merges first.
    pub rank: u32,
    /// The token the pair becomes.
    pub id: u32,
}

/// Learned merges keyed by the pair of token ids.
pub(crate) type MergeTable = HashMap<(u32, u32), Merge>;

/// One merge as it happens, for [`super::Tokenizer::explain`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub left: u32,
    pub right: u32,
    pub rank: u32,
}

/// A token of the word being merged, linked to its neighbours by index.
#[derive(Debug, Clone, Copy)]
struct Symbol {
    id: u32,
    prev: Option<usize>,
    next: Option<usize>,
    /// Glued into the symbol before it; kept in the vector so indices stay stable.
    gone: bool,
}

/// The word's tokens during merging.
pub(crate) struct Word {
    symbols: Vec<Symbol>,
}

impl Word {
    /// The current tokens in order. The first symbol is never glued away (a merge keeps its
    /// left side), so the list starts at index 0.
    pub(crate) fn ids(&self) -> Vec<u32> {
        let mut ids = Vec::new();
        let mut at = (!self.symbols.is_empty()).then_some(0);
        while let Some(i) = at {
            ids.push(self.symbols[i].id);
            at = self.symbols[i].next;
        }
        ids
    }
}

/// Merges `ids` (one token per byte) as far as `merges` allows and returns the final tokens.
/// `on_merge` sees each merge and the word right after it.
pub(crate) fn merge_word(
    ids: impl ExactSizeIterator<Item = u32>,
    merges: &MergeTable,
    mut on_merge: impl FnMut(Applied, &Word),
) -> Vec<u32> {
    let len = ids.len();
    let symbols = ids
        .enumerate()
        .map(|(i, id)| Symbol {
            id,
            prev: i.checked_sub(1),
            next: (i + 1 < len).then_some(i + 1),
            gone: false,
        })
        .collect();
    let mut word = Word { symbols };
    let mut queue = BinaryHeap::new();
    for left in 0..len.saturating_sub(1) {
        push_pair(&mut queue, &word, merges, left);
    }
    while let Some(Reverse((rank, left))) = queue.pop() {
        if let Some(applied) = apply(&mut word, merges, rank, left) {
            on_merge(applied, &word);
            let Symbol { prev, .. } = word.symbols[left];
            if let Some(prev) = prev {
                push_pair(&mut queue, &word, merges, prev);
            }
            push_pair(&mut queue, &word, merges, left);
        }
    }
    word.ids()
}

/// Queues the pair that starts at `left`, if it is a learned merge.
fn push_pair(
    queue: &mut BinaryHeap<Reverse<(u32, usize)>>,
    word: &Word,
    merges: &MergeTable,
    left: usize,
) {
    if let Some((merge, _)) = pair_at(word, merges, left) {
        queue.push(Reverse((merge.rank, left)));
    }
}

/// The learned merge of the pair starting at `left` and the index of its right side.
fn pair_at(word: &Word, merges: &MergeTable, left: usize) -> Option<(Merge, usize)> {
    let symbol = word.symbols[left];
    let right = symbol.next.filter(|_| !symbol.gone)?;
    let merge = merges.get(&(symbol.id, word.symbols[right].id))?;
    Some((*merge, right))
}

/// Glues the pair at `left` if it is still the pair that was queued with `rank`. A queued
/// entry goes stale when a neighbour merged first; ranks are unique per pair, so an equal rank
/// means the same pair.
fn apply(word: &mut Word, merges: &MergeTable, rank: u32, left: usize) -> Option<Applied> {
    let (merge, right) = pair_at(word, merges, left).filter(|(m, _)| m.rank == rank)?;
    let applied = Applied {
        left: word.symbols[left].id,
        right: word.symbols[right].id,
        rank,
    };
    let after = word.symbols[right].next;
    word.symbols[left].id = merge.id;
    word.symbols[left].next = after;
    word.symbols[right].gone = true;
    if let Some(after) = after {
        word.symbols[after].prev = Some(left);
    }
    Some(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens 0..=2 are "a", "b", "c"; 3 = "ab" (rank 0), 4 = "abc" (rank 1), 5 = "aa" (rank 2),
    /// 6 = "bc" (rank 3).
    fn table() -> MergeTable {
        let merge = |rank, id| Merge { rank, id };
        HashMap::from([
            ((0, 1), merge(0, 3)),
            ((3, 2), merge(1, 4)),
            ((0, 0), merge(2, 5)),
            ((1, 2), merge(3, 6)),
        ])
    }

    fn merge(ids: &[u32]) -> (Vec<u32>, Vec<u32>) {
        let mut ranks = Vec::new();
        let out = merge_word(ids.iter().copied(), &table(), |a, _| ranks.push(a.rank));
        (out, ranks)
    }

    #[test]
    fn lowest_rank_first() {
        // "abc": "ab" (rank 0) beats "bc" (rank 3), then "ab"+"c" (rank 1).
        assert_eq!(merge(&[0, 1, 2]), (vec![4], vec![0, 1]));
    }

    #[test]
    fn leftmost_first_for_the_same_pair() {
        // "aaa" becomes "aa" "a", not "a" "aa".
        assert_eq!(merge(&[0, 0, 0]), (vec![5, 0], vec![2]));
        assert_eq!(merge(&[0, 0, 0, 0]), (vec![5, 5], vec![2, 2]));
    }

    #[test]
    fn no_merges_for_short_or_unknown_pairs() {
        assert_eq!(merge(&[]), (vec![], vec![]));
        assert_eq!(merge(&[2]), (vec![2], vec![]));
        assert_eq!(merge(&[2, 0]), (vec![2, 0], vec![]));
    }

    #[test]
    fn long_words_stay_fast() {
        let ids = vec![0; 200_000];
        let (out, _) = merge(&ids);
        assert_eq!(out, vec![5; 100_000]);
    }
}
