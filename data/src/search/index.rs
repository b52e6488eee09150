//! The inverted index over a catalog's sites and its scoring.
//!
//! Each site is one document: the terms of its normalised name and address
//! (see [`super::tokens`]). Term lists are stored flat (sorted term hashes,
//! offsets, ascending site numbers), about 20 entries per site.
//!
//! A query is scored by how much of its weight a site matches: each term
//! weighs its kind's weight times its rarity, `ln(1 + N / df)`; a site's
//! score is the weight it matches over the query's whole weight, plus a
//! bonus when the normalised query equals the site's normalised name or
//! address, less a little for terms the site has beyond the query (shorter
//! matches first). Rare terms are gathered first; once [`GATHER_BUDGET`]
//! postings are read, the common terms only add to the best candidates so
//! far, which bounds the work of a query on millions of sites.

use std::collections::HashMap;

use super::normalize::normalize;
use super::tokens::{terms, Term, WordCache};
use crate::sites::SiteEntry;

/// Postings read in full before the remaining terms only score candidates.
const GATHER_BUDGET: usize = 150_000;
/// Candidates kept for the common terms to score.
const CANDIDATES: usize = 4_000;
/// Added to the score of a site whose name or address is the query itself.
pub const EXACT_BONUS: f32 = 0.5;
/// Weight of the length penalty: a site with many terms beyond the query's
/// loses up to this much.
const LENGTH_PENALTY: f32 = 0.05;

/// One scored site: its position in [`crate::catalog::Catalog::sites`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub site: u32,
    pub score: f32,
}

/// The search index of one catalog version; immutable once built.
pub struct SearchIndex {
    version: u64,
    sites: usize,
    /// Sorted term hashes; term `k`'s sites are `postings[offsets[k]..offsets[k + 1]]`.
    keys: Vec<u64>,
    offsets: Vec<u32>,
    postings: Vec<u32>,
    /// Distinct terms of each site.
    site_terms: Vec<u16>,
    /// (hash of a normalised name or address, site), sorted.
    exact: Vec<(u64, u32)>,
}

/// A stable hash of a whole normalised text, for exact matches.
fn text_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The distinct terms and exact-match hashes of one site.
fn site_terms(
    site: &SiteEntry,
    cache: &mut WordCache,
    scratch: &mut Vec<Term>,
) -> (Vec<u64>, [u64; 2]) {
    scratch.clear();
    let name = normalize(&site.name);
    terms(&name, cache, scratch);
    let address = site.address.as_deref().map(normalize).unwrap_or_default();
    if address != name {
        terms(&address, cache, scratch);
    }
    let mut hashes: Vec<u64> = scratch.iter().map(|t| t.hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    let address_hash = if address.is_empty() {
        text_hash(&name)
    } else {
        text_hash(&address)
    };
    (hashes, [text_hash(&name), address_hash])
}

/// Postings of one contiguous range of sites, built by one thread.
struct Part {
    postings: HashMap<u64, Vec<u32>>,
    site_terms: Vec<u16>,
    exact: Vec<(u64, u32)>,
}

fn build_part(sites: &[SiteEntry], first: usize) -> Part {
    let mut cache = WordCache::default();
    let mut scratch = Vec::new();
    let mut part = Part {
        postings: HashMap::new(),
        site_terms: Vec::with_capacity(sites.len()),
        exact: Vec::with_capacity(sites.len() * 2),
    };
    for (k, site) in sites.iter().enumerate() {
        let doc = (first + k) as u32;
        let (hashes, exact) = site_terms(site, &mut cache, &mut scratch);
        part.site_terms
            .push(hashes.len().min(usize::from(u16::MAX)) as u16);
        for h in hashes {
            part.postings.entry(h).or_default().push(doc);
        }
        part.exact.push((exact[0], doc));
        if exact[1] != exact[0] {
            part.exact.push((exact[1], doc));
        }
    }
    part
}

impl SearchIndex {
    /// Indexes `sites` (a catalog's, in its order) for catalog `version`, on
    /// all cores.
    pub fn build(sites: &[SiteEntry], version: u64) -> Self {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8);
        let chunk = sites.len().div_ceil(threads).max(1);
        let parts: Vec<Part> = std::thread::scope(|s| {
            let handles: Vec<_> = sites
                .chunks(chunk)
                .enumerate()
                .map(|(k, slice)| s.spawn(move || build_part(slice, k * chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an index build thread panicked"))
                .collect()
        });
        let mut keys: Vec<u64> = parts
            .iter()
            .flat_map(|p| p.postings.keys().copied())
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let total: usize = parts
            .iter()
            .flat_map(|p| p.postings.values())
            .map(Vec::len)
            .sum();
        let mut offsets = Vec::with_capacity(keys.len() + 1);
        let mut postings = Vec::with_capacity(total);
        offsets.push(0);
        for key in &keys {
            // Parts cover ascending site ranges, so each list stays sorted.
            for p in &parts {
                if let Some(list) = p.postings.get(key) {
                    postings.extend_from_slice(list);
                }
            }
            offsets.push(postings.len() as u32);
        }
        let mut site_terms = Vec::with_capacity(sites.len());
        let mut exact = Vec::new();
        for p in parts {
            site_terms.extend(p.site_terms);
            exact.extend(p.exact);
        }
        exact.sort_unstable();
        Self {
            version,
            sites: sites.len(),
            keys,
            offsets,
            postings,
            site_terms,
            exact,
        }
    }

    /// The catalog version this index was built from.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Number of sites indexed.
    pub fn len(&self) -> usize {
        self.sites
    }

    pub fn is_empty(&self) -> bool {
        self.sites == 0
    }

    /// Distinct terms in the index.
    pub fn terms(&self) -> usize {
        self.keys.len()
    }

    fn postings_of(&self, hash: u64) -> &[u32] {
        match self.keys.binary_search(&hash) {
            Ok(k) => &self.postings[self.offsets[k] as usize..self.offsets[k + 1] as usize],
            Err(_) => &[],
        }
    }

    /// The best `limit` sites for already normalised, non-empty `query`,
    /// best first (ties by site order). Empty when nothing matches.
    pub fn ranked(&self, query: &str, limit: usize) -> Vec<Scored> {
        if self.sites == 0 || query.is_empty() || limit == 0 {
            return Vec::new();
        }
        let mut scratch = Vec::new();
        terms(query, &mut WordCache::default(), &mut scratch);
        scratch.sort_unstable_by_key(|t| t.hash);
        scratch.dedup_by_key(|t| t.hash);
        let n = self.sites as f32;
        let mut total_weight = 0.0f32;
        let mut found: Vec<(&[u32], f32)> = Vec::new();
        for t in &scratch {
            let list = self.postings_of(t.hash);
            let df = list.len().max(1) as f32;
            let weight = t.kind.weight() * (1.0 + n / df).ln();
            total_weight += weight;
            if !list.is_empty() {
                found.push((list, weight));
            }
        }
        found.sort_by_key(|(list, _)| list.len());
        // (score, matched terms) per candidate site.
        let mut candidates: HashMap<u32, (f32, u16)> = HashMap::new();
        let mut read = 0usize;
        let mut rest = found.len();
        for (k, (list, weight)) in found.iter().enumerate() {
            if k > 0 && read + list.len() > GATHER_BUDGET {
                rest = k;
                break;
            }
            let take = list.len().min(GATHER_BUDGET);
            for &site in &list[..take] {
                let e = candidates.entry(site).or_insert((0.0, 0));
                e.0 += weight;
                e.1 += 1;
            }
            read += take;
        }
        let exact_hash = text_hash(query);
        let start = self.exact.partition_point(|&(h, _)| h < exact_hash);
        for &(h, site) in &self.exact[start..] {
            if h != exact_hash {
                break;
            }
            candidates.entry(site).or_insert((0.0, 0)).0 += EXACT_BONUS * total_weight;
        }
        let mut pool: Vec<(u32, (f32, u16))> = candidates.into_iter().collect();
        if rest < found.len() {
            if pool.len() > CANDIDATES {
                pool.select_nth_unstable_by(CANDIDATES, |a, b| b.1 .0.total_cmp(&a.1 .0));
                pool.truncate(CANDIDATES);
            }
            pool.sort_unstable_by_key(|c| c.0);
            for (list, weight) in &found[rest..] {
                for c in pool.iter_mut() {
                    if list.binary_search(&c.0).is_ok() {
                        c.1 .0 += weight;
                        c.1 .1 += 1;
                    }
                }
            }
        }
        let mut scored: Vec<Scored> = pool
            .into_iter()
            .map(|(site, (sum, matched))| {
                let own = f32::from(self.site_terms[site as usize].max(1));
                let extra = (own - f32::from(matched)).max(0.0) / own;
                Scored {
                    site,
                    score: sum / total_weight - LENGTH_PENALTY * extra,
                }
            })
            .collect();
        let by_rank =
            |a: &Scored, b: &Scored| b.score.total_cmp(&a.score).then(a.site.cmp(&b.site));
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit, by_rank);
            scored.truncate(limit);
        }
        scored.sort_unstable_by(by_rank);
        scored
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(name: &str, address: &str) -> SiteEntry {
        SiteEntry {
            id: name.into(),
            kind: 0,
            name: name.into(),
            address: Some(address.into()),
            households: None,
            lon: 120.0,
            lat: 30.0,
        }
    }

    fn index() -> SearchIndex {
        SearchIndex::build(
            &[
                site(
                    "文一路115号翠苑三区12幢",
                    "杭州市西湖区文一路115号翠苑三区12幢",
                ),
                site(
                    "文一路115号翠苑三区13幢",
                    "杭州市西湖区文一路115号翠苑三区13幢",
                ),
                site("文三路115号桂花苑2幢", "杭州市西湖区文三路115号桂花苑2幢"),
                site("桂花面馆", "杭州市西湖区文三路115号桂花苑2幢102室"),
                site("桂园面馆", "杭州市西湖区文一路117号丰园1栋101室"),
            ],
            3,
        )
    }

    fn best(ix: &SearchIndex, q: &str) -> u32 {
        ix.ranked(&normalize(q), 5)[0].site
    }

    #[test]
    fn exact_building_and_house_number_win() {
        let ix = index();
        assert_eq!(ix.version(), 3);
        assert_eq!(best(&ix, "翠苑三区12幢"), 0);
        assert_eq!(best(&ix, "翠苑3区13栋"), 1);
        assert_eq!(best(&ix, "文三路115号"), 2);
        assert_eq!(best(&ix, "杭州西湖区文一路115号翠苑三区十二号楼"), 0);
    }

    #[test]
    fn names_and_dropped_characters() {
        let ix = index();
        assert_eq!(best(&ix, "桂花面馆"), 3);
        assert_eq!(best(&ix, "桂园面"), 4);
        assert_eq!(best(&ix, "翠三区12幢"), 0);
        let r = ix.ranked(&normalize("桂花面馆"), 5);
        assert!(r[0].score > 1.0, "an exact name carries the bonus: {r:?}");
        assert!(r.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn nothing_matches_nothing() {
        let ix = index();
        assert!(ix.ranked(&normalize("紫金港"), 5).is_empty());
        assert!(SearchIndex::build(&[], 1).ranked("文一路", 5).is_empty());
    }
}
