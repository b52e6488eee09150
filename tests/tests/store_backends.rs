//! One store suite, two backends: every case runs on the GeoPackage and on
//! PostGIS (`GRIDMAP_TEST_PG`, see `gridmap_tests::backends`) with the same
//! expectations. Failures that only a server can have (password, host) are
//! PostGIS cases at the end.

use geo_types::{polygon, Coord, LineString, MultiPolygon, Point, Polygon};
use gridmap_data::accounts::Role;
use gridmap_data::history::ChangeRecord;
use gridmap_data::model::{ChangeSet, Grid, GridSystem, Site, SystemGrids, Worker, WorkerGrid};
use gridmap_data::store::{GridStore, ProposalRow, SnapshotParts, StoreError};
use gridmap_tests::backend_tests;
use gridmap_tests::backends::{Backend, PgDatabase, TestStore};
use gridmap_tests::{store_fingerprint, StoreFingerprint};
use serde_json::json;

backend_tests!(
    grids_round_trip_bit_for_bit_with_attributes,
    workers_and_assignments,
    sites_filter_replace_and_delete,
    change_sets_are_all_or_nothing_and_stale_bases_refused,
    concurrent_writers_on_one_base_one_wins,
    accounts_audit_proposals_and_history,
    outside_edits_raise_the_version_until_checked,
    a_newer_schema_is_refused,
    another_applications_database_is_refused_untouched,
);

fn system() -> GridSystem {
    GridSystem::with_default_levels("综治")
}

/// Coordinates no decimal text round trip keeps by accident: the
/// neighbours of round numbers, a subnormal offset, long mantissas.
fn awkward(x: f64, y: f64) -> Polygon<f64> {
    let e = f64::EPSILON;
    let ring = |pts: &[(f64, f64)]| LineString(pts.iter().map(|&(x, y)| Coord { x, y }).collect());
    Polygon::new(
        ring(&[
            (x, y),
            (x + 0.1 + 0.2, y * (1.0 + e)),
            (x + 0.3, y + 0.3),
            (x + 5e-324, y + 0.30000000000000004),
            (x, y),
        ]),
        vec![ring(&[
            (x + 0.1, y + 0.1),
            (x + 0.2, y + 0.1),
            (x + 0.15, y + 0.2),
            (x + 0.1, y + 0.1),
        ])],
    )
}

fn grids() -> Vec<Grid> {
    let mut street = Grid::new(
        "330106001",
        "street",
        None,
        MultiPolygon(vec![
            awkward(120.123456789012345, 30.987654321098765),
            awkward(121.0, 31.0),
        ]),
    )
    .named("西溪街道");
    street.attributes.insert("人口".into(), json!(12345));
    street.attributes.insert("ratio".into(), json!(0.1));
    street
        .attributes
        .insert("big".into(), json!(1.7976931348623157e308));
    street.attributes.insert(
        "nested".into(),
        json!({"a": [1, "二", null, true], "b": {"c": -2.5}}),
    );
    let community = Grid::new(
        "330106001001",
        "community",
        Some("330106001"),
        MultiPolygon(vec![
            polygon![(x: 120.1, y: 30.9), (x: 120.2, y: 30.9), (x: 120.2, y: 31.0), (x: 120.1, y: 30.9)],
        ]),
    );
    let empty = Grid::new(
        "330106001002",
        "community",
        Some("330106001"),
        MultiPolygon(vec![]),
    );
    vec![street, community, empty]
}

fn grid_change(grids: Vec<Grid>) -> ChangeSet {
    ChangeSet {
        grids: vec![SystemGrids::merge(system(), grids)],
        ..Default::default()
    }
}

fn bits(mp: &MultiPolygon<f64>) -> Vec<u64> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.0.iter().flat_map(|c| [c.x.to_bits(), c.y.to_bits()]))
        .collect()
}

fn grids_round_trip_bit_for_bit_with_attributes(backend: Backend) {
    let Some(t) = TestStore::new(backend, "round") else {
        return;
    };
    let want = grids();
    assert_eq!(t.store.apply(&grid_change(want.clone())).unwrap(), 1);
    let got = t.store.grids("综治").unwrap();
    assert_eq!(got, want);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(bits(&g.geometry), bits(&w.geometry), "{}", g.code);
    }
    let snap = t.reopen().snapshot(SnapshotParts::All).unwrap();
    assert_eq!((snap.version, snap.checked), (1, true));
    assert_eq!(snap.systems, vec![(system(), want)]);
    assert!(matches!(t.store.grids("消防"), Err(StoreError::UnknownSystem(s)) if s == "消防"));
}

fn worker(id: &str, grids: &[(&str, &str, f64)]) -> Worker {
    Worker {
        id: id.into(),
        name: format!("网格员{id}"),
        phone: "13800000000".into(),
        role: "网格员".into(),
        photo: String::new(),
        duties: "巡查".into(),
        grids: grids
            .iter()
            .map(|&(system, code, share)| WorkerGrid {
                system: system.into(),
                code: code.into(),
                share,
            })
            .collect(),
    }
}

fn workers_and_assignments(backend: Backend) {
    let Some(t) = TestStore::new(backend, "workers") else {
        return;
    };
    let mut change = grid_change(grids());
    change.workers = vec![
        worker(
            "w2",
            &[("综治", "330106001002", 0.5), ("综治", "330106001001", 1.0)],
        ),
        worker("w1", &[("综治", "330106001001", 0.5), ("消防", "x", 1.0)]),
    ];
    t.store.apply(&change).unwrap();
    let got = t.store.workers().unwrap();
    assert_eq!(
        got.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        ["w1", "w2"]
    );
    assert_eq!(
        got[1], change.workers[0],
        "assignments in the order written"
    );
    // Replacing w1's 综治 assignments keeps its 消防 ones.
    t.store
        .apply(&ChangeSet {
            workers: vec![worker("w1", &[("综治", "330106001002", 1.0)])],
            worker_systems: vec!["综治".into()],
            ..Default::default()
        })
        .unwrap();
    let w1 = &t.store.workers().unwrap()[0];
    let codes: Vec<&str> = w1.grids.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, ["x", "330106001002"]);
    // Deleting a grid drops its assignments; deleting a worker drops the worker.
    let mut delete = SystemGrids::merge(system(), vec![]);
    delete.delete = vec!["330106001002".into()];
    t.store
        .apply(&ChangeSet {
            grids: vec![delete],
            delete_workers: vec!["w2".into()],
            ..Default::default()
        })
        .unwrap();
    let after = t.store.workers().unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].grids.len(), 1, "{:?}", after[0].grids);
    assert_eq!(t.store.grids("综治").unwrap().len(), 2);
}

fn site(kind: &str, id: &str, x: f64, y: f64) -> Site {
    Site {
        id: id.into(),
        kind: kind.into(),
        name: format!("{kind}{id}"),
        address: (id != "2").then(|| format!("文三路{id}号")),
        households: (kind == "address").then_some(4),
        location: Point::new(x, y),
        attributes: [("tel".to_string(), json!("0571"))].into_iter().collect(),
    }
}

fn sites_filter_replace_and_delete(backend: Backend) {
    let Some(t) = TestStore::new(backend, "sites") else {
        return;
    };
    let sites = vec![
        site("school", "1", 120.1, 30.2),
        site("address", "10", 120.123456789012345, 30.30000000000000004),
        site("address", "2", 120.3, 30.4),
    ];
    t.store
        .apply(&ChangeSet {
            sites: sites.clone(),
            ..Default::default()
        })
        .unwrap();
    let all = t.store.sites(None).unwrap();
    let keys: Vec<(&str, &str)> = all
        .iter()
        .map(|s| (s.kind.as_str(), s.id.as_str()))
        .collect();
    assert_eq!(
        keys,
        [("address", "10"), ("address", "2"), ("school", "1")],
        "kind, then id as text"
    );
    assert_eq!(all[0], sites[1]);
    assert_eq!(
        all[0].location.x().to_bits(),
        sites[1].location.x().to_bits()
    );
    assert_eq!(
        t.store.sites(Some("school")).unwrap(),
        vec![sites[0].clone()]
    );
    t.store
        .apply(&ChangeSet {
            sites: vec![site("address", "3", 120.0, 30.0)],
            replace_site_kinds: vec!["address".into()],
            delete_sites: vec![("school".into(), "1".into())],
            ..Default::default()
        })
        .unwrap();
    let ids: Vec<String> = t
        .store
        .sites(None)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["3"]);
}

fn change_sets_are_all_or_nothing_and_stale_bases_refused(backend: Backend) {
    let Some(t) = TestStore::new(backend, "stale") else {
        return;
    };
    let v1 = t.store.apply(&grid_change(grids())).unwrap();
    let before: StoreFingerprint = store_fingerprint(&*t.store);
    // A duplicate code in the change set: refused, nothing written.
    let mut dup = grid_change(vec![grids()[1].clone(), grids()[1].clone()]);
    dup.sites = vec![site("school", "9", 120.0, 30.0)];
    let e = t.store.apply(&dup).unwrap_err();
    assert!(e.to_string().contains("duplicate grid code"), "{e}");
    assert_eq!(store_fingerprint(&*t.store), before);
    // A level the system lacks: refused, nothing written.
    let mut bad = grids()[1].clone();
    bad.level = "county".into();
    assert!(t.store.apply(&grid_change(vec![bad])).is_err());
    assert_eq!(store_fingerprint(&*t.store), before);
    // Made against v1 by another handle after v1 moved on.
    let other = t.reopen();
    let mut change = grid_change(vec![grids()[1].clone().named("改名")]);
    change.base_version = Some(v1);
    assert_eq!(other.apply(&change).unwrap(), v1 + 1);
    assert_eq!(t.store.data_version().unwrap(), v1 + 1);
    let moved = store_fingerprint(&*t.store);
    match t.store.apply(&change) {
        Err(StoreError::StaleBase { base, current }) => assert_eq!((base, current), (v1, v1 + 1)),
        other => panic!("expected StaleBase, got {other:?}"),
    }
    assert_eq!(store_fingerprint(&*t.store), moved);
}

fn concurrent_writers_on_one_base_one_wins(backend: Backend) {
    let Some(t) = TestStore::new(backend, "race") else {
        return;
    };
    let v = t.store.apply(&grid_change(grids())).unwrap();
    let handles: Vec<Box<dyn GridStore>> = (0..4).map(|_| t.reopen()).collect();
    let results: Vec<Result<u64, StoreError>> = std::thread::scope(|s| {
        let joins: Vec<_> = handles
            .iter()
            .enumerate()
            .map(|(i, h)| {
                s.spawn(move || {
                    let mut c = grid_change(vec![grids()[1].clone().named(format!("写者{i}"))]);
                    c.base_version = Some(v);
                    h.apply(&c)
                })
            })
            .collect();
        joins.into_iter().map(|j| j.join().unwrap()).collect()
    });
    let won: Vec<u64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    assert_eq!(won, [v + 1], "{results:?}");
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| matches!(e, StoreError::StaleBase { .. })));
    assert_eq!(t.store.data_version().unwrap(), v + 1);
}

fn accounts_audit_proposals_and_history(backend: Backend) {
    let Some(t) = TestStore::new(backend, "editing") else {
        return;
    };
    let s = &*t.store;
    let a = s.add_account("zhang", Role::Editor, "hash-1").unwrap();
    assert_eq!(
        (a.name.as_str(), a.role, a.revoked.as_deref()),
        ("zhang", Role::Editor, None)
    );
    assert!(
        a.created.ends_with('Z') && a.created.len() == 20,
        "{}",
        a.created
    );
    assert!(
        matches!(s.add_account("zhang", Role::Admin, "hash-2"), Err(StoreError::AccountExists(n)) if n == "zhang")
    );
    s.add_account("li", Role::Admin, "hash-3").unwrap();
    assert_eq!(
        s.account_by_token("hash-1").unwrap().map(|a| a.name),
        Some("zhang".into())
    );
    assert!(s.revoke_account("zhang").unwrap());
    assert!(!s.revoke_account("zhang").unwrap());
    assert_eq!(s.account_by_token("hash-1").unwrap(), None);
    let names: Vec<String> = s.accounts().unwrap().into_iter().map(|a| a.name).collect();
    assert_eq!(names, ["li", "zhang"]);

    for i in 0..3 {
        s.audit("li", "proposal.create", &format!("proposal {i}"), "")
            .unwrap();
    }
    let log = s.audit_log(2, 0).unwrap();
    assert_eq!(
        log.iter().map(|e| e.target.as_str()).collect::<Vec<_>>(),
        ["proposal 2", "proposal 1"]
    );
    assert_eq!(s.audit_log(10, 2).unwrap().len(), 1);

    let draft = ProposalRow {
        id: 0,
        revision: 0,
        system: "综治".into(),
        state: "draft".into(),
        title: "调整".into(),
        author: "li".into(),
        base_version: 0,
        created: String::new(),
        updated: String::new(),
        body: json!({"grids": [1.5, 0.1, "二"]}),
    };
    let saved = s.save_proposal(&draft).unwrap();
    assert_eq!(
        (saved.revision, saved.body.clone()),
        (1, draft.body.clone())
    );
    let mut next = saved.clone();
    next.state = "published".into();
    let again = s.save_proposal(&next).unwrap();
    assert_eq!(
        (again.id, again.revision, again.created.as_str()),
        (saved.id, 2, saved.created.as_str())
    );
    match s.save_proposal(&next) {
        Err(StoreError::ProposalMoved {
            id,
            found: 2,
            expected: 1,
        }) => assert_eq!(id, saved.id),
        other => panic!("expected ProposalMoved, got {other:?}"),
    }
    s.save_proposal(&draft).unwrap();
    assert_eq!(
        s.proposals(Some("综治"), Some("published")).unwrap(),
        vec![again.clone()]
    );
    assert_eq!(s.proposals(None, None).unwrap().len(), 2);
    assert_eq!(s.proposal(saved.id).unwrap(), Some(again));
    assert_eq!(s.proposal(999).unwrap(), None);

    let v1 = s.apply(&grid_change(grids())).unwrap();
    let record = ChangeRecord {
        author: "li".into(),
        title: "改名".into(),
        kind: "edit".into(),
        proposal: Some(saved.id),
        system: "综治".into(),
        before: vec![grids()[1].clone()],
        after: vec![grids()[1].clone().named("新名")],
        ..Default::default()
    };
    let v2 = s
        .apply_recorded(&grid_change(record.after.clone()), &record)
        .unwrap();
    let history = s.history(None, 10, 0).unwrap();
    assert_eq!(
        history.iter().map(|h| h.version).collect::<Vec<_>>(),
        [v2, v1]
    );
    assert_eq!(history[0].record.as_ref(), Some(&record));
    assert_eq!(
        (history[1].kind.as_str(), history[1].record.as_ref()),
        ("import", None)
    );
    assert_eq!(history[0].systems, ["综治"]);
    assert!(s.history(Some("消防"), 10, 0).unwrap().is_empty());
    assert_eq!(s.history(Some("综治"), 1, 1).unwrap()[0].version, v1);
    assert_eq!(s.history_since(v1).unwrap().len(), 1);
    // None of it but the applies raised the version.
    assert_eq!(s.data_version().unwrap(), v2);
}

/// Runs SQL in the store behind `t` as another program would.
fn outside_sql(t: &TestStore, sql: &str) {
    match &t.place {
        gridmap_tests::backends::Place::Dir(_) => {
            let conn = rusqlite::Connection::open(&t.location).unwrap();
            conn.execute_batch(sql).unwrap();
        }
        gridmap_tests::backends::Place::Pg(db) => db.sql(&[sql]),
    }
}

fn outside_edits_raise_the_version_until_checked(backend: Backend) {
    let Some(t) = TestStore::new(backend, "outside") else {
        return;
    };
    let mut change = grid_change(grids());
    change.workers = vec![worker("w1", &[])];
    let v = t.store.apply(&change).unwrap();
    outside_sql(&t, "UPDATE workers SET name = '外部' WHERE id = 'w1'");
    let snap = t.store.snapshot(SnapshotParts::GridsAndWorkers).unwrap();
    assert!(
        snap.version > v && !snap.checked,
        "{} {}",
        snap.version,
        snap.checked
    );
    assert_eq!(snap.workers[0].name, "外部");
    assert!(
        !t.store.mark_checked(v).unwrap(),
        "an old version is not marked"
    );
    assert!(t.store.mark_checked(snap.version).unwrap());
    assert!(
        t.store
            .snapshot(SnapshotParts::GridsAndWorkers)
            .unwrap()
            .checked
    );
}

fn a_newer_schema_is_refused(backend: Backend) {
    let Some(t) = TestStore::new(backend, "newer") else {
        return;
    };
    outside_sql(
        &t,
        "UPDATE gridmap_meta SET value = '99' WHERE key = 'schema_version'",
    );
    match gridmap_data::store::open(&t.location) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported,
        }) => assert!(supported < 99),
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

fn another_applications_database_is_refused_untouched(backend: Backend) {
    match backend {
        Backend::Gpkg => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("tiles.mbtiles");
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch(
                "PRAGMA application_id = 0x4D504258; CREATE TABLE tiles (x INTEGER);",
            )
            .unwrap();
            let e = gridmap_data::store::open(path.to_str().unwrap())
                .unwrap_err()
                .to_string();
            assert!(e.contains("tiles.mbtiles"), "{e}");
            let n: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name LIKE 'gridmap%'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(n, 0);
        }
        Backend::Postgis => {
            let Some(db) = PgDatabase::create("foreign") else {
                return;
            };
            db.sql(&["CREATE TABLE customers (id int)"]);
            let e = gridmap_data::store::open(&db.url).unwrap_err().to_string();
            assert!(
                e.contains("another application") && e.contains("customers"),
                "{e}"
            );
            assert!(!e.contains(&password_of(&db.url)), "{e}");
            // Nothing created: no gridmap table, PostGIS not enabled either.
            let probe = gridmap_tests::backends::with_database(&db.url, &db.name);
            gridmap_tests::backends::admin_sql(
                &probe,
                &["DO $$ BEGIN
                     IF EXISTS (SELECT 1 FROM pg_tables WHERE tablename LIKE 'gridmap%')
                        OR EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')
                     THEN RAISE EXCEPTION 'the refused open created something'; END IF;
                   END $$"
                    .to_string()],
            );
        }
    }
}

fn password_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let auth = rest.rsplit_once('@').map_or("", |(a, _)| a);
    auth.split_once(':')
        .map_or(String::new(), |(_, p)| p.to_string())
}

#[test]
fn postgis_wrong_password_is_one_line_naming_the_fix() {
    let Some(db) = PgDatabase::create("pw") else {
        return;
    };
    let real = password_of(&db.url);
    let url = db
        .url
        .replacen(&format!(":{real}@"), ":not-the-password@", 1);
    let e = gridmap_data::store::open(&url).unwrap_err().to_string();
    assert!(
        e.contains("refused user `gridmap`") && e.contains("password"),
        "{e}"
    );
    assert!(!e.contains("not-the-password") && !e.contains('\n'), "{e}");
    // PGPASSWORD fills in a URL without one.
    let bare = db.url.replacen(&format!(":{real}@"), "@", 1);
    std::env::set_var("PGPASSWORD", &real);
    let opened = gridmap_data::store::open(&bare);
    std::env::remove_var("PGPASSWORD");
    assert!(opened.is_ok(), "{opened:?}");
}

#[test]
fn postgis_unreachable_host_is_one_line_naming_the_fix() {
    if gridmap_tests::backends::pg_admin_url().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://gm:secret@127.0.0.1:{port}/city");
    let e = gridmap_data::store::open(&url).unwrap_err().to_string();
    assert!(
        e.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}")),
        "{e}"
    );
    assert!(
        e.contains("gm:***@") && !e.contains("secret") && !e.contains('\n'),
        "{e}"
    );
}

#[test]
fn postgis_commit_notifies_system_and_version() {
    let Some(t) = TestStore::new(Backend::Postgis, "notify") else {
        return;
    };
    let url = t.location.clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let payloads = rt.block_on(async {
        let (client, mut conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(m) = std::future::poll_fn(|cx| conn.poll_message(cx)).await {
                if let Ok(tokio_postgres::AsyncMessage::Notification(n)) = m {
                    let _ = tx.send(n.payload().to_string());
                }
            }
        });
        client.batch_execute("LISTEN gridmap").await.unwrap();
        let store = t.reopen();
        tokio::task::spawn_blocking(move || store.apply(&grid_change(grids())).unwrap())
            .await
            .unwrap();
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await;
        vec![got.expect("a notification within 10 s").unwrap()]
    });
    let v: serde_json::Value = serde_json::from_str(&payloads[0]).unwrap();
    assert_eq!(v, json!({"system": "综治", "version": 1}));
}

/// The store answers from inside a runtime too (an async handler calling it directly).
#[tokio::test]
async fn postgis_works_when_called_on_a_runtime_thread() {
    let Some(t) = TestStore::new(Backend::Postgis, "inrt") else {
        return;
    };
    assert_eq!(t.store.apply(&grid_change(grids())).unwrap(), 1);
    assert_eq!(t.store.grids("综治").unwrap().len(), 3);
    drop(t);
}

/// `postgis::listen`: the notices of gridmap's commits, then an error when
/// the database drops the connection (the server reconnects on it).
#[test]
fn postgis_listen_delivers_notices_and_says_why_it_stopped() {
    use gridmap_data::store::postgis::{listen, ChangeNotice};
    let Some(t) = TestStore::new(Backend::Postgis, "listen") else {
        return;
    };
    let gridmap_tests::backends::Place::Pg(db) = &t.place else {
        unreachable!()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let url = t.location.clone();
        let task = tokio::spawn(async move {
            listen(&url, tx, move || {
                let _ = ready_tx.send(());
            })
            .await
        });
        ready_rx.await.expect("LISTEN succeeded");
        let store = t.reopen();
        let store = tokio::task::spawn_blocking(move || {
            store
                .apply(&ChangeSet {
                    workers: vec![worker("w1", &[])],
                    ..Default::default()
                })
                .unwrap();
            store.apply(&grid_change(grids())).unwrap();
            store
        })
        .await
        .unwrap();
        let wait = std::time::Duration::from_secs(10);
        let first = tokio::time::timeout(wait, rx.recv())
            .await
            .unwrap()
            .unwrap();
        let second = tokio::time::timeout(wait, rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            first,
            ChangeNotice {
                system: None,
                version: 1
            }
        );
        assert_eq!(
            second,
            ChangeNotice {
                system: Some("综治".into()),
                version: 2
            }
        );
        db.sql(&["SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                  WHERE datname = current_database() AND query = 'LISTEN gridmap'"]);
        let ended = tokio::time::timeout(wait, task)
            .await
            .expect("the listener stops")
            .unwrap();
        assert!(ended.is_err(), "{ended:?}");
        drop(store);
    });
}
