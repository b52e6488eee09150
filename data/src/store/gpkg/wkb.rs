//! GeoPackage geometry blobs (`GeoPackageBinary`, spec §2.1.3).
//!
//! Layout: `'G' 'P'`, version `0`, a flags byte, the `srs_id` as int32, an
//! optional envelope, then ISO WKB. We always write little endian, envelope
//! type 1 (`[minx, maxx, miny, maxy]`) for non-empty geometries, and set the
//! empty flag (with no envelope) for empty ones, as GDAL does.

use geo_types::{Geometry, MultiPolygon, Point};
use geozero::wkb::{Wkb, WkbDialect, WkbWriter};
use geozero::{GeozeroGeometry, ToGeo};

/// SRS of every geometry we write (WGS 84 longitude/latitude).
pub(crate) const SRS_ID: i32 = 4326;

const MAGIC: &[u8; 2] = b"GP";
const FLAG_LITTLE_ENDIAN: u8 = 0b0000_0001;
const FLAG_ENVELOPE_XY: u8 = 1 << 1;
const FLAG_EMPTY: u8 = 0b0001_0000;
const FLAG_EXTENDED: u8 = 0b0010_0000;

/// An axis-aligned box `[minx, maxx, miny, maxy]` (the GeoPackage envelope order).
pub(crate) type Envelope = [f64; 4];

/// Grows `acc` to cover `env`.
pub(crate) fn union(acc: &mut Option<Envelope>, env: Envelope) {
    *acc = Some(match *acc {
        None => env,
        Some(a) => [
            a[0].min(env[0]),
            a[1].max(env[1]),
            a[2].min(env[2]),
            a[3].max(env[3]),
        ],
    });
}

/// Envelope of all rings (holes too, so even invalid input is covered); `None` when empty.
pub(crate) fn multipolygon_envelope(mp: &MultiPolygon<f64>) -> Option<Envelope> {
    let mut env: Option<Envelope> = None;
    for poly in &mp.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for c in &ring.0 {
                union(&mut env, [c.x, c.x, c.y, c.y]);
            }
        }
    }
    env
}

fn point_is_empty(p: &Point<f64>) -> bool {
    p.x().is_nan() && p.y().is_nan()
}

fn write_header(out: &mut Vec<u8>, envelope: Option<Envelope>, srs_id: i32) {
    out.extend_from_slice(MAGIC);
    out.push(0); // version 1.0 of the binary format
    let flags = match envelope {
        Some(_) => FLAG_LITTLE_ENDIAN | FLAG_ENVELOPE_XY,
        None => FLAG_LITTLE_ENDIAN | FLAG_EMPTY,
    };
    out.push(flags);
    out.extend_from_slice(&srs_id.to_le_bytes());
    if let Some(env) = envelope {
        for v in env {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

fn encode(geom: &Geometry<f64>, envelope: Option<Envelope>, capacity: usize) -> Vec<u8> {
    encode_in(geom, envelope, capacity, SRS_ID)
}

fn encode_in(
    geom: &Geometry<f64>,
    envelope: Option<Envelope>,
    capacity: usize,
    srs_id: i32,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    write_header(&mut out, envelope, srs_id);
    // Plain ISO WKB after our own header: geozero's GeoPackage dialect cannot set the empty flag.
    let mut writer = WkbWriter::new(&mut out, WkbDialect::Wkb);
    geom.process_geom(&mut writer)
        .expect("writing WKB of a geo-types geometry into a Vec cannot fail");
    out
}

/// Encodes a multipolygon as a GeoPackage geometry blob.
pub(crate) fn encode_multipolygon(mp: &MultiPolygon<f64>) -> Vec<u8> {
    let coords: usize =
        mp.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
    // geozero implements its processor for `Geometry` only, hence the clone.
    encode(
        &Geometry::MultiPolygon(mp.clone()),
        multipolygon_envelope(mp),
        40 + 9 + mp.0.len() * 9 + coords * 16 + 64,
    )
}

/// Encodes a point; a point with NaN coordinates is written as the empty point.
pub(crate) fn encode_point(p: &Point<f64>) -> Vec<u8> {
    let env = (!point_is_empty(p)).then(|| [p.x(), p.x(), p.y(), p.y()]);
    encode(&Geometry::Point(*p), env, 61)
}

/// Encodes a (multi)polygon or point in the SRS `srs_id` (exports in
/// another CRS); empty geometries get the empty flag.
pub(crate) fn encode_in_srs(geom: &Geometry<f64>, srs_id: i32) -> Vec<u8> {
    let envelope = match geom {
        Geometry::MultiPolygon(mp) => multipolygon_envelope(mp),
        Geometry::Polygon(p) => multipolygon_envelope(&MultiPolygon(vec![p.clone()])),
        Geometry::Point(p) => (!point_is_empty(p)).then(|| [p.x(), p.x(), p.y(), p.y()]),
        _ => None,
    };
    encode_in(geom, envelope, 256, srs_id)
}

/// Parsed header of a GeoPackage blob.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Header {
    pub empty: bool,
    pub srs_id: i32,
    /// `[minx, maxx, miny, maxy]` when the blob carries an envelope.
    pub envelope: Option<Envelope>,
    /// Offset of the WKB after the header.
    pub wkb_offset: usize,
}

/// Reads and checks the header of a GeoPackage blob.
pub(crate) fn read_header(blob: &[u8]) -> Result<Header, String> {
    if blob.len() < 8 || &blob[..2] != MAGIC {
        return Err("not a GeoPackage geometry blob (missing 'GP' magic)".into());
    }
    if blob[2] != 0 {
        return Err(format!("unsupported GeoPackage binary version {}", blob[2]));
    }
    let flags = blob[3];
    if flags & FLAG_EXTENDED != 0 {
        return Err("extended GeoPackage geometry types are not supported".into());
    }
    let le = flags & FLAG_LITTLE_ENDIAN != 0;
    let read_f64 = |b: &[u8]| {
        let a: [u8; 8] = b.try_into().expect("8-byte slice");
        if le {
            f64::from_le_bytes(a)
        } else {
            f64::from_be_bytes(a)
        }
    };
    let srs: [u8; 4] = blob[4..8].try_into().expect("4-byte slice");
    let srs_id = if le {
        i32::from_le_bytes(srs)
    } else {
        i32::from_be_bytes(srs)
    };
    let doubles = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 4,
        2 | 3 => 6,
        4 => 8,
        other => return Err(format!("invalid envelope indicator {other}")),
    };
    let wkb_offset = 8 + doubles * 8;
    if blob.len() < wkb_offset {
        return Err(format!(
            "blob of {} bytes is shorter than its header",
            blob.len()
        ));
    }
    let envelope = (doubles > 0).then(|| {
        let v: Vec<f64> = (0..4)
            .map(|i| read_f64(&blob[8 + i * 8..16 + i * 8]))
            .collect();
        [v[0], v[1], v[2], v[3]]
    });
    // An envelope of NaNs is how some writers say "empty".
    let envelope = envelope.filter(|e| !e.iter().any(|v| v.is_nan()));
    Ok(Header {
        empty: flags & FLAG_EMPTY != 0,
        srs_id,
        envelope,
        wkb_offset,
    })
}

/// The geometry after a header already read.
///
/// Reads the WKB body with geozero's plain `Wkb` reader: its `GpkgWkb` applies the
/// header's byte order to the WKB body too, which breaks when the two differ.
pub(crate) fn to_geo(blob: &[u8], header: &Header) -> Result<Geometry<f64>, String> {
    Wkb(&blob[header.wkb_offset..])
        .to_geo()
        .map_err(|e| format!("invalid WKB: {e}"))
}

/// Decodes a grid geometry; a Polygon blob (as other tools may write) becomes a one-member multipolygon.
pub(crate) fn decode_multipolygon(blob: &[u8]) -> Result<MultiPolygon<f64>, String> {
    let header = read_header(blob)?;
    if header.empty {
        return Ok(MultiPolygon(Vec::new()));
    }
    match to_geo(blob, &header)? {
        Geometry::MultiPolygon(mp) => Ok(mp),
        Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        other => Err(format!(
            "expected a (multi)polygon, found {}",
            crate::geometry::type_name(&other)
        )),
    }
}

/// Decodes a site location; the empty point becomes `Point(NaN, NaN)`.
pub(crate) fn decode_point(blob: &[u8]) -> Result<Point<f64>, String> {
    let header = read_header(blob)?;
    if header.empty {
        return Ok(Point::new(f64::NAN, f64::NAN));
    }
    match to_geo(blob, &header)? {
        Geometry::Point(p) => Ok(p),
        other => Err(format!(
            "expected a point, found {}",
            crate::geometry::type_name(&other)
        )),
    }
}

/// The envelope of a stored blob: from its header when present, else from its geometry.
pub(crate) fn blob_envelope(blob: &[u8]) -> Result<Option<Envelope>, String> {
    let header = read_header(blob)?;
    if header.empty {
        return Ok(None);
    }
    if header.envelope.is_some() {
        return Ok(header.envelope);
    }
    let mut env = None;
    match to_geo(blob, &header)? {
        Geometry::Point(p) => union(&mut env, [p.x(), p.x(), p.y(), p.y()]),
        Geometry::Polygon(p) => env = multipolygon_envelope(&MultiPolygon(vec![p])),
        Geometry::MultiPolygon(mp) => env = multipolygon_envelope(&mp),
        other => {
            return Err(format!(
                "unexpected geometry {}",
                crate::geometry::type_name(&other)
            ))
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{polygon, LineString, Polygon};

    fn f64_at(b: &[u8], off: usize) -> f64 {
        f64::from_le_bytes(b[off..off + 8].try_into().unwrap())
    }
    fn u32_at(b: &[u8], off: usize) -> u32 {
        u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
    }

    fn square_with_hole() -> Polygon<f64> {
        polygon!(
            exterior: [(x: 116.0, y: 39.0), (x: 116.5, y: 39.0), (x: 116.5, y: 39.5), (x: 116.0, y: 39.5), (x: 116.0, y: 39.0)],
            interiors: [[(x: 116.1, y: 39.1), (x: 116.2, y: 39.1), (x: 116.2, y: 39.2), (x: 116.1, y: 39.1)]],
        )
    }

    #[test]
    fn multipolygon_blob_layout_byte_by_byte() {
        let far = polygon![(x: 117.0, y: 40.0), (x: 117.25, y: 40.0), (x: 117.0, y: 40.75), (x: 117.0, y: 40.0)];
        let mp = MultiPolygon(vec![square_with_hole(), far]);
        let b = encode_multipolygon(&mp);
        assert_eq!(&b[0..2], b"GP");
        assert_eq!(b[2], 0, "version");
        assert_eq!(
            b[3], 0b0000_0011,
            "little endian, envelope type 1, not empty"
        );
        assert_eq!(i32::from_le_bytes(b[4..8].try_into().unwrap()), 4326);
        assert_eq!(
            [
                f64_at(&b, 8),
                f64_at(&b, 16),
                f64_at(&b, 24),
                f64_at(&b, 32)
            ],
            [116.0, 117.25, 39.0, 40.75]
        );
        // ISO WKB: byte order 1, type 6 MultiPolygon, 2 members, first member Polygon with 2 rings.
        assert_eq!(b[40], 1);
        assert_eq!(u32_at(&b, 41), 6);
        assert_eq!(u32_at(&b, 45), 2);
        assert_eq!(b[49], 1);
        assert_eq!(u32_at(&b, 50), 3);
        assert_eq!(u32_at(&b, 54), 2, "exterior + one hole");
        assert_eq!(u32_at(&b, 58), 5, "exterior ring points");
        assert_eq!((f64_at(&b, 62), f64_at(&b, 70)), (116.0, 39.0));
        let expected_len = 40 + 9 + (9 + 4 + 5 * 16 + 4 + 4 * 16) + (9 + 4 + 4 * 16);
        assert_eq!(b.len(), expected_len);
        assert_eq!(decode_multipolygon(&b).unwrap(), mp);
        let h = read_header(&b).unwrap();
        assert_eq!(
            h,
            Header {
                empty: false,
                srs_id: 4326,
                envelope: Some([116.0, 117.25, 39.0, 40.75]),
                wkb_offset: 40
            }
        );
    }

    #[test]
    fn point_blob_layout() {
        let p = Point::new(116.391, 39.907);
        let b = encode_point(&p);
        assert_eq!(b.len(), 40 + 21);
        assert_eq!(&b[0..4], &[b'G', b'P', 0, 3]);
        assert_eq!(
            [
                f64_at(&b, 8),
                f64_at(&b, 16),
                f64_at(&b, 24),
                f64_at(&b, 32)
            ],
            [116.391, 116.391, 39.907, 39.907]
        );
        assert_eq!(b[40], 1);
        assert_eq!(u32_at(&b, 41), 1);
        assert_eq!((f64_at(&b, 45), f64_at(&b, 53)), (116.391, 39.907));
        assert_eq!(decode_point(&b).unwrap(), p);
        assert_eq!(
            blob_envelope(&b).unwrap(),
            Some([116.391, 116.391, 39.907, 39.907])
        );
    }

    #[test]
    fn empty_geometries_set_the_empty_flag_and_no_envelope() {
        let b = encode_multipolygon(&MultiPolygon(vec![]));
        assert_eq!(&b[0..4], &[b'G', b'P', 0, 0b0001_0001]);
        assert_eq!(
            b.len(),
            8 + 9,
            "header without envelope + empty multipolygon"
        );
        assert_eq!(u32_at(&b, 9), 6);
        assert_eq!(u32_at(&b, 13), 0);
        assert_eq!(decode_multipolygon(&b).unwrap(), MultiPolygon(vec![]));
        assert_eq!(blob_envelope(&b).unwrap(), None);

        let b = encode_point(&Point::new(f64::NAN, f64::NAN));
        assert_eq!(b[3], 0b0001_0001);
        assert_eq!(b.len(), 8 + 21);
        assert!(
            f64_at(&b, 13).is_nan() && f64_at(&b, 21).is_nan(),
            "empty point is POINT(NaN NaN)"
        );
        let p = decode_point(&b).unwrap();
        assert!(p.x().is_nan() && p.y().is_nan());
    }

    #[test]
    fn reads_blobs_written_by_other_tools() {
        // Big-endian header with no envelope, holding a Polygon (as some writers do).
        let poly = polygon![(x: 1.0, y: 2.0), (x: 3.0, y: 2.0), (x: 3.0, y: 4.0), (x: 1.0, y: 2.0)];
        let mut b = vec![b'G', b'P', 0, 0];
        b.extend_from_slice(&4326i32.to_be_bytes());
        b.extend_from_slice(
            &geozero::ToWkb::to_wkb(
                &Geometry::Polygon(poly.clone()),
                geozero::CoordDimensions::xy(),
            )
            .unwrap(),
        );
        assert_eq!(read_header(&b).unwrap().srs_id, 4326);
        assert_eq!(decode_multipolygon(&b).unwrap(), MultiPolygon(vec![poly]));
        assert_eq!(blob_envelope(&b).unwrap(), Some([1.0, 3.0, 2.0, 4.0]));
    }

    #[test]
    fn rejects_garbage() {
        assert!(read_header(b"XX\0\0\0\0\0\0")
            .unwrap_err()
            .contains("magic"));
        assert!(read_header(b"GP").is_err());
        let mut b = encode_point(&Point::new(1.0, 2.0));
        b[3] = 0b0000_1011; // envelope indicator 5
        assert!(read_header(&b).unwrap_err().contains("envelope indicator"));
        let b = encode_point(&Point::new(1.0, 2.0));
        assert!(decode_multipolygon(&b).unwrap_err().contains("found Point"));
        assert!(decode_point(&b[..50]).is_err());
        let line = LineString::from(vec![(0.0, 0.0), (1.0, 1.0)]);
        assert!(decode_point(&encode(
            &Geometry::LineString(line),
            Some([0.0, 1.0, 0.0, 1.0]),
            64
        ))
        .unwrap_err()
        .contains("LineString"));
    }
}
