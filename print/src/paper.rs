//! Paper sizes (ISO 216 A series) and orientation.

use std::fmt;
use std::str::FromStr;

/// An ISO A-series sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaperSize {
    A0,
    A1,
    A2,
    A3,
    A4,
}

impl PaperSize {
    pub const ALL: [PaperSize; 5] = [Self::A0, Self::A1, Self::A2, Self::A3, Self::A4];

    /// Width and height in millimetres, portrait.
    pub fn portrait_mm(self) -> (f64, f64) {
        match self {
            Self::A0 => (841.0, 1189.0),
            Self::A1 => (594.0, 841.0),
            Self::A2 => (420.0, 594.0),
            Self::A3 => (297.0, 420.0),
            Self::A4 => (210.0, 297.0),
        }
    }

    /// Width and height in millimetres in the given orientation.
    pub fn mm(self, landscape: bool) -> (f64, f64) {
        let (w, h) = self.portrait_mm();
        if landscape {
            (h, w)
        } else {
            (w, h)
        }
    }
}

impl fmt::Display for PaperSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::A0 => "A0",
            Self::A1 => "A1",
            Self::A2 => "A2",
            Self::A3 => "A3",
            Self::A4 => "A4",
        };
        f.write_str(s)
    }
}

impl FromStr for PaperSize {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.to_string().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown paper size `{s}`; use A0, A1, A2, A3 or A4"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_turn() {
        assert_eq!("a1".parse::<PaperSize>(), Ok(PaperSize::A1));
        assert!("A5".parse::<PaperSize>().is_err());
        assert_eq!(PaperSize::A3.mm(true), (420.0, 297.0));
        // Each size is half the one before.
        for w in PaperSize::ALL.windows(2) {
            let (a, b) = (w[0].portrait_mm(), w[1].portrait_mm());
            assert!((a.0 * a.1 / (b.0 * b.1) - 2.0).abs() < 0.01);
        }
    }
}
