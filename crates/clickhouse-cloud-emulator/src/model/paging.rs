//! Cursor pages: `limit` (default 250, capped), an opaque `cursor`, and the
//! envelope's `limit`, `totalCount` and `nextCursor`.
//!
//! A cursor holds the sort key of the last item sent, so a page starts
//! after it even when items before it were deleted in between.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::model::error::ApiError;

/// Items per page when the request does not say.
pub(crate) const DEFAULT_LIMIT: i64 = 250;
/// Most items per page, whatever the request says.
pub(crate) const MAX_LIMIT: i64 = 1000;

/// What the envelope says about a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PageMeta {
    pub(crate) limit: i64,
    pub(crate) total_count: Option<i64>,
    pub(crate) next_cursor: Option<String>,
}

/// One page of `items`, which are sorted by `key` (ascending, unique).
pub(crate) fn page<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> String,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<(Vec<T>, PageMeta), ApiError> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(limit) if limit >= 1 => limit.min(MAX_LIMIT),
        Some(limit) => {
            return Err(ApiError::bad_request(format_args!(
                "limit must be 1 or more, got {limit}"
            )));
        }
    };
    let after = cursor.map(decode).transpose()?;
    let total = items.len();
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|item| {
            after
                .as_deref()
                .is_none_or(|after| key(item).as_str() > after)
        })
        .collect();
    let more = rest.len() as i64 > limit;
    rest.truncate(limit as usize);
    let next_cursor = if more {
        rest.last().map(|last| encode(&key(last)))
    } else {
        None
    };
    Ok((
        rest,
        PageMeta {
            limit,
            total_count: Some(total as i64),
            next_cursor,
        },
    ))
}

fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("after:{key}"))
}

fn decode(cursor: &str) -> Result<String, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("after:").map(str::to_owned))
        .ok_or_else(|| {
            ApiError::bad_request(format_args!(
                "cursor {cursor:?} is not one this server gave out"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{i:04}")).collect()
    }

    #[test]
    fn pages_follow_their_cursors_to_the_end() {
        let (first, meta) = page(keys(5), Clone::clone, Some(2), None).unwrap();
        assert_eq!(first, ["0000", "0001"]);
        assert_eq!((meta.limit, meta.total_count), (2, Some(5)));
        let cursor = meta.next_cursor.unwrap();
        let (second, meta) = page(keys(5), Clone::clone, Some(2), Some(&cursor)).unwrap();
        assert_eq!(second, ["0002", "0003"]);
        let (last, meta) =
            page(keys(5), Clone::clone, Some(2), meta.next_cursor.as_deref()).unwrap();
        assert_eq!(last, ["0004"]);
        assert_eq!(meta.next_cursor, None);
        // The item a cursor points after may be gone: the page still starts after it.
        let fewer: Vec<String> = keys(5).into_iter().filter(|k| k != "0001").collect();
        let (again, _) = page(fewer, Clone::clone, Some(2), Some(&cursor)).unwrap();
        assert_eq!(again, ["0002", "0003"]);
    }

    #[test]
    fn limits_default_cap_and_refuse_nonsense() {
        let (all, meta) = page(keys(300), Clone::clone, None, None).unwrap();
        assert_eq!((all.len(), meta.limit), (250, 250));
        assert!(meta.next_cursor.is_some());
        let (_, meta) = page(keys(3), Clone::clone, Some(5000), None).unwrap();
        assert_eq!((meta.limit, meta.next_cursor), (MAX_LIMIT, None));
        assert!(page(keys(3), Clone::clone, Some(0), None).is_err());
        let error = page(keys(3), Clone::clone, None, Some("nope")).unwrap_err();
        assert!(error.message.contains("cursor"), "{}", error.message);
    }
}
