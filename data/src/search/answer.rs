//! From ranked sites to an answer: each site placed in its grids, and the
//! ambiguity rule.

use super::{normalize, SearchError, SearchIndex, MAX_LIMIT, MAX_QUERY_CHARS};
use crate::catalog::Catalog;

/// Candidates scoring at least this share of the best one score alike.
pub const ALIKE: f32 = 0.95;
/// Most alike candidates an ambiguous answer lists.
pub const MAX_ALIKE: usize = MAX_LIMIT;

/// One site found, with its grids in the system asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Index into [`Catalog::sites`].
    pub site: usize,
    pub score: f32,
    /// Indexes into the system's grids, top level first (levels where the
    /// site lies in no grid are left out).
    pub grids: Vec<usize>,
}

impl Found {
    /// The finest grid holding the site.
    pub fn finest(&self) -> Option<usize> {
        self.grids.last().copied()
    }
}

/// The results, best first, and whether the best ones lie in different
/// grids while scoring alike; then every alike candidate is listed (up to
/// [`MAX_ALIKE`]), even past `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchAnswer {
    pub results: Vec<Found>,
    pub ambiguous: bool,
}

/// Searches `query` among the sites of `catalog` and places the results in
/// the grids of `system`.
pub fn search(
    catalog: &Catalog,
    index: &SearchIndex,
    system: &str,
    query: &str,
    limit: usize,
) -> Result<SearchAnswer, SearchError> {
    let chars = query.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(SearchError::QueryTooLong { chars });
    }
    if limit == 0 || limit > MAX_LIMIT {
        return Err(SearchError::BadLimit { limit });
    }
    if catalog.system(system).is_none() {
        return Err(SearchError::UnknownSystem(system.to_string()));
    }
    if index.version() != catalog.version() {
        return Err(SearchError::StaleIndex {
            index: index.version(),
            catalog: catalog.version(),
        });
    }
    let normalized = normalize(query);
    if normalized.is_empty() {
        return Err(SearchError::EmptyQuery);
    }
    let ranked = index.ranked(&normalized, limit.max(MAX_ALIKE));
    let place = |site: usize, score: f32| Found {
        site,
        score,
        grids: catalog
            .site_assignment(system, site)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .map(|hit| hit.grid)
            .collect(),
    };
    let Some(best) = ranked.first() else {
        return Ok(SearchAnswer {
            results: Vec::new(),
            ambiguous: false,
        });
    };
    let floor = alike_floor(best.score);
    let alike: Vec<Found> = ranked
        .iter()
        .take_while(|s| s.score >= floor)
        .map(|s| place(s.site as usize, s.score))
        .collect();
    let first_grid = alike[0].finest();
    let ambiguous = alike.iter().any(|f| f.finest() != first_grid);
    let results = if ambiguous {
        alike
    } else {
        ranked
            .iter()
            .take(limit)
            .map(|s| place(s.site as usize, s.score))
            .collect()
    };
    Ok(SearchAnswer { results, ambiguous })
}

/// The lowest score still "alike" the best one: within `1 - ALIKE` of it.
/// Scores go below zero (a weak match on a long text pays the length
/// penalty), where `best * ALIKE` would lie above the best and leave no
/// result alike, not even the best (a panic on `alike[0]`).
fn alike_floor(best: f32) -> f32 {
    best - best.abs() * (1.0 - ALIKE)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_best_is_always_alike_itself() {
        for best in [2.0_f32, 1.0, 0.3, 0.0, -0.2, -5.0] {
            let floor = super::alike_floor(best);
            assert!(floor <= best, "{best}");
            assert!((best - floor) <= best.abs() * 0.05 + 1e-6, "{best}");
        }
        assert!((super::alike_floor(1.0) - super::ALIKE).abs() < 1e-6);
    }

    use super::*;
    use crate::index::SystemIndex;
    use crate::model::{Grid, GridSystem, Site};
    use geo_types::{polygon, MultiPolygon, Point};

    /// Two blocks side by side in one street; the same shop name in both.
    fn catalog() -> Catalog {
        let sq = |x: f64| {
            MultiPolygon(vec![
                polygon![(x: x, y: 30.0), (x: x + 0.01, y: 30.0), (x: x + 0.01, y: 30.01), (x: x, y: 30.01)],
            ])
        };
        let street =
            Grid::new("1", "street", None, sq(120.0).union_with(sq(120.01))).named("翠苑街道");
        let grids = vec![
            street,
            Grid::new("1001", "block", Some("1"), sq(120.0)).named("第1网格"),
            Grid::new("1002", "block", Some("1"), sq(120.01)).named("第2网格"),
        ];
        let index = SystemIndex::build(
            GridSystem::new("default", vec!["street".into(), "block".into()]),
            grids,
        );
        let site = |id: &str, name: &str, address: &str, x: f64| Site {
            id: id.into(),
            kind: "food".into(),
            name: name.into(),
            address: Some(address.into()),
            households: None,
            location: Point::new(x, 30.005),
            attributes: Default::default(),
        };
        Catalog::from_parts(4, [("default".to_string(), index)].into(), vec![]).with_sites(vec![
            site("R1", "桂花面馆", "文一路1号1幢101室", 120.005),
            site("R2", "桂花面馆", "文一路3号2幢101室", 120.015),
            site("R3", "丰园小吃店", "文一路3号2幢102室", 120.015),
        ])
    }

    trait Union {
        fn union_with(self, other: Self) -> Self;
    }
    impl Union for MultiPolygon<f64> {
        fn union_with(self, other: Self) -> Self {
            use geo::BooleanOps;
            BooleanOps::union(&self, &other)
        }
    }

    #[test]
    fn alike_results_in_two_grids_are_ambiguous() {
        let c = catalog();
        let ix = SearchIndex::build(c.sites(), c.version());
        let a = search(&c, &ix, "default", "桂花面馆", 1).unwrap();
        assert!(a.ambiguous);
        assert_eq!(a.results.len(), 2, "both listed though limit is 1");
        let blocks: Vec<usize> = a.results.iter().filter_map(Found::finest).collect();
        assert_eq!(blocks.len(), 2);
        assert_ne!(blocks[0], blocks[1]);
        assert!(a
            .results
            .iter()
            .all(|f| f.grids.len() == 2 && f.grids[0] == 0));

        let one = search(&c, &ix, "default", "文一路1号", 5).unwrap();
        assert!(!one.ambiguous);
        assert_eq!(c.sites()[one.results[0].site].id.as_ref(), "R1");
    }

    #[test]
    fn bad_queries_are_refused() {
        let c = catalog();
        let ix = SearchIndex::build(c.sites(), c.version());
        assert_eq!(
            search(&c, &ix, "default", " ，", 5),
            Err(SearchError::EmptyQuery)
        );
        let long = "文".repeat(101);
        assert_eq!(
            search(&c, &ix, "default", &long, 5),
            Err(SearchError::QueryTooLong { chars: 101 })
        );
        assert!(search(&c, &ix, "default", &"文".repeat(100), 5).is_ok());
        assert_eq!(
            search(&c, &ix, "default", "桂花", 0),
            Err(SearchError::BadLimit { limit: 0 })
        );
        assert!(matches!(
            search(&c, &ix, "other", "桂花", 5),
            Err(SearchError::UnknownSystem(_))
        ));
        let old = SearchIndex::build(c.sites(), 3);
        assert!(matches!(
            search(&c, &old, "default", "桂花", 5),
            Err(SearchError::StaleIndex { .. })
        ));
    }
}
