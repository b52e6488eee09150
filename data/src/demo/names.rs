//! Names for the demo city: streets, communities, people, roads, businesses,
//! and the reading order that numbers grids.

use super::DemoError;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// Real streets (街道) and towns (镇) of 西湖区, roughly from north to south, so
/// that names given in reading order land near their real place.
pub(crate) const STREETS: [&str; 12] = [
    "三墩镇",
    "蒋村街道",
    "文新街道",
    "古荡街道",
    "翠苑街道",
    "西溪街道",
    "北山街道",
    "留下街道",
    "灵隐街道",
    "西湖街道",
    "转塘街道",
    "双浦镇",
];

/// Community names in the style of the district (used first, in shuffled order).
const COMMUNITIES: [&str; 48] = [
    "翠苑一区",
    "翠苑二区",
    "翠苑三区",
    "翠苑四区",
    "桂花",
    "文鼎",
    "嘉绿",
    "益乐",
    "古荡新村",
    "古荡湾",
    "学院路",
    "文新",
    "骆家庄",
    "蒋村花园",
    "五联",
    "庆丰",
    "西溪花园",
    "府苑",
    "竞舟",
    "北山",
    "保俶",
    "曙光",
    "黄龙",
    "求是",
    "玉古",
    "莲花",
    "华星",
    "紫荆",
    "留下",
    "屏基",
    "杨家牌楼",
    "龙章",
    "转塘",
    "袁浦",
    "双浦",
    "灵隐",
    "茅家埠",
    "龙井",
    "梅家坞",
    "九溪",
    "满觉陇",
    "杨家",
    "三墩",
    "紫金港",
    "兰里",
    "振华",
    "西城",
    "星洲",
];

/// Two-character name parts for generated community and street names.
const FIRST: [&str; 40] = [
    "桂", "文", "嘉", "益", "翠", "古", "金", "银", "玉", "竹", "松", "梅", "兰", "荷", "柳", "枫",
    "丰", "和", "华", "明", "新", "青", "清", "景", "瑞", "祥", "安", "康", "宁", "泰", "福", "德",
    "云", "锦", "春", "秋", "晨", "星", "月", "芳",
];
const SECOND: [&str; 30] = [
    "花", "鼎", "绿", "乐", "苑", "园", "庭", "湖", "溪", "山", "桥", "塘", "源", "城", "景", "兴",
    "屏", "港", "岭", "湾", "坞", "林", "川", "泉", "坊", "里", "府", "洲", "岸", "堤",
];
const QUARTERS: [&str; 9] = [
    "一区", "二区", "三区", "四区", "五区", "六区", "七区", "八区", "九区",
];

/// Real roads of 西湖区 for addresses.
pub(crate) const ROADS: [&str; 40] = [
    "文三路",
    "文二路",
    "文一路",
    "天目山路",
    "教工路",
    "古墩路",
    "紫金港路",
    "学院路",
    "保俶路",
    "曙光路",
    "黄姑山路",
    "莫干山路",
    "万塘路",
    "马塍路",
    "西溪路",
    "余杭塘路",
    "文一西路",
    "丰潭路",
    "三墩路",
    "留和路",
    "之江路",
    "转塘路",
    "龙井路",
    "灵隐路",
    "北山路",
    "杨公堤",
    "玉古路",
    "求是路",
    "花园北路",
    "益乐路",
    "竞舟路",
    "星洲路",
    "华星路",
    "嘉绿路",
    "五常大道",
    "西园路",
    "振华路",
    "申花路",
    "紫荆花路",
    "双浦路",
];

const SURNAMES: [&str; 60] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "沈",
    "姚", "卢", "姜", "钟", "陆", "汪", "范", "金", "方", "俞", "楼", "应",
];
const GIVEN: [&str; 60] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "建", "国", "文", "玲", "斌", "辉", "燕", "红",
    "萍", "琳", "鹏", "宇", "浩", "晨", "婷", "雪", "佳", "欣", "怡", "峰", "海", "波", "丹", "莉",
    "红", "亮", "军", "晓", "春", "梅", "志", "俊", "慧", "颖", "思", "嘉",
];

const COMPANY_WORDS: [&str; 24] = [
    "云栖", "数联", "智汇", "西溪", "之江", "恒信", "博文", "嘉禾", "锦程", "华策", "启明", "安恒",
    "星辰", "优品", "禾丰", "睿达", "天工", "东信", "鼎盛", "海纳", "青芒", "同创", "众合", "宏图",
];
const COMPANY_TRADES: [&str; 10] = [
    "科技",
    "网络科技",
    "信息技术",
    "电子商务",
    "文化创意",
    "贸易",
    "建筑工程",
    "物业管理",
    "教育咨询",
    "医疗器械",
];
pub(crate) const FIRE_RISK: [(&str, &str); 9] = [
    ("小超市", "九小场所"),
    ("小旅馆", "九小场所"),
    ("美发店", "九小场所"),
    ("小作坊", "九小场所"),
    ("足浴店", "九小场所"),
    ("棋牌室", "九小场所"),
    ("仓储中心", "消防重点单位"),
    ("商场", "消防重点单位"),
    ("养老院", "消防重点单位"),
];
const FOOD: [&str; 10] = [
    "面馆",
    "小吃店",
    "快餐店",
    "包子铺",
    "火锅店",
    "奶茶店",
    "烘焙坊",
    "便利店",
    "饺子馆",
    "茶餐厅",
];

/// Endings of residential compound names: `桂花苑`, `文鼎花园`, `翠苑三区`.
const COMPOUND_ENDINGS: [&str; 8] = ["苑", "花园", "小区", "新村", "家园", "公寓", "府", "庭"];

/// Residential compound (小区) names, one per block, distinct while the
/// combinations last (about 57,600), then repeating in the same order: a very
/// large demo city has compounds of the same name on different roads, as real
/// cities do.
pub(crate) fn compound_names(n: usize, rng: &mut ChaCha8Rng) -> Vec<String> {
    let combos = pairs(rng);
    let mut plain: Vec<String> = combos
        .iter()
        .flat_map(|c| COMPOUND_ENDINGS.iter().map(move |e| format!("{c}{e}")))
        .chain(
            combos
                .iter()
                .flat_map(|c| QUARTERS[..6].iter().map(move |q| format!("{c}{q}"))),
        )
        .collect();
    plain.shuffle(rng);
    let mut quartered: Vec<String> = combos
        .iter()
        .flat_map(|c| {
            COMPOUND_ENDINGS[..6]
                .iter()
                .flat_map(move |e| QUARTERS[..6].iter().map(move |q| format!("{c}{e}{q}")))
        })
        .collect();
    quartered.shuffle(rng);
    plain.extend(quartered);
    plain.iter().cycle().take(n).cloned().collect()
}

/// `base` if no site of the register has that name yet, else another draw of
/// `redraw`, else `base` with a branch suffix (`（文一路店）`), as registers
/// tell same-named shops apart. Records the name it returns.
pub(crate) fn unique_name(
    base: String,
    branch: &str,
    used: &mut HashSet<String>,
    rng: &mut ChaCha8Rng,
    redraw: impl Fn(&mut ChaCha8Rng) -> String,
) -> String {
    let mut candidate = base.clone();
    for _ in 0..8 {
        if used.insert(candidate.clone()) {
            return candidate;
        }
        candidate = redraw(rng);
    }
    let mut k = 1;
    loop {
        let named = if k == 1 {
            format!("{base}（{branch}店）")
        } else {
            format!("{base}（{branch}{k}店）")
        };
        if used.insert(named.clone()) {
            return named;
        }
        k += 1;
    }
}

/// A company name from the naming stream, with two brand words.
pub(crate) fn company_long(rng: &mut ChaCha8Rng) -> String {
    let w = COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())];
    let v = COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())];
    let t = COMPANY_TRADES[rng.random_range(0..COMPANY_TRADES.len())];
    format!("杭州{w}{v}{t}有限公司")
}

/// The reading order of sibling grids, used to number them `001`, `002`, …
///
/// Rule: with `n` points (longitude, latitude), split the latitude span of the
/// points into `rows = max(1, round(sqrt(n)))` equal bands from north to south;
/// a point's row is `min(rows - 1, floor((lat_max - lat) / band))` (all in row 0
/// when the span is zero). Points are ordered by row (north first), then by
/// longitude (west first), then by input index. The demo applies it to each
/// grid's label point (attribute `label_point`, an interior point) within its
/// parent (streets within the district).
pub fn reading_order(points: &[(f64, f64)]) -> Vec<usize> {
    let n = points.len();
    let rows = ((n as f64).sqrt().round() as usize).max(1);
    let lat_max = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let lat_min = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let band = (lat_max - lat_min) / rows as f64;
    let row = |lat: f64| {
        if band > 0.0 {
            (((lat_max - lat) / band).floor() as usize).min(rows - 1)
        } else {
            0
        }
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| {
        row(points[a].1)
            .cmp(&row(points[b].1))
            .then(points[a].0.total_cmp(&points[b].0))
            .then(a.cmp(&b))
    });
    order
}

/// Street names in reading order: up to 12 real names spread evenly over the
/// north-to-south list, beyond that all real names then generated `XX街道`.
pub(crate) fn street_names(n: usize, rng: &mut ChaCha8Rng) -> Vec<String> {
    if n <= STREETS.len() {
        let last = STREETS.len() - 1;
        return (0..n)
            .map(|k| {
                let at = if n == 1 {
                    0
                } else {
                    (k * last + (n - 1) / 2) / (n - 1)
                };
                STREETS[at].to_string()
            })
            .collect();
    }
    let mut names: Vec<String> = STREETS.iter().map(|s| s.to_string()).collect();
    let mut generated = pairs(rng);
    generated.retain(|p| !COMMUNITIES.contains(&p.as_str()));
    names.extend(generated.into_iter().map(|p| format!("{p}街道")));
    names.truncate(n);
    names
}

/// All two-character combinations, shuffled.
fn pairs(rng: &mut ChaCha8Rng) -> Vec<String> {
    let mut v: Vec<String> = FIRST
        .iter()
        .flat_map(|a| SECOND.iter().map(move |b| format!("{a}{b}")))
        .collect();
    v.shuffle(rng);
    v
}

/// `n` distinct community names `XX社区`.
pub(crate) fn community_names(n: usize, rng: &mut ChaCha8Rng) -> Result<Vec<String>, DemoError> {
    let mut base: Vec<String> = COMMUNITIES.iter().map(|s| s.to_string()).collect();
    base.shuffle(rng);
    let combos = pairs(rng);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    let quartered = combos
        .iter()
        .flat_map(|c| QUARTERS.iter().map(move |q| format!("{c}{q}")));
    for name in base
        .into_iter()
        .chain(combos.iter().cloned())
        .chain(quartered)
    {
        if out.len() == n {
            break;
        }
        if seen.insert(name.clone()) {
            out.push(format!("{name}社区"));
        }
    }
    if out.len() < n {
        return Err(DemoError::Options(format!(
            "only {} distinct community names for {n} communities",
            out.len()
        )));
    }
    Ok(out)
}

/// A Chinese personal name: surname plus one or two given-name characters.
pub(crate) fn person(rng: &mut ChaCha8Rng) -> String {
    let mut s = SURNAMES[rng.random_range(0..SURNAMES.len())].to_string();
    let len = if rng.random_bool(0.7) { 2 } else { 1 };
    for _ in 0..len {
        s.push_str(GIVEN[rng.random_range(0..GIVEN.len())]);
    }
    s
}

/// A mobile number that is well-formed but made up, unique among `used`.
pub(crate) fn phone(rng: &mut ChaCha8Rng, used: &mut HashSet<String>) -> String {
    loop {
        let prefix = ["139", "138", "137"][rng.random_range(0..3)];
        let p = format!("{prefix}{:08}", rng.random_range(0..100_000_000u32));
        if used.insert(p.clone()) {
            return p;
        }
    }
}

pub(crate) fn company(rng: &mut ChaCha8Rng) -> String {
    let w = COMPANY_WORDS[rng.random_range(0..COMPANY_WORDS.len())];
    let t = COMPANY_TRADES[rng.random_range(0..COMPANY_TRADES.len())];
    format!("杭州{w}{t}有限公司")
}

/// A shop-style name: a two-character brand and a kind, e.g. `桂花面馆`.
pub(crate) fn shop(rng: &mut ChaCha8Rng, kind: &str) -> String {
    let a = FIRST[rng.random_range(0..FIRST.len())];
    let b = SECOND[rng.random_range(0..SECOND.len())];
    format!("{a}{b}{kind}")
}

pub(crate) fn food(rng: &mut ChaCha8Rng) -> String {
    let kind = FOOD[rng.random_range(0..FOOD.len())];
    shop(rng, kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn reading_order_rows_then_west_to_east() {
        // Two rows of two: north row first, west first within each row.
        let pts = [(120.2, 30.0), (120.1, 30.0), (120.2, 30.3), (120.1, 30.29)];
        assert_eq!(reading_order(&pts), vec![3, 2, 1, 0]);
        assert_eq!(reading_order(&[(1.0, 1.0)]), vec![0]);
        assert_eq!(reading_order(&[(2.0, 1.0), (1.0, 1.0)]), vec![1, 0]);
    }

    #[test]
    fn community_names_are_unique_and_plentiful() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let names = community_names(10_000, &mut rng).unwrap();
        let set: HashSet<_> = names.iter().collect();
        assert_eq!(set.len(), 10_000);
        assert!(names
            .iter()
            .all(|n| n.ends_with("社区") && n.chars().count() >= 4));
        assert!(community_names(100_000, &mut rng).is_err());
    }

    #[test]
    fn streets_start_with_real_names() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s = street_names(20, &mut rng);
        assert_eq!(s.len(), 20);
        assert_eq!(s[0], "三墩镇");
        assert_eq!(s.iter().collect::<HashSet<_>>().len(), 20);
        for n in 1..=12 {
            let s = street_names(n, &mut rng);
            assert_eq!(s.iter().collect::<HashSet<_>>().len(), n);
            assert_eq!(s[0], "三墩镇");
            if n > 1 {
                assert_eq!(s[n - 1], "双浦镇");
            }
        }
    }

    #[test]
    fn compounds_are_distinct_while_combinations_last() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let names = compound_names(50_000, &mut rng);
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), 50_000);
        assert!(names.iter().take(100).any(|n| n.ends_with("区")));
        assert!(names
            .iter()
            .take(100)
            .any(|n| n.ends_with("苑") || n.ends_with("花园")));
        assert_eq!(compound_names(80_000, &mut rng).len(), 80_000);
    }

    #[test]
    fn unique_names_redraw_then_name_a_branch() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut used = HashSet::new();
        let same = |_: &mut ChaCha8Rng| "桂花面馆".to_string();
        let a = unique_name("桂花面馆".into(), "文一路", &mut used, &mut rng, same);
        let b = unique_name("桂花面馆".into(), "文一路", &mut used, &mut rng, same);
        let c = unique_name("桂花面馆".into(), "文一路", &mut used, &mut rng, same);
        assert_eq!(
            (a.as_str(), b.as_str(), c.as_str()),
            ("桂花面馆", "桂花面馆（文一路店）", "桂花面馆（文一路2店）")
        );
    }

    #[test]
    fn phones_are_unique_mobile_numbers() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut used = HashSet::new();
        for _ in 0..1000 {
            let p = phone(&mut rng, &mut used);
            assert_eq!(p.len(), 11);
            assert!(p.starts_with("13") && p.bytes().all(|b| b.is_ascii_digit()));
        }
        assert_eq!(used.len(), 1000);
        let name = person(&mut rng);
        assert!((2..=3).contains(&name.chars().count()));
    }
}
