//! Feature properties as every import reads them.

use serde_json::{Map, Value};

/// A string or number property as text; `None` when absent, null or blank.
/// `key` names the property in the message.
pub(crate) fn text(value: Option<&Value>, key: &str) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty())),
        Some(Value::Number(n)) => Ok(Some(match n.as_f64() {
            // 330106001001.0 from a spreadsheet or DBF is the code 330106001001.
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                format!("{}", f as i64)
            }
            _ => n.to_string(),
        })),
        Some(other) => Err(format!(
            "property `{key}` must be a string or number, found {other}"
        )),
    }
}

/// The property `key` of `properties` as [`text`].
pub(crate) fn text_of(
    properties: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, String> {
    text(properties.get(key), key)
}

/// A CSV cell as a property: trimmed text, null when blank.
pub(crate) fn cell_value(cell: &str) -> Value {
    match cell.trim() {
        "" => Value::Null,
        text => Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_of_strings_numbers_and_other_values() {
        let props = json!({"a": " x ", "b": "  ", "c": 330106001001.0, "d": 1.5, "e": 7, "f": [1], "g": null});
        let props = props.as_object().unwrap();
        assert_eq!(text_of(props, "a"), Ok(Some("x".into())));
        assert_eq!(text_of(props, "b"), Ok(None));
        assert_eq!(text_of(props, "c"), Ok(Some("330106001001".into())));
        assert_eq!(text_of(props, "d"), Ok(Some("1.5".into())));
        assert_eq!(text_of(props, "e"), Ok(Some("7".into())));
        assert_eq!(
            text_of(props, "f"),
            Err("property `f` must be a string or number, found [1]".into())
        );
        assert_eq!(text_of(props, "g"), Ok(None));
        assert_eq!(text_of(props, "missing"), Ok(None));
    }

    #[test]
    fn cells_are_trimmed_and_blank_is_null() {
        assert_eq!(cell_value(" 文一路 "), json!("文一路"));
        assert_eq!(cell_value("   "), Value::Null);
    }
}
