//! Grouping blocks into streets and communities by clustering their positions.

use super::city::{repair_groups, City};
use super::noise::Warp;
use super::DemoError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Number of streets for a block count: about 120 blocks per street, 3 to 40.
pub(crate) fn street_count(blocks: usize) -> usize {
    ((blocks as f64 / 120.0).round() as usize).clamp(3, 40)
}

/// Number of communities: about 15 blocks per community, at least one per street.
pub(crate) fn community_count(blocks: usize) -> usize {
    ((blocks as f64 / 15.0).round() as usize).max(street_count(blocks))
}

/// K-means (k-means++ start, Lloyd iterations). Every cluster is non-empty when
/// `points.len() >= k`.
pub(crate) fn kmeans(points: &[(f64, f64)], k: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let n = points.len();
    let d2 = |a: (f64, f64), b: (f64, f64)| (a.0 - b.0).powi(2) + (a.1 - b.1).powi(2);
    let mut centres = vec![points[rng.random_range(0..n)]];
    let mut nearest: Vec<f64> = points.iter().map(|&p| d2(p, centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut t = rng.random::<f64>() * total;
            nearest
                .iter()
                .position(|&w| {
                    t -= w;
                    t < 0.0
                })
                .unwrap_or(n - 1)
        } else {
            centres.len() % n
        };
        let c = points[pick];
        centres.push(c);
        for (w, &p) in nearest.iter_mut().zip(points) {
            *w = w.min(d2(p, c));
        }
    }
    let mut assign = vec![0u32; n];
    for _ in 0..20 {
        for (a, &p) in assign.iter_mut().zip(points) {
            *a = (0..k)
                .min_by(|&x, &y| d2(p, centres[x]).total_cmp(&d2(p, centres[y])))
                .unwrap_or(0) as u32;
        }
        // An empty cluster takes the point farthest from its centre.
        let mut count = vec![0usize; k];
        for &a in &assign {
            count[a as usize] += 1;
        }
        for c in 0..k {
            if count[c] == 0 {
                let far = (0..n)
                    .filter(|&i| count[assign[i] as usize] > 1)
                    .max_by(|&x, &y| {
                        d2(points[x], centres[assign[x] as usize])
                            .total_cmp(&d2(points[y], centres[assign[y] as usize]))
                    });
                if let Some(i) = far {
                    count[assign[i] as usize] -= 1;
                    assign[i] = c as u32;
                    count[c] = 1;
                }
            }
        }
        let mut sum = vec![(0.0, 0.0); k];
        for (&a, &p) in assign.iter().zip(points) {
            sum[a as usize].0 += p.0;
            sum[a as usize].1 += p.1;
        }
        for c in 0..k {
            if count[c] > 0 {
                centres[c] = (sum[c].0 / count[c] as f64, sum[c].1 / count[c] as f64);
            }
        }
    }
    assign
}

/// Splits `total` into parts proportional to `weights` (largest remainder),
/// each at least 1 and at most its weight.
pub(crate) fn apportion(weights: &[usize], total: usize) -> Vec<usize> {
    let sum: usize = weights.iter().sum();
    let exact: Vec<f64> = weights
        .iter()
        .map(|&w| w as f64 * total as f64 / sum.max(1) as f64)
        .collect();
    let mut parts: Vec<usize> = exact
        .iter()
        .zip(weights)
        .map(|(&e, &w)| (e.floor() as usize).clamp(1, w.max(1)))
        .collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let mut have: usize = parts.iter().sum();
    for &i in order.iter().cycle().take(4 * weights.len() * (total + 1)) {
        if have >= total {
            break;
        }
        if parts[i] < weights[i] {
            parts[i] += 1;
            have += 1;
        }
    }
    parts
}

/// Builds the street and community tree over the blocks of `city` and makes
/// every street and community contiguous.
pub(crate) fn build_tree(city: &mut City, blocks: usize, seed: u64) -> Result<(), DemoError> {
    let n = city.n_blocks();
    let centroids = city.block_centroids();
    let adj = city.block_adjacency();
    let weights = city.block_sizes();
    let area: f64 = weights.iter().sum::<usize>() as f64 * city.lat.cell * city.lat.cell;
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x57EE7);

    // Streets: k-means in a space warped at street scale, so borders wander.
    let streets = street_count(blocks).min(n);
    let street_diam = (area / streets as f64).sqrt();
    let warp = Warp::new(seed ^ 0x5757, 0.25 * street_diam, 1.2 * street_diam);
    let warped: Vec<(f64, f64)> = centroids.iter().map(|&(x, y)| warp.apply(x, y)).collect();
    let mut block_street = kmeans(&warped, streets, &mut rng);
    repair_groups(&adj, &weights, &mut block_street, None, "street")?;

    // Communities: within each street, as many as its share of blocks.
    let mut members = vec![Vec::new(); streets];
    for (b, &s) in block_street.iter().enumerate() {
        members[s as usize].push(b);
    }
    let counts = apportion(
        &members.iter().map(Vec::len).collect::<Vec<_>>(),
        community_count(blocks),
    );
    let comm_diam = (area / community_count(blocks) as f64).sqrt();
    let warp = Warp::new(seed ^ 0xC0C0, 0.25 * comm_diam, 1.2 * comm_diam);
    let mut block_comm = vec![0u32; n];
    let mut comm_street = Vec::new();
    for (s, list) in members.iter().enumerate() {
        if list.is_empty() {
            return Err(DemoError::Construction(format!("street {s} has no blocks")));
        }
        let pts: Vec<(f64, f64)> = list
            .iter()
            .map(|&b| warp.apply(centroids[b].0, centroids[b].1))
            .collect();
        let local = kmeans(&pts, counts[s], &mut rng);
        let base = comm_street.len() as u32;
        for (&b, &c) in list.iter().zip(&local) {
            block_comm[b] = base + c;
        }
        comm_street.extend(std::iter::repeat_n(s as u32, counts[s]));
    }
    repair_groups(
        &adj,
        &weights,
        &mut block_comm,
        Some(&comm_street),
        "community",
    )?;
    city.block_comm = block_comm;
    city.comm_street = comm_street;
    city.n_streets = streets;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_scale_with_blocks() {
        assert_eq!(street_count(1200), 10);
        assert_eq!(community_count(1200), 80);
        assert_eq!(street_count(100_000), 40);
        assert_eq!(street_count(50), 3);
        assert_eq!(community_count(20), 3);
    }

    #[test]
    fn apportion_is_exact_and_bounded() {
        let parts = apportion(&[100, 50, 3, 1], 20);
        assert_eq!(parts.iter().sum::<usize>(), 20);
        assert!(parts[0] > parts[1] && parts[3] == 1 && parts[2] <= 3);
        assert_eq!(apportion(&[2, 2], 10), vec![2, 2]);
    }

    #[test]
    fn kmeans_separates_clusters_and_fills_all() {
        let mut pts = Vec::new();
        for k in 0..30 {
            pts.push((k as f64 * 0.01, 0.0));
            pts.push((100.0 + k as f64 * 0.01, 50.0));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let a = kmeans(&pts, 2, &mut rng);
        assert!(a.chunks(2).all(|p| p[0] != p[1]));
        assert!(a.iter().step_by(2).all(|&x| x == a[0]));
        let a = kmeans(&pts, 7, &mut rng);
        for c in 0..7 {
            assert!(a.contains(&c), "cluster {c} empty");
        }
    }
}
