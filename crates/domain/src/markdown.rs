//! Notes are written in Markdown and shown as HTML: the HTML is rendered here and then
//! sanitized, so no client ever has to trust what a user typed.
use pulldown_cmark::{Options, Parser, html};

pub fn to_safe_html(markdown: &str) -> String {
    let mut raw = String::new();
    html::push_html(&mut raw, Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS));
    ammonia::Builder::default().link_rel(Some("noopener noreferrer nofollow")).clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_strips_scripts() {
        let html = to_safe_html("**Важно**: <script>alert(1)</script> [ссылка](javascript:alert(1)) <img src=x onerror=alert(1)>");
        assert!(html.contains("<strong>Важно</strong>"), "{html}");
        assert!(!html.contains("script") && !html.contains("javascript:") && !html.contains("onerror"), "{html}");
    }

    #[test]
    fn links_do_not_leak_the_referrer() {
        assert!(to_safe_html("[x](https://example.com)").contains("noopener noreferrer nofollow"));
    }
}
