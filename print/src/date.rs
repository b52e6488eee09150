//! The printed date: given (`--date`, so output can be reproduced) or today.

use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date, printed as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintDate {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

impl PrintDate {
    /// Parses `YYYY-MM-DD`, checking the day exists.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = || format!("date `{s}` is not YYYY-MM-DD");
        let mut parts = s.trim().split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        let day: u32 = d.parse().map_err(|_| bad())?;
        if y.len() != 4 || !(1..=12).contains(&month) || day == 0 || day > days_in(year, month) {
            return Err(bad());
        }
        Ok(Self { year, month, day })
    }

    /// Today in China Standard Time (UTC+8), where the boards hang.
    pub fn today() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Self::from_days((secs + 8 * 3600).div_euclid(86_400))
    }

    /// The civil date `days` after 1970-01-01 (H. Hinnant's algorithm).
    fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }
}

impl std::fmt::Display for PrintDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_check_and_count() {
        assert_eq!(
            PrintDate::parse("2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
        for bad in ["2023-02-29", "2024-13-01", "24-01-01", "2024-1", "x"] {
            assert!(PrintDate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(PrintDate::from_days(0).to_string(), "1970-01-01");
        assert_eq!(PrintDate::from_days(19_782).to_string(), "2024-02-29");
        assert_eq!(PrintDate::from_days(-1).to_string(), "1969-12-31");
    }
}
