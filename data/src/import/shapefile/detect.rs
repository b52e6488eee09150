//! Telling GBK from UTF-8 when neither a `.cpg` nor the DBF's language byte
//! says which: every text is decoded strictly both ways, and the reading
//! that looks like Chinese wins.
//!
//! A strict UTF-8 decode alone is not enough: GBK bytes are often valid
//! UTF-8 by accident — 学校 is `D1 A7 D0 A3` in GBK, which UTF-8 reads as
//! `ѧУ` (Cyrillic). So a file that decodes both ways is read as GBK when
//! its UTF-8 reading is mostly implausible (non-ASCII characters that are
//! neither CJK nor Latin-1 letters nor general punctuation: the Cyrillic,
//! Greek, Hebrew … that GBK turns into) and its GBK reading is Chinese:
//! mostly CJK, and at least 90 % of its two-byte characters in GB2312's
//! common range (both bytes ≥ 0xA1), where real Chinese text lives — text
//! really in Cyrillic or Greek falls mostly outside it.
//!
//! For example GBK `学校` (valid UTF-8 `ѧУ`) is GBK, UTF-8 `学校` is UTF-8,
//! and `Straße` or `Привет` in UTF-8 stay UTF-8 (see the tests).

use encoding_rs::Encoding;

/// Characters of Chinese text: CJK ideographs (unified, extension A,
/// compatibility), CJK punctuation and full-width forms.
fn is_chinese(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF)
}

/// What a UTF-8 reading of Chinese data may plausibly hold besides
/// Chinese: accented Latin letters and general punctuation (“ ” — …).
fn is_plausible(c: char) -> bool {
    is_chinese(c) || matches!(c as u32, 0x00C0..=0x00FF | 0x2000..=0x206F)
}

/// Counts of (matching, other) non-ASCII characters in `text`.
fn census(text: &str, matching: fn(char) -> bool) -> (usize, usize) {
    text.chars()
        .filter(|c| !c.is_ascii())
        .fold((0, 0), |(yes, no), c| {
            if matching(c) {
                (yes + 1, no)
            } else {
                (yes, no + 1)
            }
        })
}

/// Counts of (GB2312-range, other) two-byte characters of GBK `bytes`.
fn gb2312_census(bytes: &[u8]) -> (usize, usize) {
    let (mut common, mut other, mut i) = (0, 0, 0);
    while i < bytes.len() {
        if bytes[i] < 0x80 {
            i += 1;
            continue;
        }
        match bytes.get(i + 1) {
            Some(&trail) if (0xA1..=0xF7).contains(&bytes[i]) && trail >= 0xA1 => common += 1,
            _ => other += 1,
        }
        i += 2;
    }
    (common, other)
}

/// UTF-8 or GBK for the attribute texts of one file (raw bytes, one item
/// per text): GBK when some text is not UTF-8 but every one is GBK, or when
/// every text is both and GBK reads as Chinese while UTF-8 does not;
/// UTF-8 otherwise (then a text that is neither fails to decode later,
/// with the file named).
pub(crate) fn shapefile_text_encoding<'a>(
    texts: impl IntoIterator<Item = &'a [u8]>,
) -> &'static Encoding {
    let (mut utf8_ok, mut gbk_ok) = (true, true);
    let (mut utf8, mut gbk, mut pairs) = ((0, 0), (0, 0), (0, 0));
    let add = |sum: &mut (usize, usize), (a, b): (usize, usize)| {
        *sum = (sum.0 + a, sum.1 + b);
    };
    for bytes in texts {
        match std::str::from_utf8(bytes) {
            Ok(s) => add(&mut utf8, census(s, is_plausible)),
            Err(_) => utf8_ok = false,
        }
        match encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(s) => {
                add(&mut gbk, census(&s, is_chinese));
                add(&mut pairs, gb2312_census(bytes));
            }
            None => gbk_ok = false,
        }
    }
    let gbk_reads_chinese = gbk.0 > gbk.1 && pairs.0 >= 9 * pairs.1;
    match (utf8_ok, gbk_ok) {
        (false, true) => encoding_rs::GBK,
        (true, true) if utf8.1 > utf8.0 && gbk_reads_chinese => encoding_rs::GBK,
        _ => encoding_rs::UTF_8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    #[test]
    fn gbk_that_is_valid_utf8_is_still_gbk() {
        // Every one of these GBK byte strings is valid UTF-8 as well.
        for name in ["学校", "学校门口", "西湖"] {
            let bytes = gbk(name);
            if std::str::from_utf8(&bytes).is_ok() {
                assert_eq!(
                    shapefile_text_encoding([&bytes[..]]),
                    encoding_rs::GBK,
                    "{name}"
                );
            }
        }
        let texts = [gbk("学校"), b"330106".to_vec(), gbk("文新街道")];
        assert_eq!(
            shapefile_text_encoding(texts.iter().map(Vec::as_slice)),
            encoding_rs::GBK
        );
    }

    #[test]
    fn real_utf8_stays_utf8() {
        // Accented Latin and real Cyrillic are valid GBK too, but read
        // plausibly as UTF-8 or fall outside GB2312's common range.
        for text in [
            "学校",
            "Straße",
            "文新街道（东）",
            "café",
            "Привет, мир",
            "“引号”—",
        ] {
            assert_eq!(
                shapefile_text_encoding([text.as_bytes()]),
                encoding_rs::UTF_8,
                "{text}"
            );
        }
    }

    #[test]
    fn bytes_that_are_neither_are_left_to_the_strict_utf8_reader() {
        assert_eq!(
            shapefile_text_encoding([&[0xFF, 0xFE, 0xFD][..]]),
            encoding_rs::UTF_8
        );
    }
}
