//! What one board shows, gathered from the catalog: the grid, its street,
//! its blocks (children) with their workers, the community's own workers
//! (网格长, 社区民警 …), and the neighbouring grids of the same level.

use geo::{BoundingRect, Intersects};
use geo_types::Rect;
use gridmap_data::catalog::Catalog;
use gridmap_data::model::{Grid, Worker};

/// The catalog's content for one board.
pub struct BoardData<'a> {
    pub system: &'a str,
    pub grid: &'a Grid,
    pub parent: Option<&'a Grid>,
    /// The children, by code; a grid without children is its own one block.
    pub blocks: Vec<&'a Grid>,
    /// Workers of each block, by worker id, with their share of it.
    pub block_workers: Vec<Vec<(&'a Worker, f64)>>,
    /// Workers assigned to the grid itself.
    pub own_workers: Vec<(&'a Worker, f64)>,
    /// Grids of the same level whose shape reaches into `area`.
    pub neighbours: Vec<&'a Grid>,
    pub version: u64,
}

impl<'a> BoardData<'a> {
    /// Everything the board of `code` shows; neighbours are the same-level
    /// grids meeting `area` (the map frame in longitude/latitude, which the
    /// caller knows once it has laid out the page).
    pub fn gather(
        catalog: &'a Catalog,
        system: Option<&str>,
        code: &str,
    ) -> Result<Self, gridmap_data::catalog::CatalogError> {
        let found = catalog.find_grid(system, code)?;
        let index = found.system;
        let system = index.system().name.as_str();
        let grid = found.grid;
        let parent = grid.parent.as_deref().and_then(|p| index.grid(p));
        let mut blocks: Vec<&Grid> = index
            .children(found.index)
            .iter()
            .map(|&i| &index.grids()[i])
            .collect();
        blocks.sort_by(|a, b| a.code.cmp(&b.code));
        if blocks.is_empty() {
            blocks.push(grid);
        }
        let workers = |code: &str| {
            let mut w = catalog.workers_of(system, code);
            w.sort_by(|a, b| a.0.id.cmp(&b.0.id));
            w
        };
        let block_workers = if blocks.len() == 1 && std::ptr::eq(blocks[0], grid) {
            vec![Vec::new()]
        } else {
            blocks.iter().map(|b| workers(&b.code)).collect()
        };
        Ok(Self {
            system,
            grid,
            parent,
            block_workers,
            own_workers: workers(&grid.code),
            blocks,
            neighbours: Vec::new(),
            version: catalog.version(),
        })
    }

    /// Finds the neighbours shown inside `area` ([min lon, min lat, max lon, max lat]).
    pub fn find_neighbours(&mut self, catalog: &'a Catalog, area: [f64; 4]) {
        let Some(index) = catalog.system(self.system) else {
            return;
        };
        let rect = Rect::new((area[0], area[1]), (area[2], area[3]));
        let mut found: Vec<&Grid> = index
            .grids()
            .iter()
            .filter(|g| g.level == self.grid.level && g.code != self.grid.code)
            .filter(|g| {
                g.geometry
                    .bounding_rect()
                    .is_some_and(|b| b.intersects(&rect))
                    && g.geometry.intersects(&rect)
            })
            .collect();
        found.sort_by(|a, b| a.code.cmp(&b.code));
        self.neighbours = found;
    }

    /// The short code printed on a block: what its code adds to its parent's
    /// (`330106006003005` under `330106006003` → `005`).
    pub fn short_code(&self, block: &Grid) -> String {
        match block.code.strip_prefix(&self.grid.code) {
            Some(rest) if !rest.is_empty() => rest.to_string(),
            _ => block.code.clone(),
        }
    }
}
