//! Normalised text → the terms the index stores, each with a kind that sets
//! its weight:
//! - **numbers** with their unit (`115号`, `12幢`, `2单元`) and bare (`115`),
//!   so a typed house number finds its 号 and a room without 室 still counts;
//! - **pairs** of a number and its neighbour (`一路|115号`, `3区|12幢`): the
//!   structure of an address, which rewards the exact house and building;
//! - **words** from jieba's segmentation of runs of three or more characters;
//! - **bigrams** of characters, so a dropped or wrong character costs one or
//!   two bigrams instead of the whole word.
//!
//! Terms are 64-bit hashes of kind and text: the index never stores strings.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use jieba_rs::Jieba;

/// What a term is; its weight multiplies the term's rarity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TermKind {
    Number,
    BareNumber,
    Pair,
    Word,
    Bigram,
    /// A one-character run: its only term.
    Single,
}

impl TermKind {
    pub(crate) fn weight(self) -> f32 {
        match self {
            TermKind::Number => 2.0,
            TermKind::Pair => 1.5,
            TermKind::Word => 1.0,
            TermKind::Bigram => 0.8,
            TermKind::Single => 0.5,
            TermKind::BareNumber => 0.4,
        }
    }
}

/// One term: its hash and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Term {
    pub hash: u64,
    pub kind: TermKind,
}

/// The shared jieba dictionary, loaded on first use (about a quarter second).
fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// FNV-1a: stable across runs and platforms, fast on short strings.
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn term(kind: TermKind, parts: &[&str]) -> Term {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    (kind as u8).hash(&mut h);
    for p in parts {
        h.write(p.as_bytes());
        h.write(&[0xff]);
    }
    Term {
        hash: h.finish(),
        kind,
    }
}

/// A piece of normalised text: a run of non-digits, or a number with its unit.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Number { digits: &'a str, with_unit: &'a str },
}

/// Units recognised after digits in normalised text (see `normalize`).
const UNITS: [&str; 9] = ["单元", "号", "幢", "楼", "层", "区", "期", "弄", "座"];

fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let after = &rest[digits..];
            let unit = UNITS
                .iter()
                .find(|u| after.starts_with(*u))
                .map_or(0, |u| u.len());
            out.push(Piece::Number {
                digits: &rest[..digits],
                with_unit: &rest[..digits + unit],
            });
            rest = &rest[digits + unit..];
        } else {
            let end = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            out.push(Piece::Text(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// The last (or first) two characters of a text piece, for pair terms.
fn edge(text: &str, last: bool) -> &str {
    let idx: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if idx.len() <= 2 {
        text
    } else if last {
        &text[idx[idx.len() - 2]..]
    } else {
        &text[..idx[2]]
    }
}

/// Caches jieba's words per text run: registers repeat the same road and
/// compound names thousands of times.
#[derive(Default)]
pub(crate) struct WordCache {
    words: HashMap<String, Vec<String>>,
}

impl WordCache {
    fn words(&mut self, run: &str) -> &[String] {
        if !self.words.contains_key(run) {
            let words = jieba()
                .cut(run, false)
                .into_iter()
                .map(|t| t.word)
                .filter(|w| w.chars().count() >= 2)
                .map(str::to_string)
                .collect();
            self.words.insert(run.to_string(), words);
        }
        &self.words[run]
    }
}

/// The terms of normalised `text`, appended to `out` (duplicates included).
pub(crate) fn terms(text: &str, cache: &mut WordCache, out: &mut Vec<Term>) {
    let pieces = pieces(text);
    for (k, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Number {
                digits: raw,
                with_unit,
            } => {
                let unit = &with_unit[raw.len()..];
                let digits = match raw.trim_start_matches('0') {
                    "" => "0",
                    d => d,
                };
                out.push(term(TermKind::BareNumber, &[digits]));
                if !unit.is_empty() {
                    out.push(term(TermKind::Number, &[digits, unit]));
                }
                if let Some(prev) = k.checked_sub(1).map(|p| &pieces[p]) {
                    out.push(term(TermKind::Pair, &[short(prev), digits, unit]));
                }
                if let Some(Piece::Text(next)) = pieces.get(k + 1) {
                    out.push(term(TermKind::Pair, &[digits, unit, edge(next, false)]));
                }
            }
            Piece::Text(run) => {
                let chars: Vec<(usize, char)> = run.char_indices().collect();
                if chars.len() == 1 {
                    out.push(term(TermKind::Single, &[run]));
                }
                for w in chars.windows(2) {
                    let end = w[1].0 + w[1].1.len_utf8();
                    out.push(term(TermKind::Bigram, &[&run[w[0].0..end]]));
                }
                if chars.len() >= 3 {
                    for word in cache.words(run) {
                        out.push(term(TermKind::Word, &[word]));
                    }
                }
            }
        }
    }
}

/// How a piece before a number enters its pair term: a text by its last
/// two characters, a number whole.
fn short<'a>(piece: &'a Piece) -> &'a str {
    match piece {
        Piece::Text(t) => edge(t, true),
        Piece::Number { with_unit, .. } => with_unit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(text: &str) -> Vec<Term> {
        let mut out = Vec::new();
        terms(text, &mut WordCache::default(), &mut out);
        out
    }

    #[test]
    fn pieces_split_numbers_with_units() {
        assert_eq!(
            pieces("文一路115号翠苑3区12幢"),
            vec![
                Piece::Text("文一路"),
                Piece::Number {
                    digits: "115",
                    with_unit: "115号"
                },
                Piece::Text("翠苑"),
                Piece::Number {
                    digits: "3",
                    with_unit: "3区"
                },
                Piece::Number {
                    digits: "12",
                    with_unit: "12幢"
                },
            ]
        );
        assert_eq!(
            pieces("502"),
            vec![Piece::Number {
                digits: "502",
                with_unit: "502"
            }]
        );
    }

    #[test]
    fn same_text_same_terms_and_numbers_carry_units() {
        assert_eq!(of("文一路115号"), of("文一路115号"));
        let a = of("12幢");
        let b = of("12号");
        assert!(a.iter().any(|t| t.kind == TermKind::Number));
        // The bare number is shared, the unit-bearing one is not.
        assert!(a
            .iter()
            .filter(|t| t.kind == TermKind::BareNumber)
            .eq(b.iter().filter(|t| t.kind == TermKind::BareNumber)));
        assert_ne!(
            a.iter().find(|t| t.kind == TermKind::Number),
            b.iter().find(|t| t.kind == TermKind::Number)
        );
        // Leading zeros do not make another number.
        assert_eq!(of("012幢"), a);
    }

    #[test]
    fn a_dropped_character_keeps_most_bigrams() {
        let full = of("翠苑3区12幢");
        let dropped = of("苑3区12幢");
        let shared = dropped.iter().filter(|t| full.contains(t)).count();
        assert!(shared * 2 > dropped.len(), "{shared} of {}", dropped.len());
    }

    #[test]
    fn words_come_from_jieba() {
        let t = of("杭州西溪科技有限公司");
        assert!(t.iter().filter(|t| t.kind == TermKind::Word).count() >= 3);
        assert!(t.iter().any(|t| t.kind == TermKind::Bigram));
    }
}
