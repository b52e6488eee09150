//! Recognising a supported [`Crs`] from ESRI `.prj` / OGC WKT 1 or WKT 2
//! text. Only what is needed to identify the CRS is read: a small WKT tree
//! parser, then the top-level EPSG authority, names, datum and parameters.

use super::projected::{gk_code_for, gk_params};
use super::{Crs, CrsError};

/// A WKT value: quoted text, a number, a bare word (e.g. `EAST`) or a node.
#[derive(Debug)]
enum Arg {
    Text(String),
    Num(f64),
    Node(Node),
}

/// `KEYWORD[arg, ...]`; the keyword is upper-cased.
#[derive(Debug)]
struct Node {
    key: String,
    args: Vec<Arg>,
}

impl Node {
    /// The first argument when it is text: the object's name.
    fn name(&self) -> Option<&str> {
        match self.args.first() {
            Some(Arg::Text(s)) => Some(s),
            _ => None,
        }
    }

    fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.args.iter().filter_map(|a| match a {
            Arg::Node(n) => Some(n),
            _ => None,
        })
    }

    /// First direct child with one of `keys`.
    fn child(&self, keys: &[&str]) -> Option<&Node> {
        self.nodes().find(|n| keys.contains(&n.key.as_str()))
    }

    /// All descendants (depth-first, self excluded) with one of `keys`.
    fn descendants<'a>(&'a self, keys: &[&str], out: &mut Vec<&'a Node>) {
        for n in self.nodes() {
            if keys.contains(&n.key.as_str()) {
                out.push(n);
            }
            n.descendants(keys, out);
        }
    }

    fn find(&self, keys: &[&str]) -> Option<&Node> {
        let mut out = Vec::new();
        self.descendants(keys, &mut out);
        out.into_iter().next()
    }

    /// The n-th argument as a number (numbers may also be quoted).
    fn num(&self, i: usize) -> Option<f64> {
        match self.args.get(i)? {
            Arg::Num(v) => Some(*v),
            Arg::Text(s) => s.trim().parse().ok(),
            Arg::Node(_) => None,
        }
    }
}

fn prj_err(reason: impl Into<String>) -> CrsError {
    CrsError::Prj {
        reason: reason.into(),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.i).copied()
    }

    fn word(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric()
                || matches!(self.s[self.i], b'_' | b'.' | b'-' | b'+'))
        {
            self.i += 1;
        }
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn quoted(&mut self) -> Result<String, CrsError> {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(prj_err("unterminated quoted string")),
                // WKT 2 escapes a quote by doubling it.
                Some(b'"') if self.s.get(self.i + 1) == Some(&b'"') => {
                    out.push(b'"');
                    self.i += 2;
                }
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn node_after_keyword(&mut self, key: String) -> Result<Node, CrsError> {
        let close = match self.peek() {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => {
                return Err(prj_err(format!(
                    "expected '[' after {key} at byte {}",
                    self.i
                )))
            }
        };
        self.i += 1;
        let mut args = Vec::new();
        if self.peek() == Some(close) {
            self.i += 1;
            return Ok(Node { key, args });
        }
        loop {
            args.push(self.value()?);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Ok(Node { key, args });
                }
                _ => {
                    return Err(prj_err(format!(
                        "expected ',' or closing bracket in {key} at byte {}",
                        self.i
                    )))
                }
            }
        }
    }

    fn value(&mut self) -> Result<Arg, CrsError> {
        match self.peek() {
            Some(b'"') => Ok(Arg::Text(self.quoted()?)),
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.' | b'_') => {
                let w = self.word();
                if matches!(self.peek(), Some(b'[') | Some(b'(')) {
                    return Ok(Arg::Node(self.node_after_keyword(w.to_ascii_uppercase())?));
                }
                Ok(w.parse::<f64>().map(Arg::Num).unwrap_or(Arg::Text(w)))
            }
            Some(c) => Err(prj_err(format!(
                "unexpected character {:?} at byte {}",
                c as char, self.i
            ))),
            None => Err(prj_err("unexpected end of text")),
        }
    }
}

fn parse_wkt(text: &str) -> Result<Node, CrsError> {
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() {
        return Err(prj_err("the text is empty"));
    }
    crate::nesting::check(text).map_err(prj_err)?;
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    match p.value()? {
        Arg::Node(n) => {
            if p.peek().is_some() {
                return Err(prj_err(format!(
                    "unexpected text after the CRS at byte {}",
                    p.i
                )));
            }
            Ok(n)
        }
        _ => Err(prj_err(
            "expected a WKT object such as PROJCS[...] or GEOGCS[...]",
        )),
    }
}

/// Lower-case with every run of non-alphanumerics collapsed to one `_`.
fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

const GEOG_KEYS: &[&str] = &[
    "GEOGCS",
    "GEOGCRS",
    "GEODCRS",
    "GEOGRAPHICCRS",
    "GEODETICCRS",
];
const BASE_GEOG_KEYS: &[&str] = &["GEOGCS", "BASEGEOGCRS", "BASEGEODCRS"];
const PROJ_KEYS: &[&str] = &["PROJCS", "PROJCRS", "PROJECTEDCRS"];

/// Which of the two accepted geodetic frames a geographic CRS node uses.
fn geographic_crs(geog: &Node) -> Result<Crs, CrsError> {
    let datum = geog.find(&["DATUM", "GEODETICDATUM", "TRF", "ENSEMBLE"]);
    let datum_name = datum
        .and_then(Node::name)
        .or_else(|| geog.name())
        .unwrap_or("");
    for name in [datum_name, geog.name().unwrap_or("")] {
        let n = normalize(name).replace('_', "");
        if n.contains("china2000")
            || n.contains("cgcs2000")
            || n.contains("chinageodeticcoordinatesystem2000")
        {
            return Ok(Crs::Cgcs2000);
        }
        if n.contains("wgs1984") || n.contains("wgs84") || n.contains("worldgeodeticsystem1984") {
            return Ok(Crs::Wgs84);
        }
    }
    Err(prj_err(format!(
        "datum {datum_name:?} is not supported: only WGS 84 and CGCS2000 (China_2000) are; \
         Beijing 1954 / Xian 1980 data must be reprojected to CGCS2000 first"
    )))
}

/// An `AUTHORITY["EPSG","4528"]` / `ID["EPSG",4528]` directly on the root.
fn top_level_authority(root: &Node) -> Option<(String, Option<u32>)> {
    let auth = root.child(&["AUTHORITY", "ID"])?;
    let org = auth.name()?.to_string();
    let code = auth
        .num(1)
        .filter(|v| v.fract() == 0.0 && *v > 0.0)
        .map(|v| v as u32);
    Some((org, code))
}

fn param(root: &Node, names: &[&str]) -> Option<f64> {
    let mut params = Vec::new();
    root.descendants(&["PARAMETER"], &mut params);
    params
        .into_iter()
        .find(|p| {
            p.name()
                .is_some_and(|n| names.contains(&normalize(n).as_str()))
        })
        .and_then(|p| p.num(1))
}

/// The Gauss-Krüger code a projected CRS name spells, e.g.
/// `CGCS2000_3_Degree_GK_Zone_40` or `CGCS2000 / 3-degree Gauss-Kruger CM 120E`.
fn gk_code_from_name(name: &str) -> Option<u16> {
    let n = normalize(name);
    let rest = n.strip_prefix("cgcs2000_3_degree_")?;
    let rest = ["gk_", "gauss_kruger_", "gauss_krüger_"]
        .iter()
        .find_map(|p| rest.strip_prefix(p))?;
    if let Some(zone) = rest.strip_prefix("zone_") {
        let zone: u16 = zone.parse().ok()?;
        return (25..=45).contains(&zone).then(|| 4513 + zone - 25);
    }
    let cm: f64 = rest.strip_prefix("cm_")?.strip_suffix('e')?.parse().ok()?;
    gk_code_for(cm, 500_000.0)
}

fn is_web_mercator(root: &Node, name: &str) -> bool {
    const NAMES: &[&str] = &[
        "wgs_1984_web_mercator_auxiliary_sphere",
        "wgs_1984_web_mercator",
        "wgs_84_pseudo_mercator",
        "popular_visualisation_crs_mercator",
        "google_maps_global_mercator",
    ];
    const METHODS: &[&str] = &[
        "mercator_auxiliary_sphere",
        "popular_visualisation_pseudo_mercator",
    ];
    NAMES.contains(&normalize(name).as_str())
        || root
            .find(&["PROJECTION", "METHOD"])
            .and_then(Node::name)
            .is_some_and(|m| METHODS.contains(&normalize(m).as_str()))
}

/// Identifies a PROJCS as a CGCS2000 3-degree Gauss-Krüger system from its
/// name and/or its parameters; when both are present they must agree.
fn projected_gk(root: &Node, name: &str) -> Result<Crs, CrsError> {
    let by_name = gk_code_from_name(name);
    let method = root
        .find(&["PROJECTION", "METHOD"])
        .and_then(Node::name)
        .map(normalize);
    let is_tm = method
        .as_deref()
        .is_some_and(|m| matches!(m, "transverse_mercator" | "gauss_kruger"));
    let cm = param(
        root,
        &[
            "central_meridian",
            "longitude_of_natural_origin",
            "longitude_of_origin",
        ],
    );
    let fe = param(root, &["false_easting"]);
    let by_params = match (is_tm, cm, fe) {
        (true, Some(cm), Some(fe)) => {
            let checks = [
                (
                    "scale factor",
                    param(root, &["scale_factor", "scale_factor_at_natural_origin"]),
                    1.0,
                ),
                (
                    "latitude of origin",
                    param(root, &["latitude_of_origin", "latitude_of_natural_origin"]),
                    0.0,
                ),
                ("false northing", param(root, &["false_northing"]), 0.0),
            ];
            for (what, value, want) in checks {
                if let Some(v) = value.filter(|v| (v - want).abs() > 1e-9) {
                    return Err(prj_err(format!(
                        "{name:?}: {what} is {v}, but CGCS2000 3-degree Gauss-Krüger uses {want}"
                    )));
                }
            }
            let code = gk_code_for(cm, fe).ok_or_else(|| {
                prj_err(format!(
                    "{name:?}: transverse Mercator with central meridian {cm} and false easting \
                     {fe} is not a CGCS2000 3-degree Gauss-Krüger system (central meridian a \
                     multiple of 3 in 75..135, false easting 500000 or zone*1000000+500000)"
                ))
            })?;
            Some(code)
        }
        _ => None,
    };
    let code = match (by_name, by_params) {
        (Some(a), Some(b)) if a != b => {
            return Err(prj_err(format!(
                "{name:?}: the name means EPSG:{a} but the parameters mean EPSG:{b}"
            )))
        }
        (Some(c), _) | (None, Some(c)) => c,
        (None, None) => {
            return Err(prj_err(format!(
                "projected CRS {name:?} (method {}) is not supported; supported projected \
                 systems are CGCS2000 3-degree Gauss-Krüger (EPSG:4513..4554) and Web Mercator \
                 (EPSG:3857)",
                method.as_deref().unwrap_or("unknown")
            )))
        }
    };
    let base = root
        .child(BASE_GEOG_KEYS)
        .ok_or_else(|| prj_err(format!("{name:?} has no geographic base CRS (GEOGCS)")))?;
    geographic_crs(base)?;
    check_linear_unit(root, name)?;
    debug_assert!(gk_params(code).is_some());
    Ok(Crs::GaussKruger(code))
}

/// Projected coordinates must be in metres.
fn check_linear_unit(root: &Node, name: &str) -> Result<(), CrsError> {
    let mut units: Vec<&Node> = root
        .nodes()
        .filter(|n| matches!(n.key.as_str(), "UNIT" | "LENGTHUNIT"))
        .collect();
    // WKT 2 puts the unit on each AXIS instead.
    for axis in root.nodes().filter(|n| n.key == "AXIS") {
        units.extend(
            axis.nodes()
                .filter(|n| matches!(n.key.as_str(), "UNIT" | "LENGTHUNIT")),
        );
    }
    for u in units {
        if let Some(f) = u.num(1).filter(|f| (f - 1.0).abs() > 1e-12) {
            return Err(prj_err(format!(
                "{name:?} uses unit {:?} ({f} m); only metres are supported",
                u.name().unwrap_or("?")
            )));
        }
    }
    Ok(())
}

/// See [`Crs::from_prj`].
pub(crate) fn from_prj(wkt: &str) -> Result<Crs, CrsError> {
    let root = parse_wkt(wkt)?;
    if let Some((org, code)) = top_level_authority(&root) {
        if org.eq_ignore_ascii_case("EPSG") || org.eq_ignore_ascii_case("ESRI") {
            let code =
                code.ok_or_else(|| prj_err("the top-level AUTHORITY has no numeric code"))?;
            return Crs::from_epsg(code)
                .map_err(|e| prj_err(format!("top-level AUTHORITY {org}:{code}: {e}")));
        }
    }
    let name = root.name().unwrap_or("").to_string();
    if GEOG_KEYS.contains(&root.key.as_str()) {
        return geographic_crs(&root);
    }
    if PROJ_KEYS.contains(&root.key.as_str()) {
        if is_web_mercator(&root, &name) {
            return Ok(Crs::WebMercator);
        }
        return projected_gk(&root, &name);
    }
    Err(prj_err(format!(
        "unsupported WKT object {}[{name:?}]; expected GEOGCS or PROJCS",
        root.key
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESRI_WGS84: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_CGCS2000: &str = r#"GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    const ESRI_GK_ZONE_40: &str = r#"PROJCS["CGCS2000_3_Degree_GK_Zone_40",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",40500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_GK_CM_120E: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_WEB_MERCATOR: &str = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;
    const ESRI_XIAN80_GK: &str = r#"PROJCS["Xian_1980_3_Degree_GK_CM_120E",GEOGCS["GCS_Xian_1980",DATUM["D_Xian_1980",SPHEROID["Xian_1980",6378140.0,298.257]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    #[test]
    fn esri_prj_files() {
        assert_eq!(from_prj(ESRI_WGS84).unwrap(), Crs::Wgs84);
        assert_eq!(from_prj(ESRI_CGCS2000).unwrap(), Crs::Cgcs2000);
        assert_eq!(from_prj(ESRI_GK_ZONE_40).unwrap(), Crs::GaussKruger(4528));
        assert_eq!(from_prj(ESRI_GK_CM_120E).unwrap(), Crs::GaussKruger(4549));
        assert_eq!(from_prj(ESRI_WEB_MERCATOR).unwrap(), Crs::WebMercator);
        // With a UTF-8 BOM and trailing newline, as some tools write them.
        assert_eq!(
            from_prj(&format!("\u{feff}{ESRI_GK_ZONE_40}\r\n")).unwrap(),
            Crs::GaussKruger(4528)
        );
    }

    #[test]
    fn epsg_wkt_from_crs_definitions() {
        // The OGC WKT 1 texts (with AUTHORITY) for every supported code.
        for code in [4326u16, 4490, 3857].into_iter().chain(4513..=4554) {
            let def = crs_definitions::from_code(code).unwrap();
            let crs = from_prj(def.wkt).unwrap();
            assert_eq!(crs, Crs::from_epsg(u32::from(code)).unwrap(), "{code}");
        }
    }

    #[test]
    fn parameters_identify_unnamed_gk() {
        let renamed = ESRI_GK_ZONE_40.replace("CGCS2000_3_Degree_GK_Zone_40", "my_local_grid");
        assert_eq!(from_prj(&renamed).unwrap(), Crs::GaussKruger(4528));
        let renamed = ESRI_GK_CM_120E
            .replace("CGCS2000_3_Degree_GK_CM_120E", "unnamed")
            .replace("Gauss_Kruger", "Transverse_Mercator")
            .replace("120.0", "117.0");
        assert_eq!(from_prj(&renamed).unwrap(), Crs::GaussKruger(4548));
    }

    #[test]
    fn names_alone_are_enough() {
        let wkt = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 40",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101]]],UNIT["metre",1]]"#;
        assert_eq!(from_prj(wkt).unwrap(), Crs::GaussKruger(4528));
        assert_eq!(gk_code_from_name("CGCS2000_3_Degree_GK_CM_75E"), Some(4534));
        assert_eq!(
            gk_code_from_name("CGCS2000_3_Degree_GK_Zone_45"),
            Some(4533)
        );
        assert_eq!(gk_code_from_name("CGCS2000_3_Degree_GK_Zone_46"), None);
        assert_eq!(gk_code_from_name("CGCS2000_3_Degree_GK_CM_121E"), None);
    }

    #[test]
    fn top_level_authority_wins() {
        // Name says zone 40, authority says 4549: the authority decides.
        let wkt = ESRI_GK_ZONE_40.replace(
            r#"UNIT["Meter",1.0]]"#,
            r#"UNIT["Meter",1.0],AUTHORITY["EPSG","4549"]]"#,
        );
        assert_eq!(from_prj(&wkt).unwrap(), Crs::GaussKruger(4549));
        // WKT 2 ID.
        let wkt2 = r#"GEOGCRS["WGS 84",ENSEMBLE["World Geodetic System 1984 ensemble",MEMBER["World Geodetic System 1984 (G2139)"],ELLIPSOID["WGS 84",6378137,298.257223563,LENGTHUNIT["metre",1]]],PRIMEM["Greenwich",0,ANGLEUNIT["degree",0.0174532925199433]],CS[ellipsoidal,2],AXIS["geodetic latitude (Lat)",north],AXIS["geodetic longitude (Lon)",east],ANGLEUNIT["degree",0.0174532925199433],ID["EPSG",4326]]"#;
        assert_eq!(from_prj(wkt2).unwrap(), Crs::Wgs84);
        // Unsupported authority code: clear error.
        let e = from_prj(r#"GEOGCS["Beijing 1954",DATUM["Beijing_1954",SPHEROID["Krassowsky 1940",6378245,298.3]],AUTHORITY["EPSG","4214"]]"#).unwrap_err();
        assert!(e.to_string().contains("EPSG:4214"), "{e}");
    }

    #[test]
    fn wkt2_projected_by_parameters() {
        let wkt = r#"PROJCRS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",BASEGEOGCRS["China Geodetic Coordinate System 2000",DATUM["China 2000",ELLIPSOID["CGCS2000",6378137,298.257222101,LENGTHUNIT["metre",1]]]],CONVERSION["3-degree Gauss-Kruger CM 120E",METHOD["Transverse Mercator"],PARAMETER["Latitude of natural origin",0],PARAMETER["Longitude of natural origin",120],PARAMETER["Scale factor at natural origin",1],PARAMETER["False easting",500000],PARAMETER["False northing",0]],CS[Cartesian,2],AXIS["northing (X)",north,LENGTHUNIT["metre",1]],AXIS["easting (Y)",east,LENGTHUNIT["metre",1]]]"#;
        assert_eq!(from_prj(wkt).unwrap(), Crs::GaussKruger(4549));
    }

    #[test]
    fn unsupported_and_malformed_texts_are_explained() {
        let e = from_prj(ESRI_XIAN80_GK).unwrap_err().to_string();
        assert!(e.contains("D_Xian_1980") && e.contains("CGCS2000"), "{e}");
        let e = from_prj(
            &ESRI_GK_CM_120E
                .replace("121.0", "x")
                .replace("120.0", "121.0"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("central meridian 121"), "{e}");
        let e = from_prj(&ESRI_GK_CM_120E.replace(
            r#"UNIT["Meter",1.0]]"#,
            r#"UNIT["Foot_US",0.3048006096012192]]"#,
        ))
        .unwrap_err()
        .to_string();
        assert!(e.contains("Foot_US"), "{e}");
        let e = from_prj(&ESRI_GK_ZONE_40.replace("40500000.0", "500000.0"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("EPSG:4528") && e.contains("EPSG:4549"), "{e}");
        assert!(from_prj("").unwrap_err().to_string().contains("empty"));
        assert!(from_prj(r#"GEOGCS["x",DATUM["y""#).is_err());
        assert!(from_prj(&format!("{ESRI_WGS84}]")).is_err());
    }
}
