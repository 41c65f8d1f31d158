//! Who gets HTML: a `GET` or `HEAD` whose `Accept` names `text/html` (or
//! XHTML) explicitly, above every JSON type it names. Browsers send
//! exactly that; go's client, scripts with `*/*` and requests without
//! `Accept` keep getting JSON on the very same URLs.

use axum::http::{header, HeaderMap, Method};
use coordinate_rest::wire::MediaType;

/// Whether this request is a browser asking for a page.
pub fn wants_html(method: &Method, headers: &HeaderMap) -> bool {
    if method != Method::GET && method != Method::HEAD {
        return false;
    }
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let (mut html, mut json) = (0.0_f32, 0.0_f32);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if essence == "text/html" || essence == "application/xhtml+xml" {
            html = html.max(quality);
        } else if MediaType::from_essence(&essence).is_some() {
            json = json.max(quality);
        }
    }
    html > 0.0 && html > json
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(value: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::ACCEPT, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn browsers_get_html_and_everyone_else_json() {
        let chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,\
                        image/avif,image/webp,*/*;q=0.8";
        assert!(wants_html(&Method::GET, &accepting(Some(chromium))));
        assert!(wants_html(&Method::HEAD, &accepting(Some("text/html"))));
        for json in [
            None,
            Some("*/*"),
            Some("text/*"),
            Some("application/json"),
            Some("application/vnd.diffeo.coordinate.v1+json"),
            Some("application/json, text/html;q=0.5"),
            Some("text/html, application/json"),
            Some("text/html;q=0"),
            Some("not a header"),
        ] {
            assert!(!wants_html(&Method::GET, &accepting(json)), "{json:?}");
        }
        assert!(!wants_html(&Method::POST, &accepting(Some("text/html"))));
    }
}
