//! Query and register text brought to one spelling, so that what a resident
//! types and what a register holds compare equal: full-width forms become
//! ASCII, punctuation and spaces go, Chinese numerals before a unit become
//! digits (`十二幢` → `12幢`), the building words 栋/座/号楼 become 幢, a
//! room's 室 is dropped (`502室` = `502`), and a leading province, city or
//! district (`浙江省杭州市西湖区`) is removed.
//!
//! ```
//! use gridmap_data::search::normalize;
//! assert_eq!(normalize("杭州市西湖区文一路１１５号 翠苑三区十二栋"), "文一路115号翠苑3区12幢");
//! assert_eq!(normalize("3号楼2单元502室"), "3幢2单元502");
//! ```

/// Region names a query or register may start with, longest first within a
/// level; stripped repeatedly from the front. Zhejiang and its Hangzhou
/// districts, where the registers this server ships with lie.
/// Bare district names (`西湖`) are not among them: they begin place names
/// too (`西湖花园`).
const REGION_PREFIXES: [&str; 19] = [
    "中华人民共和国",
    "中国",
    "浙江省",
    "浙江",
    "杭州市",
    "杭州",
    "上城区",
    "拱墅区",
    "西湖区",
    "滨江区",
    "萧山区",
    "余杭区",
    "临平区",
    "钱塘区",
    "富阳区",
    "临安区",
    "桐庐县",
    "淳安县",
    "建德市",
];

/// Words that follow a house, building, unit or room number. A Chinese
/// numeral is read as a number only before one of these, so names such as
/// 三墩 or 九溪 keep their characters.
const UNITS: [&str; 12] = [
    "号楼", "单元", "号", "幢", "栋", "座", "室", "楼", "层", "区", "期", "弄",
];

/// The one spelling of `text` that the index stores and queries compare.
pub fn normalize(text: &str) -> String {
    let plain = fold_width_and_punctuation(text);
    let numbered = numerals_to_digits(&plain);
    let unified = unify_units(&numbered);
    strip_region_prefix(&unified).to_string()
}

/// Full-width forms to ASCII, ASCII lower case, and only letters and digits
/// kept (CJK characters are letters).
fn fold_width_and_punctuation(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn numeral_value(c: char) -> Option<u32> {
    Some(match c {
        '〇' | '零' => 0,
        '一' => 1,
        '二' | '两' => 2,
        '三' => 3,
        '四' => 4,
        '五' => 5,
        '六' => 6,
        '七' => 7,
        '八' => 8,
        '九' => 9,
        _ => return None,
    })
}

fn is_numeral(c: char) -> bool {
    numeral_value(c).is_some() || matches!(c, '十' | '百' | '千')
}

/// The value of a run of Chinese numerals: positional (`一百一十五`, `十二`)
/// or digit by digit (`一一五`).
fn numeral_run_value(run: &[char]) -> Option<u32> {
    if run.iter().any(|c| matches!(c, '十' | '百' | '千')) {
        let (mut total, mut digit) = (0u32, None::<u32>);
        for &c in run {
            let scale = match c {
                '十' => 10,
                '百' => 100,
                '千' => 1000,
                _ => {
                    digit = Some(numeral_value(c)?);
                    continue;
                }
            };
            total += digit.take().unwrap_or(1) * scale;
        }
        Some(total + digit.unwrap_or(0))
    } else {
        run.iter().try_fold(0u32, |acc, &c| {
            acc.checked_mul(10)?.checked_add(numeral_value(c)?)
        })
    }
}

fn unit_at(chars: &[char], at: usize) -> bool {
    UNITS.iter().any(|u| {
        let mut k = at;
        u.chars().all(|uc| {
            let ok = chars.get(k) == Some(&uc);
            k += 1;
            ok
        })
    })
}

/// `十二幢` → `12幢`, `一区` → `1区`; numerals not followed by a unit stay.
fn numerals_to_digits(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if is_numeral(chars[i]) {
            let start = i;
            while i < chars.len() && is_numeral(chars[i]) {
                i += 1;
            }
            let run = &chars[start..i];
            match numeral_run_value(run) {
                Some(v) if unit_at(&chars, i) => out.push_str(&v.to_string()),
                _ => out.extend(run),
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// After a digit or letter: 号楼, 栋 and 座 are 幢; a room's 室 is dropped.
fn unify_units(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let after_number = i > 0 && chars[i - 1].is_ascii_alphanumeric();
        if after_number && chars[i] == '号' && chars.get(i + 1) == Some(&'楼') {
            out.push('幢');
            i += 2;
            continue;
        }
        match chars[i] {
            '栋' | '座' if after_number => out.push('幢'),
            '室' if after_number => {}
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Removes leading region names; a text that is nothing but region names
/// keeps them (a search for `西湖区` looks for those characters).
fn strip_region_prefix(text: &str) -> &str {
    split_region_prefix(text).1
}

/// The region names `text` starts with, and the rest (never empty unless
/// `text` is).
pub(crate) fn split_region_prefix(text: &str) -> (Vec<&'static str>, &str) {
    let mut rest = text;
    let mut regions = Vec::new();
    'strip: loop {
        for p in REGION_PREFIXES {
            if let Some(r) = rest.strip_prefix(p) {
                if !r.is_empty() {
                    regions.push(p);
                    rest = r;
                    continue 'strip;
                }
            }
        }
        return (regions, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_letters_and_spaces() {
        assert_eq!(normalize("文一路　１１５号"), "文一路115号");
        assert_eq!(normalize("Ａ座１２０１"), "a幢1201");
        assert_eq!(normalize(" 翠苑 三区，12幢。"), "翠苑3区12幢");
    }

    #[test]
    fn building_words_are_one() {
        for written in ["5幢", "5栋", "5号楼", "5座", "五幢", "五栋", "五号楼"] {
            assert_eq!(normalize(written), "5幢", "{written}");
        }
        // 号 alone is a house number, not a building.
        assert_eq!(normalize("115号"), "115号");
        // 栋 after a name is not a building number.
        assert_eq!(normalize("栋梁小区"), "栋梁小区");
    }

    #[test]
    fn rooms_and_units() {
        assert_eq!(normalize("2幢1单元301室"), "2幢1单元301");
        assert_eq!(normalize("2幢一单元301"), "2幢1单元301");
        assert_eq!(normalize("教室"), "教室");
    }

    #[test]
    fn chinese_numerals_only_before_a_unit() {
        assert_eq!(normalize("一百一十五号"), "115号");
        assert_eq!(normalize("一一五号"), "115号");
        assert_eq!(normalize("十二幢"), "12幢");
        assert_eq!(normalize("二十幢"), "20幢");
        assert_eq!(normalize("两百零三号"), "203号");
        assert_eq!(normalize("三墩镇"), "三墩镇");
        assert_eq!(normalize("九溪"), "九溪");
        assert_eq!(normalize("文一路"), "文一路");
        assert_eq!(normalize("翠苑一区"), "翠苑1区");
    }

    #[test]
    fn region_prefixes_are_optional() {
        let full = "浙江省杭州市西湖区文三路90号";
        for q in [
            full,
            "杭州市西湖区文三路90号",
            "西湖区文三路90号",
            "杭州文三路90号",
            "文三路90号",
        ] {
            assert_eq!(normalize(q), "文三路90号", "{q}");
        }
        // Only at the front, and never down to nothing.
        assert_eq!(normalize("西湖区"), "西湖区");
        assert_eq!(normalize("杭州西湖"), "西湖");
        assert_eq!(normalize("西湖区西湖花园"), "西湖花园");
        assert_eq!(normalize("文三路西湖区"), "文三路西湖区");
    }

    #[test]
    fn empty_and_punctuation_only() {
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("，。！ "), "");
    }
}
