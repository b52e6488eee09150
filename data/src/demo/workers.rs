//! Gridworkers for the demo city: one 专职网格员 per staffed block, a 网格长
//! and a 社区民警 per community.

use super::names;
use crate::model::{Worker, WorkerGrid, DEFAULT_SYSTEM};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

pub(crate) const ROLE_GRIDWORKER: &str = "专职网格员";
pub(crate) const ROLE_CHIEF: &str = "网格长";
pub(crate) const ROLE_POLICE: &str = "社区民警";

const DUTIES_GRIDWORKER: &str = "信息采集、矛盾调解、安全巡查、政策宣传、民生服务";
const DUTIES_CHIEF: &str = "统筹社区网格工作、督导网格员履职、协调处置上报事件";
const DUTIES_POLICE: &str = "治安巡逻、矛盾纠纷排查化解、重点人员管理、安全防范宣传";

/// Share of blocks left without a gridworker.
pub(crate) const UNSTAFFED_SHARE: f64 = 0.05;
/// Share of gridworkers who also cover half of a neighbouring block.
pub(crate) const EXTRA_SHARE: f64 = 0.05;

/// Workers for blocks (`block_codes`, with `block_adj` their neighbours) and
/// communities (`comm_codes`). Ids are `W000001`, … in that order.
pub(crate) fn make_workers(
    block_codes: &[String],
    block_adj: &[Vec<u32>],
    comm_codes: &[String],
    seed: u64,
) -> Vec<Worker> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x3043_4B45);
    let n = block_codes.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let unstaffed: HashSet<usize> = order[..(n as f64 * UNSTAFFED_SHARE).round() as usize]
        .iter()
        .copied()
        .collect();
    let mut phones = HashSet::new();
    let mut workers = Vec::with_capacity(n + 2 * comm_codes.len());
    let grid = |code: &str, share: f64| WorkerGrid {
        system: DEFAULT_SYSTEM.to_string(),
        code: code.to_string(),
        share,
    };
    let mut new_worker =
        |rng: &mut ChaCha8Rng, role: &str, duties: &str, grids: Vec<WorkerGrid>, count: usize| {
            let id = format!("W{:06}", count + 1);
            Worker {
                name: names::person(rng),
                phone: names::phone(rng, &mut phones),
                role: role.to_string(),
                photo: format!("photos/{id}.jpg"),
                duties: duties.to_string(),
                grids,
                id,
            }
        };
    for b in 0..n {
        if unstaffed.contains(&b) {
            continue;
        }
        let mut grids = vec![grid(&block_codes[b], 1.0)];
        if rng.random_bool(EXTRA_SHARE) && !block_adj[b].is_empty() {
            let other = block_adj[b][rng.random_range(0..block_adj[b].len())] as usize;
            grids.push(grid(&block_codes[other], 0.5));
        }
        let w = new_worker(
            &mut rng,
            ROLE_GRIDWORKER,
            DUTIES_GRIDWORKER,
            grids,
            workers.len(),
        );
        workers.push(w);
    }
    for code in comm_codes {
        for (role, duties) in [(ROLE_CHIEF, DUTIES_CHIEF), (ROLE_POLICE, DUTIES_POLICE)] {
            let w = new_worker(&mut rng, role, duties, vec![grid(code, 1.0)], workers.len());
            workers.push(w);
        }
    }
    workers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staffing_shares_roles_and_unique_phones() {
        let blocks: Vec<String> = (0..400).map(|k| format!("B{k}")).collect();
        let adj: Vec<Vec<u32>> = (0..400u32)
            .map(|k| vec![(k + 1) % 400, (k + 399) % 400])
            .collect();
        let comms: Vec<String> = (0..20).map(|k| format!("C{k}")).collect();
        let w = make_workers(&blocks, &adj, &comms, 1);
        let gridworkers: Vec<_> = w.iter().filter(|w| w.role == ROLE_GRIDWORKER).collect();
        assert_eq!(gridworkers.len(), 380);
        assert_eq!(w.iter().filter(|w| w.role == ROLE_CHIEF).count(), 20);
        assert_eq!(w.iter().filter(|w| w.role == ROLE_POLICE).count(), 20);
        let extra = gridworkers.iter().filter(|w| w.grids.len() == 2).count();
        assert!((5..=45).contains(&extra), "{extra} extra assignments");
        for g in gridworkers.iter().filter(|w| w.grids.len() == 2) {
            assert_eq!(g.grids[1].share, 0.5);
            assert_ne!(g.grids[0].code, g.grids[1].code);
        }
        let phones: HashSet<_> = w.iter().map(|w| &w.phone).collect();
        assert_eq!(phones.len(), w.len());
        assert!(w.iter().all(|w| w.photo == format!("photos/{}.jpg", w.id)));
        assert_eq!(w, make_workers(&blocks, &adj, &comms, 1));
    }
}
